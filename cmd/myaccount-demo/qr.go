package main

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"
)

// maxOTPAuthURI bounds the body of POST /dev/qr; the API's barcode_uri is a
// few hundred bytes.
const maxOTPAuthURI = 2048

// qrSize is the width and height of the QR code image in pixels.
const qrSize = 240

// qrHandler serves POST /dev/qr: the body is the barcode_uri of an enrollment,
// an otpauth:// URI (totp) or a push pairing URL of this demo's development
// push provider (http(s)://{this host}/dev/push/...), and the answer is its QR
// code as a PNG, drawn with the encoder github.com/pquerna/otp uses. The URI
// holds a secret, so it comes in a body, not a URL, and is neither logged nor
// cached. Other URIs are refused: the demo draws no QR code for another site.
func qrHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOTPAuthURI))
		if err != nil {
			http.Error(w, "the body must be a barcode_uri of at most 2048 bytes", http.StatusRequestEntityTooLarge)
			return
		}
		uri := string(body)
		if !isOTPAuthURI(uri) && !isPushPairingURL(uri, r.Host) {
			http.Error(w, "the body must be an otpauth:// URI or a push pairing URL of this demo", http.StatusBadRequest)
			return
		}
		code, err := qr.Encode(uri, qr.M, qr.Auto)
		if err == nil {
			code, err = barcode.Scale(code, qrSize, qrSize)
		}
		if err != nil {
			http.Error(w, "the URI does not fit in a QR code", http.StatusBadRequest)
			return
		}
		var out bytes.Buffer
		if err := png.Encode(&out, code); err != nil {
			http.Error(w, "could not draw the QR code", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(out.Bytes())
	})
}

// isOTPAuthURI reports whether uri is an otpauth:// key URI.
func isOTPAuthURI(uri string) bool {
	if !strings.HasPrefix(uri, "otpauth://") {
		return false
	}
	_, err := otp.NewKeyFromURL(uri)
	return err == nil
}

// isPushPairingURL reports whether uri is a pairing URL of the development
// push provider on host, the demo the request came to.
func isPushPairingURL(uri, host string) bool {
	u, err := url.Parse(uri)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host == host &&
		strings.HasPrefix(u.Path, "/dev/push/") && len(u.Path) > len("/dev/push/") && u.RawQuery == "" && u.User == nil
}
