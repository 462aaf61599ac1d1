package myaccount

import (
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
)

// checkNotTypedNil refuses a Store or Limiter that is an interface holding a
// nil pointer (a *pgstore.Store never made, say): it is not nil, so no default
// replaces it, and the first request would panic.
func (c *Config) checkNotTypedNil() error {
	for _, f := range []struct {
		name  string
		value any
	}{{"Store", c.Store}, {"Limiter", c.RateLimits.Limiter}} {
		if f.value != nil && isNilValue(f.value) {
			return fmt.Errorf("%w: %s is a nil %T; leave it unset for the in-memory one", ErrConfig, f.name, f.value)
		}
	}
	return nil
}

// isNilValue reports whether v, not nil itself, holds a nil pointer, map,
// slice, func or channel.
func isNilValue(v any) bool {
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// warnMisconfigurations logs, once per New, settings that are legal but
// probably wrong: an origin outside the relying party id (legitimate only with
// WebAuthn Related Origin Requests), an Auth0 audience without its trailing
// slash (no Auth0 token would carry it), and, when noteMemoryStore, the
// in-memory store chosen by default.
func (c *Config) warnMisconfigurations(noteMemoryStore bool) {
	for _, o := range c.WebAuthn.Origins {
		u, _ := url.Parse(o) // checked by resolve
		if host := u.Hostname(); host != c.WebAuthn.RPID && !strings.HasSuffix(host, "."+c.WebAuthn.RPID) {
			c.Logger.Warn("myaccount: an origin's host is not the relying party id nor under it: browsers refuse passkeys "+
				"created there unless https://{RPID}/.well-known/webauthn lists it (Related Origin Requests)",
				slog.String("origin", o), slog.String("rp_id", c.WebAuthn.RPID))
		}
	}
	if u, err := url.Parse(c.Audience); err == nil && !strings.HasSuffix(c.Audience, "/") &&
		(isAuth0Host(u.Hostname()) || (c.Domain != "" && u.Hostname() == hostOnly(strings.TrimPrefix(c.Domain, "https://")))) {
		c.Logger.Warn("myaccount: the Audience of an Auth0 tenant lacks its trailing slash: Auth0's My Account API tokens carry "+
			"\"https://{domain}/me/\", so every token would be refused", slog.String("audience", c.Audience))
	}
	if noteMemoryStore {
		c.Logger.Info("myaccount: no Store set: methods and sessions are kept in memory, lost on restart and not shared " +
			"between instances (set Config.Store, such as pgstore's, for more)")
	}
}
