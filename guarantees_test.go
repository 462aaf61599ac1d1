package myaccount_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

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

// storeThatMustNotBeAsked fails the test on any call.
type storeThatMustNotBeAsked struct {
	myaccount.Store
	t *testing.T
}

func (s storeThatMustNotBeAsked) fail(what string) { s.t.Errorf("the store was asked: %s", what) }

func (s storeThatMustNotBeAsked) CreateMethod(context.Context, *myaccount.Method, int, myaccount.SessionRef) error {
	s.fail("CreateMethod")
	return myaccount.ErrNotFound
}

func (s storeThatMustNotBeAsked) ListMethods(context.Context, string, string, string) ([]*myaccount.Method, error) {
	s.fail("ListMethods")
	return nil, nil
}

func (s storeThatMustNotBeAsked) GetMethod(_ context.Context, _, _, id string) (*myaccount.Method, error) {
	s.fail("GetMethod " + strconv.Quote(id))
	return nil, myaccount.ErrNotFound
}

func (s storeThatMustNotBeAsked) UpdateMethod(_ context.Context, _, _, id string, _ myaccount.MethodUpdate) (*myaccount.Method, error) {
	s.fail("UpdateMethod " + strconv.Quote(id))
	return nil, myaccount.ErrNotFound
}

func (s storeThatMustNotBeAsked) DeleteMethod(_ context.Context, _, _, id string) error {
	s.fail("DeleteMethod " + strconv.Quote(id))
	return myaccount.ErrNotFound
}

func (s storeThatMustNotBeAsked) UserHandle(context.Context, string, string, []byte) ([]byte, error) {
	s.fail("UserHandle")
	return nil, myaccount.ErrNotFound
}

func (s storeThatMustNotBeAsked) SpendSession(context.Context, myaccount.SessionRef) error {
	s.fail("SpendSession")
	return nil
}

func (s storeThatMustNotBeAsked) CountAttempt(context.Context, myaccount.SessionRef, int) error {
	s.fail("CountAttempt")
	return nil
}

func (s storeThatMustNotBeAsked) SetSecret(context.Context, string, string, string, []byte, time.Time, int, myaccount.SessionRef) (*myaccount.Method, error) {
	s.fail("SetSecret")
	return nil, myaccount.ErrNotFound
}

// offGrammarIDs are escaped path segments that are no method's id: the
// review's NUL, invalid UTF-8 and overlong encoding, and near misses of the
// grammar.
var offGrammarIDs = []string{
	"x%00y", "x%FFy", "x%C0%80", "totp%7Cdev_AAAAAAAA%00AAAAAAA", "passkey%7Cdev_AAAAAAAAAAAAAAA%FF",
	"totp%7Cdev_AAAAAAAAAAAAAAA", "totp%7Cdev_AAAAAAAAAAAAAAAAA", "TOTP%7Cdev_AAAAAAAAAAAAAAAA",
	"fax%7Cdev_AAAAAAAAAAAAAAAA", "totp%7Cnew", "passkey%7Cnew%00", "%E2%80%AEtotp%7Cdev_AAAAAAAAAAAAAAAA",
	"totp%7Cdev_AAAAAAAAAAAAAAA%C3%A9", "totp%7Cdev_AAAAAAAA-AAAAAAA", "totp%7Cdev%5FAAAAAAAAAAAAAAAA%20",
}

// TestMethodIDOffGrammarIs404BeforeStore proves L1: an id off the grammar is
// 404 on GET, PATCH, DELETE and verify, and no store method is called.
func TestMethodIDOffGrammarIs404BeforeStore(t *testing.T) {
	h := newHarness(t, withOutbox(&outbox{}), func(c *myaccount.Config) {
		c.Store, c.SecretKeys = storeThatMustNotBeAsked{myaccount.NewMemoryStore(), t}, testKeys
	})
	alice := h.token("auth0|alice")
	for _, id := range offGrammarIDs {
		path := "/me/v1/authentication-methods/" + id
		wantError(t, h.do("GET", path, alice, nil), 404, "A0E-404-0001")
		wantError(t, h.do("PATCH", path, alice, map[string]any{"name": "x"}), 404, "A0E-404-0001")
		wantError(t, h.do("DELETE", path, alice, nil), 404, "A0E-404-0001")
		wantError(t, h.do("POST", path+"/verify", alice, map[string]any{"auth_session": "AAAA", "otp_code": "123456"}), 404, "A0E-404-0001")
	}
}
