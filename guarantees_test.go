package myaccount_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
)

// respell returns other spellings of an auth_session that a lenient base64url
// decoder reads as the same bytes (or as bytes differing only in unused
// trailing bits), as the review sent them.
func respell(s string) []string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	spellings := []string{"\r" + s, "\r\r" + s, "\n" + s, s[:len(s)/2] + "\n" + s[len(s)/2:], s + "\r\n", " " + s, s + "=",
		s[:len(s)-1] + string(alphabet[last^1])} // the lowest bit of the last character: unused when len%4 != 0
	for i := 1; i <= 20; i++ {
		spellings = append(spellings, strings.Repeat("\n", i)+s)
	}
	return spellings
}

// TestAuthSessionHasOneSpelling replays the review's attack on M1: after five
// wrong email codes, respelt sessions are refused as invalid sessions (400 at
// /auth_session), never evaluated as new ones; and the right code sent with a
// respelling never gives a second method.
func TestAuthSessionHasOneSpelling(t *testing.T) {
	box := &outbox{}
	h := newHarness(t, withOutbox(box))
	alice := h.token("auth0|alice")
	verify := func(e map[string]any, session, code string) *response {
		return h.finish(alice, e["id"].(string), map[string]any{"auth_session": session, "otp_code": code})
	}

	e := h.start(alice, map[string]any{"type": "email", "email": "alice@example.com"})
	session, right := e["auth_session"].(string), box.last(t).Code
	wrong := fmt.Sprintf("%06d", (atoi(right)+1)%1000000)
	for range 5 {
		wantPointer(t, verify(e, session, wrong), "/otp_code")
	}
	for _, s := range respell(session) {
		r := verify(e, s, wrong)
		wantPointer(t, r, "/auth_session")
		wantPointer(t, verify(e, s, right), "/auth_session")
	}
	wantPointer(t, verify(e, session, right), "/auth_session")

	// A fresh session: its respellings are refused before and after the
	// right code is accepted once under its one spelling.
	e = h.start(alice, map[string]any{"type": "email", "email": "alice@example.com"})
	session, right = e["auth_session"].(string), box.last(t).Code
	for _, s := range respell(session) {
		wantPointer(t, verify(e, s, right), "/auth_session")
	}
	wantStatus(t, verify(e, session, right), http.StatusCreated)
	for _, s := range append(respell(session), session) {
		if r := verify(e, s, right); r.status == http.StatusCreated {
			t.Fatalf("a second 201 with %q", s)
		}
	}
	if n := len(h.list(alice, myaccount.TypeEmail)); n != 1 {
		t.Errorf("%d email methods, want 1", n)
	}
}
