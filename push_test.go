package myaccount_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// flakyPush is the fake provider with a switch that makes every call fail.
type flakyPush struct {
	*myaccounttest.PushProvider
	down atomic.Bool
}

var errPushDown = errors.New("push service down (internal detail)")

func (p *flakyPush) BeginPairing(ctx context.Context, issuer, userID, methodID string) (string, string, error) {
	if p.down.Load() {
		return "", "", errPushDown
	}
	return p.PushProvider.BeginPairing(ctx, issuer, userID, methodID)
}

func (p *flakyPush) Confirmed(ctx context.Context, handle string) (bool, error) {
	if p.down.Load() {
		return false, errPushDown
	}
	return p.PushProvider.Confirmed(ctx, handle)
}

func (p *flakyPush) RemoveDevice(ctx context.Context, handle string) error {
	if p.down.Load() {
		return errPushDown
	}
	return p.PushProvider.RemoveDevice(ctx, handle)
}

func pushHarness(t *testing.T, provider myaccount.PushProvider, store myaccount.Store) *harness {
	t.Helper()
	return newHarness(t, func(c *myaccount.Config) {
		c.Push.Provider = provider
		c.Store = store
		c.SecretKeys = testKeys
	})
}

func TestPushNotOfferedWithoutProvider(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	r := h.do("GET", "/me/v1/factors", alice, nil)
	if bytes.Contains(r.body, []byte(`push-notification`)) {
		t.Errorf("push offered with no provider: %s", r.body)
	}
	wantPointer(t, h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "push-notification"}), "/type")
}

func TestPushLifecycle(t *testing.T) {
	provider := myaccounttest.NewPushProvider()
	store := myaccount.NewMemoryStore()
	h := pushHarness(t, provider, store)
	alice := h.token("auth0|alice")

	r := h.do("GET", "/me/v1/factors", alice, nil)
	if !bytes.Contains(r.body, []byte(`{"type":"push-notification","usage":["secondary"]}`)) {
		t.Errorf("factors: %s", r.body)
	}
	e := h.start(alice, map[string]any{"type": "push-notification"})
	if len(e) != 3 {
		t.Errorf("202 members beyond id, auth_session, barcode_uri: %v", e)
	}
	id, session := e["id"].(string), e["auth_session"]
	device, err := provider.Scan(e["barcode_uri"].(string))
	if err != nil {
		t.Fatal(err)
	}

	// Before the device confirms: 400, and the session stays usable.
	for range 3 {
		wantPointer(t, h.finish(alice, id, map[string]any{"auth_session": session}), "/auth_session")
	}
	if n := len(h.list(alice, "push-notification")); n != 0 {
		t.Fatalf("%d push methods before confirmation", n)
	}
	if err := device.Confirm(); err != nil {
		t.Fatal(err)
	}
	r = h.finish(alice, id, map[string]any{"auth_session": session})
	wantStatus(t, r, http.StatusCreated)
	m := r.json(t)
	if m["id"] != id || m["type"] != "push-notification" || m["confirmed"] != true {
		t.Errorf("method %s", r.body)
	}
	// Once verified the session is used.
	wantPointer(t, h.finish(alice, id, map[string]any{"auth_session": session}), "/auth_session")
	stored, err := store.GetMethod(context.Background(), h.issuer.Issuer, "auth0|alice", id)
	if err != nil || stored.Destination != device.Handle() {
		t.Fatalf("stored %+v, %v: want Destination %q", stored, err, device.Handle())
	}
	if n := len(h.list(alice, "push-notification")); n != 1 {
		t.Fatalf("%d push methods after verify", n)
	}

	// Deleting the method removes the device at the provider.
	wantStatus(t, h.do("DELETE", "/me/v1/authentication-methods/"+url.PathEscape(id), alice, nil), http.StatusNoContent)
	if !provider.Removed(device.Handle()) || provider.Paired(device.Handle()) {
		t.Error("the device is still paired after DELETE")
	}
	if n := len(h.list(alice, "push-notification")); n != 0 {
		t.Errorf("%d push methods after DELETE", n)
	}
}

// A provider that fails gives 503, with nothing stored and nothing deleted.
func TestPushProviderDown(t *testing.T) {
	provider := &flakyPush{PushProvider: myaccounttest.NewPushProvider()}
	h := pushHarness(t, provider, nil)
	alice := h.token("auth0|alice")

	e := h.start(alice, map[string]any{"type": "push-notification"})
	device, err := provider.Scan(e["barcode_uri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	_ = device.Confirm()
	provider.down.Store(true)
	wantError(t, h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "push-notification"}), 503, "A0E-503-0001")
	wantError(t, h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"]}), 503, "A0E-503-0001")
	provider.down.Store(false)
	wantStatus(t, h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"]}), http.StatusCreated)

	provider.down.Store(true)
	wantError(t, h.do("DELETE", "/me/v1/authentication-methods/"+url.PathEscape(e["id"].(string)), alice, nil), 503, "A0E-503-0001")
	if n := len(h.list(alice, "push-notification")); n != 1 || provider.Removed(device.Handle()) {
		t.Errorf("after a failed DELETE: %d methods, removed %v", n, provider.Removed(device.Handle()))
	}
}

func TestPushLimit(t *testing.T) {
	provider := myaccounttest.NewPushProvider()
	h := newHarness(t, func(c *myaccount.Config) { c.Push = myaccount.PushConfig{Provider: provider, MaxPerUser: 1} })
	alice := h.token("auth0|alice")
	e := h.start(alice, map[string]any{"type": "push-notification"})
	device, err := provider.Scan(e["barcode_uri"].(string))
	if err != nil {
		t.Fatal(err)
	}
	_ = device.Confirm()
	wantStatus(t, h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"]}), http.StatusCreated)
	wantError(t, h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "push-notification"}), 409, "A0E-409-0001")

	_, err = myaccount.New(myaccount.Config{Domain: "tenant.example.com", Push: myaccount.PushConfig{Provider: provider, MaxPerUser: -1}})
	if !errors.Is(err, myaccount.ErrConfig) {
		t.Errorf("MaxPerUser -1: %v, want ErrConfig", err)
	}
}
