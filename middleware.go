package myaccount

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
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
	claims  Claims // the request's own shallow copy
	realm   string
	onError func(http.ResponseWriter, *http.Request, error)
}

// authContext is the request context after [TokenValidator.Authenticate]: the
// parent with the authState as its one value, in a single allocation.
type authContext struct {
	context.Context
	state authState
}

func (c *authContext) Value(key any) any {
	if key == (contextKey{}) {
		return &c.state
	}
	return c.Context.Value(key)
}

// ClaimsFromContext returns the verified claims that [TokenValidator.Authenticate]
// put in the request context. It never panics; ok is false when there are none.
func ClaimsFromContext(ctx context.Context) (claims *Claims, ok bool) {
	st, ok := ctx.Value(contextKey{}).(*authState)
	if !ok {
		return nil, false
	}
	return &st.claims, true
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
	// ProblemJSON serves error bodies as application/problem+json instead of
	// application/json, as [Config.ProblemJSON] does. Default: false.
	ProblemJSON bool
	// Logger receives JWKS refresh failures. Default: slog.Default().
	Logger *slog.Logger
	// TokenCacheSize is how many verified tokens are remembered, by the SHA-256
	// of the whole token, so that a token seen before is accepted without
	// verifying its signature again. exp, nbf and iat are still checked on every
	// request, and an entry is used only while the keyfunc still returns the key
	// that verified it (a JWKS refresh that drops or replaces the key ends it);
	// on a hit the keyfunc gets the token's header and claims, without Raw and
	// Signature. -1 turns the cache off. Default: 10,000.
	TokenCacheSize int
}

