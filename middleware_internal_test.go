package myaccount

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// newCachingValidator is a validator of iss's tokens, through its JWKS unless
// keyfunc is given, whose clock reads *now.
func newCachingValidator(t *testing.T, iss *myaccounttest.Issuer, keyfunc jwt.Keyfunc, size int, now *time.Time) *TokenValidator {
	t.Helper()
	v, err := NewTokenValidator(Config{Issuer: iss.Issuer, Token: TokenConfig{Keyfunc: keyfunc, CacheSize: size}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	if now != nil {
		v.now = func() time.Time { return *now }
	}
	return v
}

// cached reports whether the validator holds tok as verified.
func cached(v *TokenValidator, tok string) bool {
	return v.cache.get(tokenSum(tok)) != nil
}

func mustValidate(t *testing.T, v *TokenValidator, tok string) *Claims {
	t.Helper()
	claims, err := v.Validate(context.Background(), tok)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return claims
}

func wantInvalid(t *testing.T, v *TokenValidator, tok, detail string) {
	t.Helper()
	_, err := v.Validate(context.Background(), tok)
	var e *Error
	if !errors.Is(err, ErrInvalidToken) || !errors.As(err, &e) || !strings.Contains(e.Detail, detail) {
		t.Fatalf("Validate: %v, want an invalid token error saying %q", err, detail)
	}
}

func TestTokenCacheNeverServesATamperedToken(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	v := newCachingValidator(t, iss, nil, 0, nil)
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			var opts []myaccounttest.TokenOption
			if alg == "ES256" {
				opts = append(opts, myaccounttest.ES256())
			}
			tok := iss.TokenWith(t, "auth0|alice", []string{scopeReadMethods}, opts...)
			mustValidate(t, v, tok)
			if !cached(v, tok) {
				t.Fatal("a verified token is not cached")
			}
			// Every byte, in the header, the claims and the signature, including
			// the signature's last character, whose low bits encode nothing.
			for i := range len(tok) {
				alt := byte('A')
				if tok[i] == 'A' {
					alt = 'B'
				}
				tampered := tok[:i] + string(alt) + tok[i+1:]
				if claims, err := v.Validate(context.Background(), tampered); err == nil {
					t.Fatalf("byte %d changed: accepted, as %s", i, claims.Subject)
				}
				if cached(v, tampered) {
					t.Fatalf("byte %d changed: cached", i)
				}
			}
			mustValidate(t, v, tok)
		})
	}
}

func TestTokenCacheChecksTimesOnEveryRequest(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	start := time.Now()
	now := start
	v := newCachingValidator(t, iss, nil, 0, &now)

	tok := iss.Token(t, "auth0|alice") // valid for an hour
	mustValidate(t, v, tok)
	now = start.Add(time.Hour + 4*time.Second) // within the leeway
	if !cached(v, tok) {
		t.Fatal("not cached")
	}
	mustValidate(t, v, tok)
	now = start.Add(time.Hour + 6*time.Second)
	wantInvalid(t, v, tok, "expired")
	if cached(v, tok) {
		t.Error("an expired token stays cached")
	}

	// Valid from an hour on, by nbf or iat: cached then, refused when the clock
	// goes back.
	for _, opt := range []myaccounttest.TokenOption{
		myaccounttest.NotBefore(start.Add(time.Hour)),
		myaccounttest.IssuedAt(start.Add(time.Hour)),
	} {
		tok := iss.TokenWith(t, "auth0|alice", nil, opt, myaccounttest.ExpiresIn(2*time.Hour))
		now = start
		wantInvalid(t, v, tok, "not valid yet")
		now = start.Add(time.Hour - 4*time.Second) // within the leeway
		mustValidate(t, v, tok)
		if !cached(v, tok) {
			t.Fatal("not cached")
		}
		now = start.Add(time.Hour - 6*time.Second)
		wantInvalid(t, v, tok, "not valid yet")
	}
}

func TestTokenCacheEndsWithTheKey(t *testing.T) {
	t.Run("JWKS", func(t *testing.T) {
		iss := myaccounttest.NewIssuer(t)
		// The JWKS keyfunc as NewTokenValidator makes it, but with time enough
		// for the refresh that an unknown kid triggers, even under -race.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{iss.JWKSURL()}, keyfunc.Override{
			PrioritizeHTTP: true, RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1), RateLimitWaitMax: 10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		v := newCachingValidator(t, iss, kf.Keyfunc, 0, nil)
		old := iss.Token(t, "auth0|alice")
		mustValidate(t, v, old)
		if err := iss.Rotate(); err != nil {
			t.Fatal(err)
		}
		mustValidate(t, v, old) // the validator has not seen the new key set yet
		// A token under the new key makes the validator fetch the key set again.
		mustValidate(t, v, iss.Token(t, "auth0|alice"))
		wantInvalid(t, v, old, "signature")
		if cached(v, old) {
			t.Error("a token of a rotated-away key stays cached")
		}
	})
	t.Run("Keyfunc", func(t *testing.T) {
		iss := myaccounttest.NewIssuer(t)
		// The same key every time, but a new value: it is still the same key.
		v := newCachingValidator(t, iss, func(*jwt.Token) (any, error) {
			k := *iss.RSAPublicKey()
			return &k, nil
		}, 0, nil)
		tok := iss.Token(t, "auth0|alice")
		mustValidate(t, v, tok)
		mustValidate(t, v, tok)
		if !cached(v, tok) {
			t.Fatal("not cached")
		}
		if err := iss.Rotate(); err != nil {
			t.Fatal(err)
		}
		wantInvalid(t, v, tok, "signature")
		mustValidate(t, v, iss.Token(t, "auth0|alice"))
	})
	t.Run("key sets are not cached", func(t *testing.T) {
		iss := myaccounttest.NewIssuer(t)
		v := newCachingValidator(t, iss, func(*jwt.Token) (any, error) {
			return jwt.VerificationKeySet{Keys: []jwt.VerificationKey{iss.RSAPublicKey()}}, nil
		}, 0, nil)
		tok := iss.Token(t, "auth0|alice")
		mustValidate(t, v, tok)
		if cached(v, tok) {
			t.Error("a token verified by one of a set of keys is cached")
		}
	})
}

