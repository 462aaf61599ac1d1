package myaccount_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// mfaOptions is what a WebAuthn MFA enrollment's options must differ in.
type mfaOptions struct {
	AuthenticatorSelection struct {
		AuthenticatorAttachment string `json:"authenticatorAttachment"`
		ResidentKey             string `json:"residentKey"`
	} `json:"authenticatorSelection"`
	ExcludeCredentials []struct {
		ID string `json:"id"`
	} `json:"excludeCredentials"`
}

func TestWebAuthnMFALifecycle(t *testing.T) {
	for typ, c := range map[string]struct {
		newAuth func() *myaccounttest.Authenticator
	}{
		"webauthn-roaming":  {myaccounttest.NewSecurityKey},
		"webauthn-platform": {myaccounttest.NewAuthenticator},
	} {
		t.Run(typ, func(t *testing.T) {
			h := newHarness(t)
			alice := h.token("auth0|alice")
			e := h.start(alice, map[string]any{"type": typ})
			raw, _ := json.Marshal(e["authn_params_public_key"])
			var opts mfaOptions
			if err := json.Unmarshal(raw, &opts); err != nil {
				t.Fatal(err)
			}
			// Neither member is in the contract's AuthenticatorSelection.
			if opts.AuthenticatorSelection.AuthenticatorAttachment != "" || opts.AuthenticatorSelection.ResidentKey != "" {
				t.Errorf("authenticatorSelection %+v", opts.AuthenticatorSelection)
			}
			auth := c.newAuth()
			resp, err := auth.Create(raw, testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			id := e["id"].(string)
			// Verified under passkey|new, it is refused.
			wantPointer(t, h.verify(alice, e["auth_session"].(string), resp), "/auth_session")
			r := h.finish(alice, id, map[string]any{"auth_session": e["auth_session"], "authn_response": json.RawMessage(resp)})
			wantStatus(t, r, http.StatusCreated)
			m := r.json(t)
			if m["id"] != id || m["type"] != typ || m["confirmed"] != true || m["key_id"] == "" || m["public_key"] == "" ||
				m["usage"].([]any)[0] != "secondary" {
				t.Errorf("method %s", r.body)
			}
			r = h.do("PATCH", "/me/v1/authentication-methods/"+url.PathEscape(id), alice, map[string]any{"name": "YubiKey"})
			if wantStatus(t, r, http.StatusOK); r.json(t)["name"] != "YubiKey" {
				t.Errorf("renamed: %s", r.body)
			}
			if n := len(h.list(alice, typ)); n != 1 {
				t.Errorf("%d methods of %s", n, typ)
			}
		})
	}
}

// A deployment that opts in to the attachment hint asks for its kind of
// authenticator: a browser offers no other, as myaccounttest's refuses; the
// rest of the options still follow the contract (the harness checks them).
func TestWebAuthnMFAAttachmentHint(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) { c.WebAuthn.AttachmentHint = true })
	for typ, want := range map[string]string{"webauthn-roaming": "cross-platform", "webauthn-platform": "platform"} {
		e := h.start(h.token("auth0|alice"), map[string]any{"type": typ})
		raw, _ := json.Marshal(e["authn_params_public_key"])
		var opts mfaOptions
		if err := json.Unmarshal(raw, &opts); err != nil {
			t.Fatal(err)
		}
		if got := opts.AuthenticatorSelection; got.AuthenticatorAttachment != want || got.ResidentKey != "" {
			t.Errorf("%s: authenticatorSelection %+v, want the attachment %q alone", typ, got, want)
		}
	}
	e := h.start(h.token("auth0|alice"), map[string]any{"type": "webauthn-roaming"})
	raw, _ := json.Marshal(e["authn_params_public_key"])
	if _, err := myaccounttest.NewAuthenticator().Create(raw, testOrigin); !errors.Is(err, myaccounttest.ErrWrongAttachment) {
		t.Errorf("a platform authenticator answered a cross-platform request: %v", err)
	}
}

