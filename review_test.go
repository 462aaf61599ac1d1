package myaccount_test

import (
	"net/http"
	"strings"
	"testing"
)

// These tests replay what a hostile client's review of the demo found after
// issue 18, each named after the guarantee it proves.

// A body that names a member twice is refused: a proxy or log that reads
// the first of two members must not see another request than the one served.
func TestEveryBodyMemberHasOneSpelling(t *testing.T) {
	box := &outbox{}
	h := newHarness(t, withOutbox(box))
	token := h.token("auth0|alice")
	for name, body := range map[string]string{
		"twice":   `{"type":"email","email":"first@example.com","email":"second@example.com"}`,
		"escaped": `{"type":"passkey","typ\u0065":"totp"}`,
	} {
		r := h.do("POST", "/me/v1/authentication-methods", token, body)
		wantStatus(t, r, http.StatusBadRequest)
		if !strings.Contains(string(r.body), "must appear once") {
			t.Errorf("%s: %s", name, r.body)
		}
	}
	if len(box.sent) != 0 {
		t.Errorf("sent %v", box.sent)
	}
}

// An email address that is not valid UTF-8 is refused rather than decoded
// into U+FFFD and sent a code at an address the client never wrote.
func TestEmailIsValidUTF8(t *testing.T) {
	box := &outbox{}
	h := newHarness(t, withOutbox(box))
	token := h.token("auth0|alice")
	for _, body := range []string{
		"{\"type\":\"email\",\"email\":\"u\xff@example.com\"}",
		"{\"type\":\"email\",\"email\":\"u\xc0\xae@example.com\"}",
		`{"type":"email","email":"a\ud800@example.com"}`,
	} {
		r := h.do("POST", "/me/v1/authentication-methods", token, body)
		wantStatus(t, r, http.StatusBadRequest)
		wantPointer(t, r, "/email")
	}
	if len(box.sent) != 0 {
		t.Errorf("sent %v", box.sent)
	}
}

// Every spelling of one mailbox shares its send quota: case, Unicode forms
// of its domain (NFC, NFD, full width, punycode) and plus addressing.
func TestSendQuotaHasOneSpellingOfADestination(t *testing.T) {
	box := &outbox{}
	h := newHarness(t, withOutbox(box))
	spellings := []string{
		"rs@xn--bcher-kva.example", "rs@bücher.example", "rs@bu\u0308cher.example",
		"rs@\uff42ücher.example", "RS+news@BÜCHER.example", "rs+1@bücher.example",
	}
	for i, address := range spellings {
		// a user each, so that only the destination's quota (5) can refuse
		token := h.token("auth0|user" + string(rune('a'+i)))
		r := h.do("POST", "/me/v1/authentication-methods", token, map[string]any{"type": "email", "email": address})
		if want := http.StatusAccepted; i >= 5 {
			wantStatus(t, r, http.StatusTooManyRequests)
		} else {
			wantStatus(t, r, want)
		}
	}
	if len(box.sent) != 5 {
		t.Errorf("%d codes sent to one mailbox, want 5", len(box.sent))
	}
}
