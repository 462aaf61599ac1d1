package myaccount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// DefaultAlgorithms are the signing algorithms accepted unless configured otherwise:
// asymmetric only, so a public key can never double as an HMAC secret.
var DefaultAlgorithms = []string{"RS256", "PS256", "ES256", "EdDSA"}

var asymmetricAlgorithms = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
}

// Claims are the verified claims of an access token.
type Claims struct {
	jwt.RegisteredClaims
	// Scope is the space-separated scope claim.
	Scope string `json:"scope,omitempty"`
	// Permissions is Auth0's RBAC permissions claim, treated as more scopes.
	Permissions []string `json:"permissions,omitempty"`
	// GrantType is Auth0's "gty" claim; "client-credentials" marks a machine token.
	GrantType string `json:"gty,omitempty"`
	Name      string `json:"name,omitempty"`
	Nickname  string `json:"nickname,omitempty"`
	Email     string `json:"email,omitempty"`
}

// HasScope reports whether the token grants scope, through its scope claim or its
// permissions. A hyphen and an underscore are the same character here, so the
// seed's "create:me:authentication-methods" is "create:me:authentication_methods".
func (c *Claims) HasScope(scope string) bool {
	for granted := range strings.FieldsSeq(c.Scope) {
		if sameScope(granted, scope) {
			return true
		}
	}
	for _, granted := range c.Permissions {
		if sameScope(granted, scope) {
			return true
		}
	}
	return false
}

func sameScope(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == '-' {
			x = '_'
		}
		if y == '-' {
			y = '_'
		}
		if x != y {
			return false
		}
	}
	return true
}

// isMachine reports whether the token was issued to a client rather than a user.
func (c *Claims) isMachine() bool {
	return c.Subject == "" || c.GrantType == "client-credentials" || strings.HasSuffix(c.Subject, "@clients")
}

type contextKey struct{}

// authState is what the authenticating middleware leaves for the ones after it.
type authState struct {
	claims  *Claims
	realm   string
	onError func(http.ResponseWriter, *http.Request, error)
}

// ClaimsFromContext returns the verified claims that [TokenValidator.Authenticate]
// put in the request context. It never panics; ok is false when there are none.
func ClaimsFromContext(ctx context.Context) (claims *Claims, ok bool) {
	st, ok := ctx.Value(contextKey{}).(*authState)
	if !ok || st.claims == nil {
		return nil, false
	}
	return st.claims, true
}

// TokenConfig configures a [TokenValidator]. Zero values are the defaults.
type TokenConfig struct {
	// Issuer is the exact "iss" a token must carry, such as "https://tenant.auth0.com/".
	// Required. It must be https, except on loopback hosts.
	Issuer string
	// JWKSURL is where the issuer's signing keys are. Default: Issuer + ".well-known/jwks.json".
	JWKSURL string
	// Keyfunc supplies verification keys instead of fetching JWKSURL. Default: nil.
	Keyfunc jwt.Keyfunc
	// Algorithms are the accepted "alg" values, asymmetric only. Default: [DefaultAlgorithms].
	Algorithms []string
	// Leeway is the clock skew allowed on exp, nbf and iat. Default: 5 seconds.
	Leeway time.Duration
	// Realm is the realm of WWW-Authenticate challenges. Default: Issuer.
	Realm string
	// HTTPClient fetches the JWKS. Default: a client with a 10 second timeout.
	HTTPClient *http.Client
	// ErrorHandler writes token errors. Default: [WriteError].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives JWKS refresh failures. Default: slog.Default().
	Logger *slog.Logger
}

// TokenValidator verifies bearer access tokens (RFC 6750, RFC 7519). Its
// [TokenValidator.Authenticate] middleware can protect any route of an app,
// together with [RequireAudience] and [RequireScope].
type TokenValidator struct {
	keyfunc jwt.Keyfunc
	parser  *jwt.Parser
	realm   string
	onError func(http.ResponseWriter, *http.Request, error)
	cancel  context.CancelFunc // stops the JWKS refresh
}

// NewTokenValidator checks cfg and, unless cfg.Keyfunc is set, starts fetching the
// JWKS in the background. Call [TokenValidator.Close] to stop it.
func NewTokenValidator(cfg TokenConfig) (*TokenValidator, error) {
	if cfg.Issuer == "" {
		return nil, fmt.Errorf("%w: Issuer is required", ErrConfig)
	}
	if err := checkSecureURL("Issuer", cfg.Issuer); err != nil {
		return nil, err
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = DefaultAlgorithms
	}
	for _, alg := range algs {
		if !slices.Contains(asymmetricAlgorithms, alg) {
			return nil, fmt.Errorf("%w: algorithm %q is not an asymmetric JWS algorithm", ErrConfig, alg)
		}
	}
	leeway := cfg.Leeway
	if leeway == 0 {
		leeway = 5 * time.Second
	}
	v := &TokenValidator{
		parser: jwt.NewParser(
			jwt.WithValidMethods(algs),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
		),
		realm:   orDefault(cfg.Realm, cfg.Issuer),
		onError: cfg.ErrorHandler,
		cancel:  func() {},
	}
	if v.onError == nil {
		v.onError = WriteError
	}
	if cfg.Keyfunc != nil {
		v.keyfunc = cfg.Keyfunc
		return v, nil
	}
	jwksURL := orDefault(cfg.JWKSURL, cfg.Issuer+".well-known/jwks.json")
	if err := checkSecureURL("JWKSURL", jwksURL); err != nil {
		return nil, err
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{jwksURL}, keyfunc.Override{
		Client: client,
		// A token with an unknown kid may trigger one refetch every few seconds,
		// and never waits for one: a flood of forged kids must not stall requests.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(10*time.Second), 1),
		RateLimitWaitMax:  time.Millisecond,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				logger.WarnContext(ctx, "myaccount: JWKS refresh failed", "url", u, "err", err)
			}
		},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: JWKS: %v", ErrConfig, err)
	}
	v.keyfunc, v.cancel = kf.Keyfunc, cancel
	return v, nil
}

