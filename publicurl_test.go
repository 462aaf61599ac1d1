package myaccount_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
)

// TestForwardedHostIsCheckedAndTakenFromTheNearestProxy is issue 11's defect
// 6: X-Forwarded-Host went unchecked into Location, and its first entry, which
// the client controls, was taken. Now only a host[:port] is taken, and only the
// last entry of X-Forwarded-Host and X-Forwarded-Proto: the one the trusted
// proxy added.
func TestForwardedHostIsCheckedAndTakenFromTheNearestProxy(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) { c.TrustForwardedHeaders = true })
	alice := h.token("auth0|alice")
	own := h.server.URL // http://127.0.0.1:port, what the request itself says
	for _, c := range []struct {
		name        string
		host, proto []string // header lines, nil for none
		want        string
	}{
		{"plain host", []string{"id.example.com"}, []string{"https"}, "https://id.example.com"},
		{"host and port", []string{"id.example.com:8443"}, []string{"https"}, "https://id.example.com:8443"},
		{"IPv4 and port", []string{"192.0.2.7:8080"}, nil, "http://192.0.2.7:8080"},
		{"IPv6 and port", []string{"[2001:db8::1]:8443"}, []string{"HTTPS"}, "https://[2001:db8::1]:8443"},
		{"client entry first, proxy's last", []string{"evil.example, id.example.com"}, []string{"http, https"}, "https://id.example.com"},
		{"several header lines", []string{"evil.example", "id.example.com"}, []string{"http", "https"}, "https://id.example.com"},
		{"userinfo", []string{"api.example.com@evil.example"}, nil, own},
		{"path and query", []string{"evil.example/phish?x="}, nil, own},
		{"quotes", []string{`"evil.example"`}, nil, own},
		{"space inside", []string{"evil.example id.example.com"}, nil, own},
		{"backslash", []string{`evil.example\.id.example.com`}, nil, own},
		{"empty port", []string{"id.example.com:"}, nil, own},
		{"port out of range", []string{"id.example.com:70000"}, nil, own},
		{"unbracketed IPv6", []string{"2001:db8::1"}, nil, own},
		{"IPv6 zone", []string{"[fe80::1%25eth0]"}, nil, own},
		{"label starting with a hyphen", []string{"-evil.example"}, nil, own},
		{"a valid entry before an invalid last one", []string{"id.example.com, evil.example/x"}, nil, own},
		{"unknown scheme", nil, []string{"javascript"}, own},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", h.server.URL+"/me/v1/authentication-methods", strings.NewReader(`{"type":"passkey"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+alice)
			req.Header["X-Forwarded-Host"] = c.host
			req.Header["X-Forwarded-Proto"] = c.proto
			r := h.send(req)
			wantStatus(t, r, http.StatusAccepted)
			if got := r.header.Get("Location"); got != c.want+"/me/v1/authentication-methods/passkey%7Cnew" {
				t.Errorf("Location %q, want it under %s", got, c.want)
			}
		})
	}
}