// An attestation whose authenticatorAttachment contradicts the type is 400 at
// verify, and leaves the session for an authenticator of the right kind; one
// that reports no attachment is taken.
func TestWebAuthnMFAContradictingAttachment(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	for typ, c := range map[string]struct {
		wrong, right func() *myaccounttest.Authenticator
	}{
		"webauthn-roaming":  {myaccounttest.NewAuthenticator, myaccounttest.NewSecurityKey},
		"webauthn-platform": {myaccounttest.NewSecurityKey, myaccounttest.NewAuthenticator},
	} {
		e := h.start(alice, map[string]any{"type": typ})
		raw, _ := json.Marshal(e["authn_params_public_key"])
		answer := func(a *myaccounttest.Authenticator) *response {
			resp, err := a.Create(raw, testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			return h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "authn_response": json.RawMessage(resp)})
		}
		wantPointer(t, answer(c.wrong()), "/authn_response/authenticatorAttachment")
		if n := len(h.list(alice, typ)); n != 0 {
			t.Errorf("%s: %d methods stored after a contradicting attachment", typ, n)
		}
		wantStatus(t, answer(c.right()), http.StatusCreated)
	}
	e := h.start(alice, map[string]any{"type": "webauthn-roaming"})
	raw, _ := json.Marshal(e["authn_params_public_key"])
	silent := myaccounttest.NewSecurityKey()
	silent.Attachment = ""
	resp, err := silent.Create(raw, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "authn_response": json.RawMessage(resp)}), http.StatusCreated)
}

// One authenticator is one credential, whatever type it was enrolled under:
// excludeCredentials lists every WebAuthn type when asked for, and the server
// refuses a duplicate credential id with 409 even when a client ignores it.
func TestOneCredentialUnderOneWebAuthnType(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	key := myaccounttest.NewSecurityKey()
	key.Attachment = "" // a key that answers any request, as a client that ignores the attachment
	h.enroll(alice, key)

	e := h.start(alice, map[string]any{"type": "webauthn-roaming", "use_exclude_credentials": true})
	raw, _ := json.Marshal(e["authn_params_public_key"])
	var opts mfaOptions
	_ = json.Unmarshal(raw, &opts)
	if len(opts.ExcludeCredentials) != 1 {
		t.Errorf("excludeCredentials %s", raw)
	}
	if _, err := key.Create(raw, testOrigin); err == nil {
		t.Errorf("the authenticator enrolled a credential it was told to exclude")
	}
	// A client that ignores excludeCredentials: the same credential id again.
	e = h.start(alice, map[string]any{"type": "webauthn-roaming"})
	raw, _ = json.Marshal(e["authn_params_public_key"])
	replayed := reuseCredential(t, key, raw, h.list(alice, "passkey")[0].(map[string]any)["key_id"].(string))
	r := h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "authn_response": replayed})
	wantError(t, r, 409, "A0E-409-0002")
	if n := len(h.list(alice, "webauthn-roaming")); n != 0 {
		t.Errorf("%d security keys stored", n)
	}
}

// reuseCredential has the authenticator answer options with a new credential
// whose id is then replaced by keyID, as a misbehaving client could send.
func reuseCredential(t *testing.T, a *myaccounttest.Authenticator, options []byte, keyID string) json.RawMessage {
	t.Helper()
	a.ReuseCredentialID = keyID
	defer func() { a.ReuseCredentialID = "" }()
	resp, err := a.Create(options, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestWebAuthnMFACap(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) { c.WebAuthn.MaxCredentials = 2 })
	alice := h.token("auth0|alice")
	for range 2 {
		e := h.start(alice, map[string]any{"type": "webauthn-platform"})
		raw, _ := json.Marshal(e["authn_params_public_key"])
		resp, err := myaccounttest.NewAuthenticator().Create(raw, testOrigin)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "authn_response": json.RawMessage(resp)}), 201)
	}
	wantError(t, h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "webauthn-platform"}), 409, "A0E-409-0001")
	// The cap is per type: a passkey still goes in.
	h.enroll(alice, myaccounttest.NewAuthenticator())
}
