package myaccount_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
)

// preflight sends a browser's CORS preflight and returns the answer's headers.
// Browsers list the requested headers in lower case, sorted, as rs/cors expects.
func (h *harness) preflight(origin, method, headers string) http.Header {
	h.t.Helper()
	req, _ := http.NewRequest("OPTIONS", h.server.URL+"/me/v1/authentication-methods/passkey%7Cdev_AAAAAAAAAAAAAAAA", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	req.Header.Set("Access-Control-Request-Headers", headers)
	r := h.send(req)
	if r.status >= 300 {
		h.t.Fatalf("preflight: status %d", r.status)
	}
	return r.header
}

// allows reports whether a preflight answer lets origin send every header of
// the comma-separated list requested.
func allows(header http.Header, origin, requested string) bool {
	if header.Get("Access-Control-Allow-Origin") != origin {
		return false
	}
	granted := strings.Split(strings.ToLower(strings.Join(header.Values("Access-Control-Allow-Headers"), ",")), ",")
	for i := range granted {
		granted[i] = strings.TrimSpace(granted[i])
	}
	for name := range strings.SplitSeq(requested, ",") {
		if !slices.Contains(granted, strings.ToLower(strings.TrimSpace(name))) {
			return false
		}
	}
	return true
}

// TestCORSPreflightOfAnAuth0SDKRequest is issue 11's defect 8: Auth0's browser
// SDKs send an Auth0-Client telemetry header (and DPoP with DPoP-bound
// tokens), which the preflight did not allow, so a cross-origin SPA was blocked.
func TestCORSPreflightOfAnAuth0SDKRequest(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) { c.CORS.Origins = []string{"https://app.example"} })
	for _, method := range []string{"GET", "POST", "PATCH", "DELETE"} {
		for _, headers := range []string{"auth0-client, authorization", "auth0-client, authorization, content-type, dpop"} {
			if got := h.preflight("https://app.example", method, headers); !allows(got, "https://app.example", headers) {
				t.Errorf("%s with %s: preflight refused: %v", method, headers, got)
			}
		}
	}
	// The answer to the real request lets the SDK read what it needs: the
	// challenge of a 401 (DPoP nonce, step-up) and the new DPoP nonce.
	req, _ := http.NewRequest("GET", h.server.URL+"/me/v1/factors", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Auth0-Client", "eyJuYW1lIjoiYXV0aDAtc3BhLWpzIiwidmVyc2lvbiI6IjIuMy4wIn0")
	exposed := strings.ToLower(h.send(req).header.Get("Access-Control-Expose-Headers"))
	for _, name := range []string{"www-authenticate", "dpop-nonce", "location", "retry-after", "x-ratelimit-remaining"} {
		if !strings.Contains(exposed, name) {
			t.Errorf("%s not exposed: %q", name, exposed)
		}
	}
}

// TestCORSConfig: an app whose own clients send other headers can allow them,
// and set how long browsers cache a preflight; the defaults stay allowed.
func TestCORSConfig(t *testing.T) {
	const origin = "https://app.example"
	custom := newHarness(t, func(c *myaccount.Config) {
		c.CORS = myaccount.CORSConfig{
			Origins: []string{origin}, AllowedHeaders: []string{"X-App-Trace"},
			ExposedHeaders: []string{"X-App-Version"}, MaxAge: time.Hour,
		}
	})
	defaults := newHarness(t, func(c *myaccount.Config) { c.CORS.Origins = []string{origin} })
	const own = "authorization, x-app-trace"
	if got := custom.preflight(origin, "POST", own); !allows(got, origin, own) || got.Get("Access-Control-Max-Age") != "3600" {
		t.Errorf("configured preflight: %v", got)
	}
	if got := custom.preflight(origin, "POST", "auth0-client, content-type, dpop"); !allows(got, origin, "auth0-client, content-type, dpop") {
		t.Errorf("configured headers replaced the defaults: %v", got)
	}
	if got := defaults.preflight(origin, "POST", own); allows(got, origin, own) {
		t.Errorf("a header nobody allowed passed the preflight: %v", got)
	}
	if got := defaults.preflight(origin, "POST", "authorization"); got.Get("Access-Control-Max-Age") != "600" {
		t.Errorf("default Access-Control-Max-Age %q, want 600", got.Get("Access-Control-Max-Age"))
	}
	if got := defaults.preflight("https://evil.example", "POST", "authorization"); got.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin was granted: %v", got)
	}
	req, _ := http.NewRequest("GET", custom.server.URL+"/me/v1/factors", nil)
	req.Header.Set("Origin", origin)
	if exposed := strings.ToLower(custom.send(req).header.Get("Access-Control-Expose-Headers")); !strings.Contains(exposed, "x-app-version") || !strings.Contains(exposed, "location") {
		t.Errorf("exposed headers %q", exposed)
	}

	for _, bad := range []myaccount.CORSConfig{
		{Origins: []string{"https://app.example/path"}},
		{Origins: []string{origin}, AllowedHeaders: []string{"X Bad"}},
		{Origins: []string{origin}, ExposedHeaders: []string{""}},
	} {
		if _, err := myaccount.New(myaccount.Config{Domain: "tenant.example.com", CORS: bad}); err == nil {
			t.Errorf("New accepted CORS %+v", bad)
		}
	}
}
