package main

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestQRCodeOfATOTPEnrollment(t *testing.T) {
	base, out := startDemo(t, "-tenant-rate", "0", "-user-rate", "0")
	e := begin(t, base, devToken(t, base), `{"type":"totp"}`)
	if !strings.HasPrefix(e.BarcodeURI, "otpauth://totp/") {
		t.Fatalf("barcode_uri %q", e.BarcodeURI)
	}
	resp, err := http.Post(base+"/dev/qr", "text/plain", strings.NewReader(e.BarcodeURI))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("POST /dev/qr: %d %v", resp.StatusCode, resp.Header)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil || img.Bounds().Dx() != qrSize || img.Bounds().Dy() != qrSize {
		t.Fatalf("the QR code: %v %v", img.Bounds(), err)
	}
	// A QR code is dark and light modules: both colours appear.
	dark, light := 0, 0
	for y := range qrSize {
		for x := range qrSize {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				dark++
			} else {
				light++
			}
		}
	}
	if dark < qrSize*qrSize/4 || light < qrSize*qrSize/4 {
		t.Errorf("%d dark and %d light pixels", dark, light)
	}
	secret := e.BarcodeURI[strings.Index(e.BarcodeURI, "secret=")+7:][:16]
	if strings.Contains(out.String(), secret) {
		t.Error("the demo logged the TOTP secret")
	}
}

// TestQRCodeOfAPushPairing: the page draws the push pairing URL too, and
// only a URL of this demo's development push provider.
func TestQRCodeOfAPushPairing(t *testing.T) {
	base, _ := startDemo(t, "-tenant-rate", "0", "-user-rate", "0")
	e := begin(t, base, devToken(t, base), `{"type":"push-notification"}`)
	for _, tt := range []struct {
		body   string
		status int
	}{
		{e.BarcodeURI, 200},
		{strings.Replace(e.BarcodeURI, "localhost", "127.0.0.1", 1), 400},
		{"https://example.com/dev/push/ABC", 400},
		{base + "/dev/push/", 400},
		{base + "/dev/token?sub=x", 400},
	} {
		resp, err := http.Post(base+"/dev/qr", "text/plain", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("POST /dev/qr %q: %d %s", tt.body, resp.StatusCode, body)
			continue
		}
		if tt.status == 200 {
			if img, err := png.Decode(bytes.NewReader(body)); err != nil || img.Bounds().Dx() != qrSize {
				t.Errorf("the QR code of %q: %v", tt.body, err)
			}
		}
	}
}

func TestQRCodeRefusesOtherBodies(t *testing.T) {
	base, _ := startDemo(t)
	for _, tt := range []struct {
		body   string
		status int
	}{
		{"", 400},
		{"https://example.com/", 400},
		{"otpauth://%zz", 400},
		{"otpauth://totp/x?secret=" + strings.Repeat("A", 3000), 413},
	} {
		resp, err := http.Post(base+"/dev/qr", "text/plain", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") == "image/png" {
			t.Errorf("POST /dev/qr %.40q: %d", tt.body, resp.StatusCode)
		}
	}
	if status, _, _ := call(t, "GET", base+"/dev/qr?uri=otpauth://totp/x", "", ""); status != 405 {
		t.Errorf("GET /dev/qr: %d", status)
	}
}
