package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/jwks"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/golang-jwt/jwt/v5"
)

// scope is what every contender requires of the token.
const scope = "read:me:authentication_methods"

// noContent is the protected handler: it does nothing, so what is measured is
// the token check.
var noContent = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNoContent)
})

// contender is a handler that checks a token before answering 204.
type contender struct {
	name    string
	handler http.Handler
}

// BenchmarkTokenCheck runs every contender on the same token, signed RS256 or
// ES256, verified against the same JWKS served on 127.0.0.1, through
// ServeHTTP with a fresh httptest.ResponseRecorder per request.
func BenchmarkTokenCheck(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run("alg="+alg, func(b *testing.B) {
			iss := myaccounttest.NewIssuer(b)
			token := iss.TokenWith(b, "auth0|bench", []string{scope}, algOption(alg)...)
			for _, c := range contenders(b, iss, alg) {
				b.Run("impl="+c.name, func(b *testing.B) {
					req := httptest.NewRequest(http.MethodGet, "/orders", nil)
					req.Header.Set("Authorization", "Bearer "+token)
					serve(b, c.handler, req, http.StatusNoContent) // warms any cache
					b.ReportAllocs()
					for b.Loop() {
						rec := httptest.NewRecorder()
						c.handler.ServeHTTP(rec, req)
						if rec.Code != http.StatusNoContent {
							b.Fatalf("status %d", rec.Code)
						}
					}
				})
			}
		})
	}
}

func contenders(b *testing.B, iss *myaccounttest.Issuer, alg string) []contender {
	return []contender{
		{"golang-jwt-floor", golangJWTFloor(b, iss, alg)},
		{"myaccount-cache-off", ours(b, iss, -1)},
		{"myaccount-cache-hit", ours(b, iss, 0)},
		{"go-jwt-middleware-v2", goJWTMiddleware(b, iss, alg)},
	}
}

// ours is TokenValidator.Authenticate, RequireAudience and RequireScope, with
// the verified-token cache off (-1) or at its default size (0).
func ours(b *testing.B, iss *myaccounttest.Issuer, cacheSize int) http.Handler {
	v, err := myaccount.NewTokenValidator(myaccount.Config{
		Issuer: iss.Issuer, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL(), CacheSize: cacheSize},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(v.Close)
	return v.Authenticate(myaccount.RequireAudience(iss.Audience)(myaccount.RequireScope(scope)(noContent)))
}

// golangJWTFloor is the least any Go service can do: jwt.Parse with the key
// already in hand, no key lookup, audience or scope check.
func golangJWTFloor(b *testing.B, iss *myaccounttest.Issuer, alg string) http.Handler {
	probe, err := iss.Mint("auth0|probe", nil, algOption(alg)...)
	if err != nil {
		b.Fatal(err)
	}
	var key any
	if _, err := jwt.Parse(probe, func(t *jwt.Token) (any, error) {
		key, err = iss.Keyfunc(t)
		return key, err
	}); err != nil {
		b.Fatal(err)
	}
	keyfunc := func(*jwt.Token) (any, error) { return key, nil }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if _, err := jwt.Parse(raw, keyfunc); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		noContent.ServeHTTP(w, r)
	})
}

// scopeClaims is the custom claims type go-jwt-middleware's examples use to
// check a scope in the handler.
type scopeClaims struct {
	Scope string `json:"scope"`
}

func (*scopeClaims) Validate(context.Context) error { return nil }

func (c *scopeClaims) hasScope(want string) bool {
	for s := range strings.FieldsSeq(c.Scope) {
		if s == want {
			return true
		}
	}
	return false
}

// goJWTMiddleware is Auth0's go-jwt-middleware v2 as its README sets it up: a
// caching JWKS provider, validator.New for one algorithm with the issuer and
// audience, jwtmiddleware.New, and the scope checked in the handler.
func goJWTMiddleware(b *testing.B, iss *myaccounttest.Issuer, alg string) http.Handler {
	issuerURL, _ := url.Parse(iss.Issuer)
	jwksURL, _ := url.Parse(iss.JWKSURL())
	provider := jwks.NewCachingProvider(issuerURL, 5*time.Minute, jwks.WithCustomJWKSURI(jwksURL))
	v, err := validator.New(provider.KeyFunc, validator.SignatureAlgorithm(alg), iss.Issuer, []string{iss.Audience},
		validator.WithCustomClaims(func() validator.CustomClaims { return &scopeClaims{} }),
		validator.WithAllowedClockSkew(5*time.Second))
	if err != nil {
		b.Fatal(err)
	}
	mw := jwtmiddleware.New(v.ValidateToken)
	return mw.CheckJWT(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := r.Context().Value(jwtmiddleware.ContextKey{}).(*validator.ValidatedClaims)
		if !ok || !claims.CustomClaims.(*scopeClaims).hasScope(scope) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		noContent.ServeHTTP(w, r)
	}))
}

func algOption(alg string) []myaccounttest.TokenOption {
	if alg == "ES256" {
		return []myaccounttest.TokenOption{myaccounttest.ES256()}
	}
	return nil
}

// serve runs one request and fails b unless it gets status.
func serve(tb testing.TB, h http.Handler, req *http.Request, status int) *httptest.ResponseRecorder {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != status {
		tb.Fatalf("%s %s: status %d, want %d: %s", req.Method, req.URL, rec.Code, status, rec.Body)
	}
	return rec
}
