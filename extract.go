package myaccount

import (
	"errors"
	"net/http"
	"strings"
)

// TokenExtractor finds a request's access token for
// [TokenValidator.AuthenticateWith], when it is not in the Authorization
// header. It returns "" and no error when the request has none; an error is
// answered 401 invalid_token. What it finds is taken as a bearer token.
type TokenExtractor func(r *http.Request) (string, error)

// CookieTokenExtractor finds the token in the named cookie. A browser sends
// cookies to cross-site requests too: pair it with CSRF protection, or a
// cookie with SameSite set.
func CookieTokenExtractor(name string) TokenExtractor {
	return func(r *http.Request) (string, error) {
		c, err := r.Cookie(name)
		if errors.Is(err, http.ErrNoCookie) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return c.Value, nil
	}
}

// QueryTokenExtractor finds the token in the named query parameter, for the
// rare client that cannot send headers (an EventSource, say). URLs end up in
// logs and browser history, so RFC 6750 section 2.3 advises against it; never
// the default.
func QueryTokenExtractor(param string) TokenExtractor {
	return func(r *http.Request) (string, error) {
		values := r.URL.Query()[param]
		if len(values) > 1 {
			return "", errors.New("more than one token in the query")
		}
		if len(values) == 0 {
			return "", nil
		}
		return values[0], nil
	}
}

// FirstTokenExtractor tries each extractor in turn and returns the first
// token found, or the first error.
func FirstTokenExtractor(extractors ...TokenExtractor) TokenExtractor {
	return func(r *http.Request) (string, error) {
		for _, x := range extractors {
			if t, err := x(r); err != nil || t != "" {
				return t, err
			}
		}
		return "", nil
	}
}

// AuthorizationTokenExtractor finds a bearer token in the Authorization header,
// to combine with others in [FirstTokenExtractor]. (Without an extractor,
// [TokenValidator.AuthenticateWith] reads that header itself, DPoP included.)
func AuthorizationTokenExtractor(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", nil
	}
	if len(values) > 1 {
		return "", errors.New("more than one Authorization header")
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, schemeBearer) {
		return "", nil
	}
	return strings.TrimSpace(token), nil
}