func TestTokenCacheIsBounded(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	tokens := make([]string, 30)
	for i := range tokens {
		tokens[i] = iss.TokenWith(t, fmt.Sprintf("auth0|user%d", i), nil, myaccounttest.ES256())
	}
	for _, size := range []int{1, 2, 3, 10} {
		v := newCachingValidator(t, iss, iss.Keyfunc, size, nil)
		for i, tok := range tokens {
			mustValidate(t, v, tok)
			mustValidate(t, v, tokens[0]) // often used: it stays
			if n := v.cache.len(); n > size {
				t.Fatalf("size %d: %d entries", size, n)
			}
			if !cached(v, tokens[0]) || (size > 1 && !cached(v, tok)) {
				t.Fatalf("size %d: token %d or the first is not cached", size, i)
			}
		}
	}
}

func TestCacheSizeConfig(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	off := newCachingValidator(t, iss, iss.Keyfunc, -1, nil)
	tok := iss.Token(t, "auth0|alice")
	if mustValidate(t, off, tok); off.cache != nil {
		t.Error("Token.CacheSize -1 does not turn the cache off")
	}
	if _, err := NewTokenValidator(Config{Issuer: iss.Issuer, Token: TokenConfig{Keyfunc: iss.Keyfunc, CacheSize: -2}}); !errors.Is(err, ErrConfig) {
		t.Errorf("Token.CacheSize -2: %v", err)
	}
	for size, want := range map[int]int{0: 10_000, 5: 5} {
		api, err := New(Config{Issuer: iss.Issuer, Token: TokenConfig{Keyfunc: iss.Keyfunc, CacheSize: size}, WebAuthn: WebAuthnConfig{RPID: "localhost"}})
		if err != nil {
			t.Fatal(err)
		}
		if api.validator.cache == nil || api.validator.cache.max != want {
			t.Errorf("Config.Token.CacheSize %d: the API's cache is not %d", size, want)
		}
		api.Close()
	}
	// Validate hands out a copy: changing it changes nothing for the next caller.
	v := newCachingValidator(t, iss, iss.Keyfunc, 0, nil)
	mustValidate(t, v, tok).Subject = "auth0|mallory"
	if got := mustValidate(t, v, tok).Subject; got != "auth0|alice" {
		t.Errorf("cached claims were changed: %s", got)
	}
}

func TestTokenCacheConcurrentUse(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	v := newCachingValidator(t, iss, iss.Keyfunc, 4, nil)
	var good []string
	for i := range 8 {
		good = append(good, iss.TokenWith(t, fmt.Sprintf("auth0|user%d", i), nil, myaccounttest.ES256()))
	}
	bad := good[0][:len(good[0])-5] + "AAAAA"
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				tok := good[(g+i)%len(good)]
				if claims, err := v.Validate(context.Background(), tok); err != nil || claims.Subject != fmt.Sprintf("auth0|user%d", (g+i)%len(good)) {
					t.Errorf("Validate: %v", err)
				}
				if _, err := v.Validate(context.Background(), bad); err == nil {
					t.Error("a tampered token was accepted")
				}
			}
		})
	}
	wg.Wait()
}

func TestAuthenticateLeavesOneContextValue(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	v := newCachingValidator(t, iss, iss.Keyfunc, 0, nil)
	type otherKey struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), otherKey{}, "kept"))
	var inner context.Context
	h := v.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner = r.Context()
		claims, ok := ClaimsFromContext(inner)
		if !ok || claims.Subject != "auth0|alice" || inner.Value(otherKey{}) != "kept" {
			t.Errorf("claims %v %v, other value %v", claims, ok, inner.Value(otherKey{}))
		}
	}))
	req := httptest.NewRequestWithContext(parent, "GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+iss.Token(t, "auth0|alice"))
	h.ServeHTTP(httptest.NewRecorder(), req)
	if inner == nil {
		t.Fatal("the handler was not reached")
	}
	child, stop := context.WithCancel(inner)
	defer stop()
	cancel()
	select {
	case <-child.Done():
	case <-time.After(time.Second):
		t.Fatal("cancelling the request's context does not reach contexts made from it")
	}
}