// TokenValidator verifies bearer access tokens (RFC 6750, RFC 7519). Its
// [TokenValidator.Authenticate] middleware can protect any route of an app,
// together with [RequireAudience] and [RequireScope].
type TokenValidator struct {
	keyfunc jwt.Keyfunc
	parser  *jwt.Parser
	leeway  time.Duration
	now     func() time.Time // time.Now, but for tests
	cache   *tokenCache      // nil when off
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
	if cfg.TokenCacheSize < -1 {
		return nil, fmt.Errorf("%w: TokenCacheSize must be -1 (off), 0 (the default) or positive", ErrConfig)
	}
	v := &TokenValidator{
		leeway:  leeway,
		now:     time.Now,
		realm:   orDefault(cfg.Realm, cfg.Issuer),
		onError: cfg.ErrorHandler,
		cancel:  func() {},
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		// Strict base64url: a token has one spelling, so changing any byte of it,
		// even a signature's unused trailing bits, makes it invalid.
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	)
	if cfg.TokenCacheSize != -1 {
		v.cache = newTokenCache(cmp.Or(cfg.TokenCacheSize, 10_000))
	}
	if v.onError == nil {
		v.onError = WriteError
	}
	if cfg.ProblemJSON {
		v.onError = withProblemJSON(v.onError)
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
		// Read the fetched keys first: the cache asks for a token's key on every hit.
		PrioritizeHTTP: true,
		// A token with an unknown kid (the issuer rotated its keys) may trigger
		// one refetch every 10 seconds. The wait bound is also the refetch's own
		// deadline, so it must cover a real fetch; it stalls no flood of forged
		// kids, as rate.Limiter.Wait fails at once when its wait would pass it.
		RefreshUnknownKID: rate.NewLimiter(rate.Every(10*time.Second), 1),
		RateLimitWaitMax:  5 * time.Second,
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

// Validate verifies a raw token and returns its claims, a copy of its own.
// A token verified before may come from the cache ([TokenConfig.TokenCacheSize]).
// Errors wrap [ErrInvalidToken].
func (v *TokenValidator) Validate(raw string) (*Claims, error) {
	claims, err := v.check(raw)
	if err != nil {
		return nil, err
	}
	c := *claims
	return &c, nil
}

// check is Validate, but its claims may be the cache's: read them, never write.
func (v *TokenValidator) check(raw string) (*Claims, error) {
	if v.cache == nil {
		return v.verify(raw, v.keyfunc)
	}
	sum := tokenSum(raw)
	if e := v.cache.get(sum); e != nil {
		if v.stillValid(e) {
			return &e.claims, nil
		}
		v.cache.remove(sum)
	}
	var token *jwt.Token
	var key any
	claims, err := v.verify(raw, func(t *jwt.Token) (any, error) {
		k, err := v.keyfunc(t)
		token, key = t, k
		return k, err
	})
	if err == nil && isSingleKey(key) {
		e := &verifiedToken{claims: *claims, key: key,
			notAfter: claims.ExpiresAt.Add(v.leeway)}
		// What the keyfunc saw, less the bytes it has no use for on a hit.
		e.token = &jwt.Token{Header: token.Header, Method: token.Method, Claims: &e.claims}
		for _, t := range []*jwt.NumericDate{claims.NotBefore, claims.IssuedAt} {
			if t != nil && t.Add(-v.leeway).After(e.notBefore) {
				e.notBefore = t.Add(-v.leeway)
			}
		}
		v.cache.put(sum, e)
	}
	return claims, err
}

// tokenSum is the SHA-256 of a token. Hashing a copy on the stack spares the
// allocation that converting the string to []byte would make.
func tokenSum(raw string) [sha256.Size]byte {
	var buf [2048]byte
	if len(raw) <= len(buf) {
		return sha256.Sum256(append(buf[:0], raw...))
	}
	return sha256.Sum256([]byte(raw))
}

func (v *TokenValidator) verify(raw string, keyfunc jwt.Keyfunc) (*Claims, error) {
	claims := new(Claims)
	if _, err := v.parser.ParseWithClaims(raw, claims, keyfunc); err != nil {
		return nil, v.tokenError(describeTokenError(err))
	}
	if claims.isMachine() {
		return nil, v.tokenError("The access token does not belong to a user.")
	}
	return claims, nil
}

// stillValid reports whether a cached token passes, now, the time checks that
// parsing applies (exp required, nbf and iat, each with the leeway), and the
// keyfunc still gives the key that verified it. When it does not, the token is
// parsed again, which gives the precise error.
func (v *TokenValidator) stillValid(e *verifiedToken) bool {
	now := v.now()
	if !now.Before(e.notAfter) || now.Before(e.notBefore) {
		return false
	}
	key, err := v.keyfunc(e.token)
	return err == nil && sameKey(key, e.key)
}

// verifiedToken is a cache entry: a token whose signature verified.
type verifiedToken struct {
	claims    Claims
	token     *jwt.Token // header and claims, to ask the keyfunc again
	key       any        // the key that verified the signature
	notBefore time.Time  // the latest of nbf and iat, less the leeway
	notAfter  time.Time  // exp plus the leeway
}

// isSingleKey reports whether key is one public key that sameKey can compare,
// rather than, say, a jwt.VerificationKeySet; only those tokens are cached.
func isSingleKey(key any) bool { return sameKey(key, key) }

// sameKey reports whether a and b are the same public key: the same pointer,
// as a keyfunc returns until its key set changes, or equal values.
func sameKey(a, b any) bool {
	switch x := a.(type) {
	case *rsa.PublicKey:
		y, ok := b.(*rsa.PublicKey)
		return ok && x != nil && y != nil && (x == y || x.Equal(y))
	case *ecdsa.PublicKey:
		y, ok := b.(*ecdsa.PublicKey)
		return ok && x != nil && y != nil && (x == y || x.Equal(y))
	case ed25519.PublicKey:
		y, ok := b.(ed25519.PublicKey)
		return ok && len(x) == ed25519.PublicKeySize && x.Equal(y)
	}
	return false
}

// tokenCache holds at most max verified tokens in two generations: a hit in
// the old generation moves the entry to the new one, and when the new one is
// full it becomes the old one, dropping the entries nobody asked for since.
// Recently used tokens stay, as with an LRU, for a map operation per request.
type tokenCache struct {
	mu       sync.Mutex
	max      int
	cur, old map[[sha256.Size]byte]*verifiedToken
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, cur: make(map[[sha256.Size]byte]*verifiedToken)}
}

func (c *tokenCache) get(sum [sha256.Size]byte) *verifiedToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.cur[sum]; e != nil {
		return e
	}
	e := c.old[sum]
	if e != nil {
		delete(c.old, sum)
		c.insert(sum, e)
	}
	return e
}

func (c *tokenCache) put(sum [sha256.Size]byte, e *verifiedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.old, sum)
	c.insert(sum, e)
}

// insert adds e to the new generation, turning generations over as needed so
// that both together never hold more than max entries. The caller holds c.mu.
func (c *tokenCache) insert(sum [sha256.Size]byte, e *verifiedToken) {
	if _, ok := c.cur[sum]; !ok {
		if len(c.cur) >= (c.max+1)/2 {
			c.old, c.cur = c.cur, make(map[[sha256.Size]byte]*verifiedToken, len(c.cur))
		}
		for k := range c.old {
			if len(c.cur)+len(c.old) < c.max {
				break
			}
			delete(c.old, k)
		}
	}
	c.cur[sum] = e
}

func (c *tokenCache) remove(sum [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cur, sum)
	delete(c.old, sum)
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
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
		claims, err := v.check(raw)
		if err != nil {
			v.onError(w, r, err)
			return
		}
		ctx := &authContext{Context: r.Context(), state: authState{claims: *claims, realm: v.realm, onError: v.onError}}
		next.ServeHTTP(w, r.WithContext(ctx))
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
