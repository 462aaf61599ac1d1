package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// TestDevPushPairsAPhone enrolls a push authenticator through the API with
// the demo's development provider: verify waits for the POST that stands for
// the phone, and a deleted method's pairing URL stops answering.
func TestDevPushPairsAPhone(t *testing.T) {
	base, out := startDemo(t, "-tenant-rate", "0", "-user-rate", "0")
	token := devToken(t, base)
	e := begin(t, base, token, `{"type":"push-notification"}`)
	handle, ok := strings.CutPrefix(e.BarcodeURI, base+"/dev/push/")
	if !ok || len(handle) < 26 {
		t.Fatalf("barcode_uri %q is not a pairing URL under %s", e.BarcodeURI, base)
	}
	if status := verifyStatus(t, base, token, e, ""); status != 400 {
		t.Fatalf("verify before the phone confirmed: %d", status)
	}
	if status, _, _ := call(t, "POST", base+"/dev/push/"+strings.ToLower(handle), "", ""); status != 404 {
		t.Errorf("a pairing URL never handed out: %d", status)
	}
	if status, _, _ := call(t, "GET", e.BarcodeURI, "", ""); status != 405 {
		t.Errorf("GET of the pairing URL: %d", status)
	}
	for range 2 { // confirming twice is fine
		if status, _, body := call(t, "POST", e.BarcodeURI, "", ""); status != 204 {
			t.Fatalf("the phone confirming: %d %s", status, body)
		}
	}
	if status := verifyStatus(t, base, token, e, ""); status != 201 {
		t.Fatalf("verify after the phone confirmed: %d", status)
	}
	if status, _, body := call(t, "GET", base+"/me/v1/authentication-methods", token, ""); status != 200 ||
		!strings.Contains(string(body), `"id":"`+e.ID+`"`) || !strings.Contains(string(body), `"type":"push-notification"`) {
		t.Fatalf("the list: %d %s", status, body)
	}
	if status, _, body := call(t, "DELETE", base+"/me/v1/authentication-methods/"+url.PathEscape(e.ID), token, ""); status != 204 {
		t.Fatalf("delete: %d %s", status, body)
	}
	if status, _, _ := call(t, "POST", e.BarcodeURI, "", ""); status != 404 {
		t.Errorf("the pairing URL of a deleted method: %d, want 404 (the device removed)", status)
	}
	if strings.Contains(out.String(), handle) {
		t.Error("the demo logged a pairing handle")
	}
}

func TestDevPushIsLoopbackOnly(t *testing.T) {
	p := newDevPush("http://localhost:8080")
	uri, _, err := p.BeginPairing(t.Context(), "iss", "sub", "push-notification|dev_x")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /dev/push/{handle}", p.handler())
	req := httptest.NewRequest("POST", uri, nil)
	req.RemoteAddr = "192.0.2.7:40000"
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	if w.Code != 403 {
		t.Errorf("from 192.0.2.7: %d", w.Code)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	if w.Code != 204 {
		t.Errorf("from loopback: %d", w.Code)
	}
}

// TestDevPushStateIsBounded: unconfirmed pairings expire, the table is
// capped, and old confirmed pairings make room when it is full.
func TestDevPushStateIsBounded(t *testing.T) {
	ctx := t.Context()
	now := time.Unix(1_800_000_000, 0)
	p := newDevPush("http://localhost:8080")
	p.now = func() time.Time { return now }
	p.max = 3
	handles := make([]string, 3)
	for i := range handles {
		_, h, err := p.BeginPairing(ctx, "iss", "sub", "id")
		if err != nil {
			t.Fatal(err)
		}
		handles[i] = h
	}
	if _, _, err := p.BeginPairing(ctx, "iss", "sub", "id"); err == nil {
		t.Fatal("a fourth live pairing was taken into a table of 3")
	}
	if !p.confirm(handles[0]) {
		t.Fatal("could not confirm a live pairing")
	}
	now = now.Add(devPushTTL)
	if p.confirm(handles[1]) || confirmed(t, p, handles[1]) {
		t.Error("an expired pairing was confirmed")
	}
	if !confirmed(t, p, handles[0]) {
		t.Error("a confirmed pairing was forgotten at the ttl while there was room")
	}
	// One slot is free (the pairing expired above is gone); then the table is
	// full, and the expired unconfirmed pairing goes first, the old confirmed one next.
	for range 3 {
		if _, _, err := p.BeginPairing(ctx, "iss", "sub", "id"); err != nil {
			t.Fatalf("the table kept expired pairings: %v", err)
		}
	}
	if confirmed(t, p, handles[0]) || len(p.pairings) != 3 {
		t.Errorf("after making room: %d pairings, the old confirmed one kept: %v", len(p.pairings), confirmed(t, p, handles[0]))
	}
	if _, _, err := p.BeginPairing(ctx, "iss", "sub", "id"); err == nil {
		t.Error("a full table of live pairings took another")
	}
	if err := p.RemoveDevice(ctx, "unknown"); err != nil {
		t.Errorf("removing an unknown device: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := p.BeginPairing(canceled, "iss", "sub", "id"); err == nil {
		t.Error("began a pairing for a request that ended")
	}
}

func confirmed(t *testing.T, p *devPush, handle string) bool {
	t.Helper()
	ok, err := p.Confirmed(t.Context(), handle)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestPushIsOfferedWithAnyIssuer: pointed at another issuer with -issuer, the
// demo still offers push-notification, the ninth type, and its development
// provider pairs a phone.
func TestPushIsOfferedWithAnyIssuer(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	base, _ := startDemo(t, "-issuer", iss.Issuer, "-tenant-rate", "0", "-user-rate", "0")
	token := iss.Token(t, "auth0|carol", myaccount.AllScopes()...)
	status, _, body := call(t, "GET", base+"/me/v1/factors", token, "")
	if status != 200 || !strings.Contains(string(body), `"type":"push-notification"`) {
		t.Fatalf("factors with -issuer %s: %d %s", iss.Issuer, status, body)
	}
	e := begin(t, base, token, `{"type":"push-notification"}`)
	if status, _, body := call(t, "POST", e.BarcodeURI, "", ""); status != 204 {
		t.Fatalf("the phone confirming %s: %d %s", e.BarcodeURI, status, body)
	}
	if status := verifyStatus(t, base, token, e, ""); status != 201 {
		t.Fatalf("verify: %d", status)
	}
}