// Close stops the background JWKS refresh. It is safe to call more than once.
func (v *TokenValidator) Close() { v.cancel() }

// Validate verifies a raw token and returns its claims. Errors wrap [ErrInvalidToken].
func (v *TokenValidator) Validate(raw string) (*Claims, error) {
	claims := new(Claims)
	if _, err := v.parser.ParseWithClaims(raw, claims, v.keyfunc); err != nil {
		return nil, v.tokenError(describeTokenError(err))
	}
	if claims.isMachine() {
		return nil, v.tokenError("The access token does not belong to a user.")
	}
	return claims, nil
}

func describeTokenError(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "The access token expired."
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "The access token is not valid yet."
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "The access token lacks a required claim."
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "The access token has the wrong issuer."
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "The access token is malformed."
	}
	return "The access token signature is invalid."
}

// Authenticate is middleware that requires a valid bearer token in the
// Authorization header and puts its claims in the request context. Tokens in the
// query string or body are ignored, as if absent.
func (v *TokenValidator) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := v.bearerToken(r)
		if err != nil {
			v.onError(w, r, err)
			return
		}
		claims, err := v.Validate(raw)
		if err != nil {
			v.onError(w, r, err)
			return
		}
		st := &authState{claims: claims, realm: v.realm, onError: v.onError}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), contextKey{}, st)))
	})
}

func (v *TokenValidator) bearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", missingTokenError(v.realm)
	}
	if len(values) > 1 {
		return "", v.tokenError("Send exactly one Authorization header.")
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", missingTokenError(v.realm)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", v.tokenError("The access token is malformed.")
	}
	return token, nil
}

func missingTokenError(realm string) *Error {
	e := newError(http.StatusUnauthorized, "A0E-401-0001", "An access token is required in the Authorization header.", ErrMissingToken)
	e.Header = http.Header{"Www-Authenticate": {`Bearer realm="` + quote(realm) + `"`}}
	return e
}

func (v *TokenValidator) tokenError(detail string) *Error {
	return invalidTokenError(v.realm, detail)
}

func invalidTokenError(realm, detail string) *Error {
	e := newError(http.StatusUnauthorized, "A0E-401-0001", detail, ErrInvalidToken)
	e.Header = http.Header{"Www-Authenticate": {`Bearer realm="` + quote(realm) +
		`", error="invalid_token", error_description="` + quote(detail) + `"`}}
	return e
}

// RequireAudience is middleware, after [TokenValidator.Authenticate], that refuses
// a token whose "aud" does not contain audience with 401 invalid_token.
func RequireAudience(audience string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, ok := r.Context().Value(contextKey{}).(*authState)
			if !ok {
				WriteError(w, r, missingTokenError(""))
				return
			}
			if !slices.Contains(st.claims.Audience, audience) {
				st.onError(w, r, invalidTokenError(st.realm, "The access token has the wrong audience."))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequireScope is middleware, after [TokenValidator.Authenticate], that refuses a
// token lacking any of scopes with 403 insufficient_scope.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, ok := r.Context().Value(contextKey{}).(*authState)
			if !ok {
				WriteError(w, r, missingTokenError(""))
				return
			}
			if err := checkScopes(st, scopes); err != nil {
				st.onError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func checkScopes(st *authState, scopes []string) error {
	for _, s := range scopes {
		if !st.claims.HasScope(s) {
			return insufficientScopeError(st.realm, scopes)
		}
	}
	return nil
}

func insufficientScopeError(realm string, scopes []string) *Error {
	list := strings.Join(scopes, " ")
	e := newError(http.StatusForbidden, "A0E-403-0002", "The access token lacks the scope "+list+".", ErrInsufficientScope)
	e.Header = http.Header{"Www-Authenticate": {`Bearer realm="` + quote(realm) +
		`", error="insufficient_scope", error_description="` + quote(e.Detail) + `", scope="` + quote(list) + `"`}}
	return e
}

// quote escapes a value for a quoted-string in a challenge (RFC 9110 5.6.4).
func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// checkSecureURL requires https, except for loopback hosts used in development.
func checkSecureURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: %s %q is not an absolute URL", ErrConfig, name, raw)
	}
	if u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname())) {
		return nil
	}
	return fmt.Errorf("%w: %s %q must use https (http only on localhost, 127.0.0.1 or [::1])", ErrConfig, name, raw)
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func orDefault(value, fallback string) string {
	if value != "" {
		return value
	}
	return fallback
}
