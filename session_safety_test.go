package myaccount_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// What a client sends is cleaned before it is stored: a User-Agent with a
// Latin-1 byte (which PostgreSQL refuses in text) and transports
// outside the WebAuthn enumeration (a 30 KB one, one with a NUL) would
// otherwise fail a database insert, or be echoed in every later
// excludeCredentials.
func TestClientValuesAreCleanedBeforeTheyAreStored(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	auth := myaccounttest.NewAuthenticator()
	auth.Transports = []string{"usb", strings.Repeat("x", 30<<10), "nfc\x00", "hybrid", "usb", "internal"}
	e := h.begin(alice)
	req, err := http.NewRequest("POST", h.server.URL+"/me/v1/authentication-methods/passkey%7Cnew/verify",
		strings.NewReader(fmt.Sprintf(`{"auth_session":%q,"authn_response":%s}`, e.AuthSession, attest(t, auth, e))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Caf\xe9 browser\t"+strings.Repeat("long ", 200))
	r := h.send(req)
	wantStatus(t, r, http.StatusCreated)
	m := r.json(t)
	if got := fmt.Sprint(m["transports"]); got != "[usb hybrid internal]" {
		t.Errorf("transports %s", got)
	}
	ua := m["user_agent"].(string)
	if !utf8.ValidString(ua) || strings.ContainsAny(ua, "\x00\t") || len(ua) > 512 || !strings.HasPrefix(ua, "Caf\uFFFD browserlong") {
		t.Errorf("user_agent %q", ua)
	}
	next := h.beginWith(alice, map[string]any{"type": "passkey", "use_exclude_credentials": true})
	if len(next.Options) > 2000 || strings.Contains(string(next.Options), "xxx") {
		t.Errorf("excludeCredentials carries junk: %.300s", next.Options)
	}
}

// flakyStore fails its first CreateMethod as a database that drops the
// connection would.
type flakyStore struct {
	myaccount.Store
	failures atomic.Int32
}

func (s *flakyStore) CreateMethod(ctx context.Context, m *myaccount.Method, limit int, session myaccount.SessionRef) error {
	if s.failures.Add(-1) >= 0 {
		return fmt.Errorf("%w: connection reset", myaccount.ErrUnavailable)
	}
	return s.Store.CreateMethod(ctx, m, limit, session)
}

// A store failure while the method is written does not spend the session:
// the user's retry of the same verify succeeds.
func TestStoreFailureAtVerifyLeavesTheSessionUsable(t *testing.T) {
	store := &flakyStore{Store: myaccount.NewMemoryStore()}
	store.failures.Store(1)
	h := newHarness(t, func(c *myaccount.Config) { c.Store, c.SecretKeys = store, testKeys })
	alice := h.token("auth0|alice")
	e := h.begin(alice)
	resp := attest(t, myaccounttest.NewAuthenticator(), e)
	wantError(t, h.verify(alice, e.AuthSession, resp), 503, "A0E-503-0001")
	wantStatus(t, h.verify(alice, e.AuthSession, resp), http.StatusCreated)
}
