package myaccount_test

import (
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

func TestStepUpPerScope(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) {
		c.Token.StepUp = map[string]myaccount.StepUp{
			"delete:me:authentication-methods": {MaxAge: 5 * time.Minute}, // hyphens: the same scope
			"create:me:authentication_methods": {ACRValues: []string{"http://schemas.openid.net/pape/policies/2007/06/multi-factor"}},
		}
	})
	mfa := "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
	del := "/me/v1/authentication-methods/passkey%7Cdev_AAAAAAAAAAAAAAAA"
	tok := func(opts ...myaccounttest.TokenOption) string {
		return h.issuer.TokenWith(t, "auth0|alice", allScopes, opts...)
	}
	wantStepUp := func(r *response, params string) {
		t.Helper()
		wantError(t, r, 401, "A0E-401-0001")
		got := r.header.Get("WWW-Authenticate")
		if !strings.HasPrefix(got, `Bearer realm="`+h.issuer.Audience+`", error="insufficient_user_authentication", error_description="`) ||
			!strings.HasSuffix(got, params) {
			t.Errorf("WWW-Authenticate %q, want it to end with %s", got, params)
		}
	}
	// auth_time: too old or missing is refused; recent passes (404: no such method).
	wantStepUp(h.do("DELETE", del, tok(myaccounttest.AuthTime(time.Now().Add(-10*time.Minute))), nil), `max_age="300"`)
	wantStepUp(h.do("DELETE", del, tok(), nil), `max_age="300"`)
	wantStatus(t, h.do("DELETE", del, tok(myaccounttest.AuthTime(time.Now().Add(-time.Minute))), nil), 404)
	// acr: another or none is refused; the listed one passes.
	body := map[string]any{"type": "passkey"}
	wantStepUp(h.do("POST", "/me/v1/authentication-methods", tok(myaccounttest.ACR("pwd")), body), `acr_values="`+mfa+`"`)
	wantStepUp(h.do("POST", "/me/v1/authentication-methods", tok(), body), `acr_values="`+mfa+`"`)
	wantStatus(t, h.do("POST", "/me/v1/authentication-methods", tok(myaccounttest.ACR(mfa)), body), 202)
	// Scopes without a step-up need none.
	wantStatus(t, h.do("GET", "/me/v1/authentication-methods", tok(), nil), 200)
	// With DPoP, the challenge is the DPoP scheme's.
	key := myaccounttest.NewTestDPoPKey(t)
	bound := tok(myaccounttest.BoundTo(key.Thumbprint()), myaccounttest.AuthTime(time.Now().Add(-time.Hour)))
	r := h.dpop("DELETE", del, bound, key, nil)
	wantError(t, r, 401, "A0E-401-0001")
	if got := r.header.Values("WWW-Authenticate"); len(got) != 2 || !strings.Contains(got[1], `error="insufficient_user_authentication"`) || !strings.HasSuffix(got[1], `max_age="300"`) {
		t.Errorf("DPoP: WWW-Authenticate %q", got)
	}
	recent := tok(myaccounttest.BoundTo(key.Thumbprint()), myaccounttest.AuthTime(time.Now()))
	wantStatus(t, h.dpop("DELETE", del, recent, key, nil), 404)
}
