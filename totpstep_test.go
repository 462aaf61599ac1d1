package myaccount_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
)

// TestTOTPStepAcceptedOnce checks RFC 6238 §5.2: a TOTP code is accepted at
// most once per method, the enrollment's included, and of concurrent checks
// of one code exactly one is true.
func TestTOTPStepAcceptedOnce(t *testing.T) {
	store := myaccount.NewMemoryStore()
	h := newHarness(t, func(c *myaccount.Config) { c.Store = store; c.SecretKeys = testKeys })
	alice := h.token("auth0|alice")
	now := time.Now()
	e := h.start(alice, map[string]any{"type": "totp"})
	secret := e["manual_input_code"].(string)
	enrolled := totpCode(t, secret, now)
	wantStatus(t, h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "otp_code": enrolled}), 201)
	ms, err := store.ListMethods(context.Background(), h.issuer.Issuer, "auth0|alice", "totp")
	if err != nil || len(ms) != 1 {
		t.Fatalf("ListMethods: %v %v", ms, err)
	}
	m := ms[0] // kept as read: the store, not this copy, decides
	if want := now.Unix() / 30; m.LastTOTPStep != want {
		t.Errorf("enrolled with LastTOTPStep %d, want the verifying step %d", m.LastTOTPStep, want)
	}

	check := func(code string, at time.Time, want bool) {
		t.Helper()
		if ok, err := h.api.CheckTOTP(context.Background(), m, code, at); ok != want || err != nil {
			t.Errorf("CheckTOTP(%s at %v) = %v, %v; want %v", code, at.Format(time.TimeOnly), ok, err, want)
		}
	}
	check(enrolled, now, false) // the enrollment used it
	next := now.Add(30 * time.Second)
	check(totpCode(t, secret, next), next, true)
	check(totpCode(t, secret, next), next, false)
	check(enrolled, next, false) // an earlier step, within the skew
	check("000000", next.Add(30*time.Second), false)

	later := now.Add(60 * time.Second)
	code := totpCode(t, secret, later)
	const n = 20
	var accepted atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			ok, err := h.api.CheckTOTP(context.Background(), m, code, later)
			if err != nil {
				t.Error(err)
			}
			if ok {
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
	if got := accepted.Load(); got != 1 {
		t.Fatalf("%d of %d concurrent checks of one code accepted it, want exactly 1", got, n)
	}
}
