package myaccount_test

import (
	"context"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// jsonStateStore stores every session with the JSON state that versions before
// the binary one wrote, as a store holding an in-flight enrollment across an
// upgrade would return it.
type jsonStateStore struct{ *myaccount.MemoryStore }

func (s jsonStateStore) PutSession(ctx context.Context, sess *myaccount.Session) error {
	c := *sess
	c.Data = []byte(`{"ceremony":{"challenge":"x","rpId":"localhost","user_id":"AAEC","expires":"0001-01-01T00:00:00Z","credParams":[{"type":"public-key","alg":-7}]},"identity_user_id":"alice"}`)
	return s.MemoryStore.PutSession(ctx, &c)
}

func TestSessionStateOfAnotherVersionIsAnInvalidSession(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) { c.Store = jsonStateStore{myaccount.NewMemoryStore()} })
	alice := h.token("auth0|alice")
	e := h.begin(alice)
	body := wantError(t, h.verify(alice, e.AuthSession, attest(t, myaccounttest.NewAuthenticator(), e)), 400, "A0E-400-0003")
	if v := body["validation_errors"].([]any)[0].(map[string]any); v["pointer"] != "/auth_session" {
		t.Errorf("validation error: %v", v)
	}
}
