package myaccount_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/golang-jwt/jwt/v5"
)

func TestNewRejectsBadConfig(t *testing.T) {
	cases := map[string]myaccount.Config{
		"nothing":              {},
		"http issuer":          {Issuer: "http://tenant.example.com/"},
		"relative issuer":      {Issuer: "tenant.example.com"},
		"http JWKS":            {Domain: "tenant.example.com", Token: myaccount.TokenConfig{JWKSURL: "http://tenant.example.com/jwks"}},
		"HMAC algorithm":       {Domain: "tenant.example.com", Token: myaccount.TokenConfig{Algorithms: []string{"HS256"}}},
		"none algorithm":       {Domain: "tenant.example.com", Token: myaccount.TokenConfig{Algorithms: []string{"none"}}},
		"bad origin":           {Domain: "tenant.example.com", WebAuthn: myaccount.WebAuthnConfig{Origins: []string{"tenant.example.com"}}},
		"bad CORS origin":      {Domain: "tenant.example.com", CORS: myaccount.CORSConfig{Origins: []string{"https://a.example/path"}}},
		"bad user verify":      {Domain: "tenant.example.com", WebAuthn: myaccount.WebAuthnConfig{UserVerification: "always"}},
		"bad public URL":       {Domain: "tenant.example.com", PublicURL: "ftp://x"},
		"negative rate":        {Domain: "tenant.example.com", RateLimits: myaccount.RateLimitConfig{Tenant: myaccount.RateLimit{Rate: -1}}},
		"negative max":         {Domain: "tenant.example.com", WebAuthn: myaccount.WebAuthnConfig{MaxCredentials: -1}},
		"bad relying party id": {Domain: "tenant.example.com", WebAuthn: myaccount.WebAuthnConfig{RPID: "https://tenant.example.com"}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			if cfg.Token.JWKSURL == "" { // keys that are never fetched, so no test dials out
				cfg.Token.Keyfunc = func(*jwt.Token) (any, error) { return nil, errors.New("no keys") }
			}
			api, err := myaccount.New(cfg)
			if err == nil {
				api.Close()
				t.Fatal("New accepted it")
			}
			if !errors.Is(err, myaccount.ErrConfig) {
				t.Errorf("error %v does not wrap ErrConfig", err)
			}
		})
	}
}

func TestDomainAloneIsEnough(t *testing.T) {
	// A Keyfunc stands in for the tenant's JWKS, which this test cannot reach.
	keys := func(*jwt.Token) (any, error) { return nil, errors.New("no keys") }
	api, err := myaccount.New(myaccount.Config{Domain: "tenant.example.com", Token: myaccount.TokenConfig{Keyfunc: keys}})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	// The derived audience is the realm of the challenge.
	srvReq, _ := http.NewRequest("GET", "/me/v1/factors", nil)
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, srvReq)
	if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer realm="https://tenant.example.com/me/"` {
		t.Errorf("realm: %q", got)
	}
}

func TestLocationUsesPublicURLOrTrustedProxyHeaders(t *testing.T) {
	for _, c := range []struct {
		name      string
		configure func(*myaccount.Config)
		header    http.Header
		want      string
	}{
		{"public URL", func(c *myaccount.Config) { c.PublicURL = "https://id.example.com/" }, nil, "https://id.example.com"},
		{"untrusted forwarded headers", nil, http.Header{"X-Forwarded-Host": {"evil.example"}, "X-Forwarded-Proto": {"https"}}, ""},
		{"trusted forwarded headers", func(c *myaccount.Config) { c.TrustForwardedHeaders = true },
			http.Header{"X-Forwarded-Host": {"id.example.com"}, "X-Forwarded-Proto": {"https"}}, "https://id.example.com"},
	} {
		t.Run(c.name, func(t *testing.T) {
			configure := func(*myaccount.Config) {}
			if c.configure != nil {
				configure = c.configure
			}
			h := newHarness(t, configure)
			req, _ := http.NewRequest("POST", h.server.URL+"/me/v1/authentication-methods", strings.NewReader(`{"type":"passkey"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+h.token("auth0|alice"))
			for k, v := range c.header {
				req.Header[k] = v
			}
			want := c.want
			if want == "" {
				want = h.server.URL
			}
			if got := h.send(req).header.Get("Location"); got != want+"/me/v1/authentication-methods/passkey%7Cnew" {
				t.Errorf("Location %q", got)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) { c.CORS.Origins = []string{"https://app.example"} })
	preflight := func(origin string) http.Header {
		req, _ := http.NewRequest("OPTIONS", h.server.URL+"/me/v1/authentication-methods", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		return h.send(req).header
	}
	allowed := preflight("https://app.example")
	if allowed.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(strings.ToLower(allowed.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Errorf("allowed origin preflight: %v", allowed)
	}
	if denied := preflight("https://evil.example"); denied.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin granted: %v", denied)
	}
	req, _ := http.NewRequest("POST", h.server.URL+"/me/v1/authentication-methods", strings.NewReader(`{"type":"passkey"}`))
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.token("auth0|alice"))
	r := h.send(req)
	exposed := strings.ToLower(r.header.Get("Access-Control-Expose-Headers"))
	for _, name := range []string{"location", "x-ratelimit-remaining", "retry-after"} {
		if !strings.Contains(exposed, name) {
			t.Errorf("%s not exposed: %q", name, exposed)
		}
	}
}

func TestEnrollHandlerAndValidatorMountAlone(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.Handle("POST /account/passkeys", myaccount.EnrollHandler(h.api))
	mux.Handle("GET /account/whoami", h.api.Validator().Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := myaccount.ClaimsFromContext(r.Context())
		w.Write([]byte(claims.Subject))
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	token := h.token("auth0|alice")

	req, _ := http.NewRequest("POST", srv.URL+"/account/passkeys", strings.NewReader(`{"type":"passkey"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !strings.HasSuffix(resp.Header.Get("Location"), "/me/v1/authentication-methods/passkey%7Cnew") {
		t.Errorf("EnrollHandler: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ = http.NewRequest("GET", srv.URL+"/account/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "auth0|alice" {
		t.Errorf("Validator: %d %q", resp.StatusCode, body)
	}
}
