package myaccount_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/go-myaccount/myaccount/internal/oascheck"
)

// The harness's OpenAPI check catches a body that breaks the contract: a
// security key's real 202 passes it, and fails once it carries the
// authenticatorAttachment and residentKey "discouraged" that Auth0's closed
// AuthenticatorSelection forbids. It needs the contract file, and skips
// without it (outside CI).
func TestOpenAPICheckCatchesABadBody(t *testing.T) {
	h := newHarness(t)
	if h.spec == nil {
		_, err := oascheck.Locate()
		t.Skipf("skipping contract check: %v", err)
	}
	r := h.do("POST", "/me/v1/authentication-methods", h.token("auth0|alice"), map[string]any{"type": "webauthn-roaming"})
	wantStatus(t, r, http.StatusAccepted)
	const path = "/me/v1/authentication-methods"
	if err := h.spec.ValidateResponse("POST", path, r.status, r.header, r.body); err != nil {
		t.Fatalf("the served 202: %v", err)
	}
	bad := bytes.Replace(r.body, []byte(`"authenticatorSelection":{`),
		[]byte(`"authenticatorSelection":{"authenticatorAttachment":"cross-platform","residentKey":"discouraged",`), 1)
	if bytes.Equal(bad, r.body) {
		t.Fatalf("no authenticatorSelection in %s", r.body)
	}
	if err := h.spec.ValidateResponse("POST", path, r.status, r.header, bad); err == nil {
		t.Errorf("the check passed %s", bad)
	}
	if err := h.spec.ValidateResponse("POST", path, r.status, r.header, r.body[:len(r.body)-1]); err == nil {
		t.Error("the check passed a truncated body")
	}
}
