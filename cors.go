package myaccount

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rs/cors"
)

// CORSConfig lets browser apps on other origins call the API. The request
// headers of Auth0's SDKs are always allowed, and the response headers they
// read are always exposed; the fields add to them.
type CORSConfig struct {
	// Origins are the browser origins (scheme://host[:port], or "*") allowed to
	// call the API cross-origin. Default: none, and then no CORS headers are sent.
	Origins []string
	// AllowedHeaders are request headers allowed on top of Authorization, Content-Type,
	// Auth0-Client and DPoP,
	// for apps whose clients send their own. Default: none.
	AllowedHeaders []string
	// ExposedHeaders are response headers exposed to scripts on top of
	// Location, Retry-After, the rate-limit headers, X-Auth0-Error-Kind,
	// WWW-Authenticate and DPoP-Nonce. Default: none.
	ExposedHeaders []string
	// MaxAge is how long a browser may cache a preflight answer; negative asks it
	// not to. Browsers cap it (Chromium at 2 hours). Default: 10 minutes.
	MaxAge time.Duration
}

// corsRequestHeaders are the request headers every cross-origin caller may
// send: Auth0's SDKs send Auth0-Client (telemetry) with every request, and
// DPoP with a DPoP-bound token.
func corsRequestHeaders() []string {
	return []string{"Authorization", "Content-Type", "Auth0-Client", "DPoP"}
}

// corsResponseHeaders are the response headers scripts on an allowed origin
// may read: where a new method is, the rate limits, the challenge of a 401 or
// 403 (WWW-Authenticate, which carries DPoP and step-up errors) and a DPoP
// server nonce.
func corsResponseHeaders() []string {
	return []string{"Location", "Retry-After", "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset",
		"X-Auth0-Error-Kind", "WWW-Authenticate", "DPoP-Nonce"}
}

func (c *CORSConfig) resolve() error {
	for _, o := range c.Origins {
		if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "") {
			return fmt.Errorf("%w: CORS origin %q is not scheme://host[:port]", ErrConfig, o)
		}
	}
	for _, h := range slices.Concat(c.AllowedHeaders, c.ExposedHeaders) {
		if !isToken(h) {
			return fmt.Errorf("%w: CORS header name %q is not a valid header name", ErrConfig, h)
		}
	}
	if c.MaxAge == 0 {
		c.MaxAge = 10 * time.Minute
	}
	return nil
}

// wrap returns next behind the CORS handling, or next itself when no origin
// is allowed.
func (c *CORSConfig) wrap(next http.Handler) http.Handler {
	if len(c.Origins) == 0 {
		return next
	}
	maxAge := int(c.MaxAge / time.Second)
	if c.MaxAge < 0 {
		maxAge = -1 // rs/cors then sends "Access-Control-Max-Age: 0"
	}
	return cors.New(cors.Options{
		AllowedOrigins: c.Origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: slices.Concat(corsRequestHeaders(), c.AllowedHeaders),
		ExposedHeaders: slices.Concat(corsResponseHeaders(), c.ExposedHeaders),
		MaxAge:         maxAge,
	}).Handler(next)
}

// isToken reports whether s is an RFC 9110 token, as a header name must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
