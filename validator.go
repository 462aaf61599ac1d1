package myaccount

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// defaultAlgorithms are the signing algorithms accepted unless configured otherwise:
// asymmetric only, so a public key can never double as an HMAC secret.
var defaultAlgorithms = []string{"RS256", "PS256", "ES256", "EdDSA"}

var asymmetricAlgorithms = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
}

// TokenConfig holds how an [API] or a [TokenValidator] checks tokens
// ([Config.Token]); the issuer, the public URL, and how errors are answered
// and logged are the [Config]'s. Zero values are the defaults.
type TokenConfig struct {
	// JWKSURL is where the issuer's signing keys are. Default:
	// ".well-known/jwks.json" under Issuer, with or without its trailing slash.
	JWKSURL string
	// Keyfunc supplies verification keys instead of fetching JWKSURL, for keys
	// of your own or a test issuer. Default: nil.
	Keyfunc jwt.Keyfunc
	// Algorithms are the accepted "alg" values, asymmetric only. Default: RS256, PS256, ES256 and EdDSA.
	Algorithms []string
	// Leeway is the clock skew allowed on exp, nbf, iat and auth_time. Default: 5 seconds.
	Leeway time.Duration
	// Realm is the realm of WWW-Authenticate challenges. Default: an API's
	// Audience; a TokenValidator of its own, the Issuer.
	Realm string
	// HTTPClient fetches the JWKS. Default: a client with a 10 second timeout.
	HTTPClient *http.Client
	// CacheSize is how many verified tokens are remembered, by the SHA-256
	// of the whole token, so that a token seen before is accepted without
	// verifying its signature again. exp, nbf and iat are still checked on every
	// request, and an entry is used only while the keyfunc still returns the key
	// that verified it (a JWKS refresh that drops or replaces the key ends it);
	// on a hit the keyfunc gets the token's header and claims, without Raw and
	// Signature. A DPoP-bound token's proof is checked on every request, cached
	// or not. -1 turns the cache off. Default: 10,000.
	CacheSize int
	// DPoP configures DPoP-bound tokens (RFC 9449). Default: accepted beside
	// bearer tokens, without server nonces.
	DPoP DPoPConfig
	// StepUp maps a scope to the authentication that [RequireScope] of that
	// scope demands on top (RFC 9470): a token whose auth_time or acr falls
	// short gets 401 insufficient_user_authentication. Hyphens and underscores
	// in scopes are the same. Default: none.
	StepUp map[string]StepUp
}

// TokenValidator verifies access tokens: bearer tokens (RFC 6750, RFC 7519)
// and DPoP-bound tokens with their proofs (RFC 9449). Its
// [TokenValidator.Authenticate] middleware can protect any route of an app,
// together with [RequireAudience] and [RequireScope].
type TokenValidator struct {
	keyfunc    jwt.Keyfunc
	parser     *jwt.Parser
	leeway     time.Duration
	now        func() time.Time // time.Now, but for tests
	cache      *tokenCache      // nil when off
	realm      string
	onError    func(http.ResponseWriter, *http.Request, error)
	dpop       *dpopChecker
	stepUp     map[string]StepUp          // by scope with underscores only
	publicBase func(*http.Request) string // scheme://host of a request, for htu
	cancel     context.CancelFunc         // stops the JWKS refresh
}

// NewTokenValidator returns a validator of an app's own, to protect its
// routes with the token checks an API makes. It reads, of cfg, Domain or
// Issuer, Token, PublicURL, TrustForwardedHeaders, ErrorHandler, ProblemJSON
// and Logger, and ignores the rest. Unless cfg.Token.Keyfunc is set, it starts
// fetching the JWKS in the background: call [TokenValidator.Close] to stop it.
// Errors wrap [ErrConfig].
func NewTokenValidator(cfg Config) (*TokenValidator, error) {
	if _, err := cfg.resolveTokens(); err != nil {
		return nil, err
	}
	onError := cfg.ErrorHandler
	if cfg.ProblemJSON {
		onError = withProblemJSON(onError)
	}
	return newTokenValidator(&cfg, cfg.Issuer, onError, cfg.publicBase)
}

// newTokenValidator builds the validator of a resolved cfg, with the realm
// its challenges name by default, the function that answers its errors and
// the one that gives the public scheme and host of a request.
func newTokenValidator(c *Config, realm string, onError func(http.ResponseWriter, *http.Request, error),
	publicBase func(*http.Request) string) (*TokenValidator, error) {
	cfg := c.Token
	if err := checkSecureURL("Issuer", c.Issuer); err != nil {
		return nil, err
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = defaultAlgorithms
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
	if cfg.CacheSize < -1 {
		return nil, fmt.Errorf("%w: Token.CacheSize must be -1 (off), 0 (the default) or positive", ErrConfig)
	}
	dpop, err := newDPoPChecker(cfg.DPoP)
	if err != nil {
		return nil, err
	}
	stepUp, err := resolveStepUp(cfg.StepUp)
	if err != nil {
		return nil, err
	}
	v := &TokenValidator{
		leeway:     leeway,
		now:        time.Now,
		realm:      orDefault(cfg.Realm, realm),
		onError:    onError,
		dpop:       dpop,
		stepUp:     stepUp,
		publicBase: publicBase,
		cancel:     func() {},
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithIssuer(c.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		// Strict base64url: a token has one spelling, so changing any byte of it,
		// even a signature's unused trailing bits, makes it invalid.
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	)
	if cfg.CacheSize != -1 {
		v.cache = newTokenCache(cmp.Or(cfg.CacheSize, 10_000))
	}
	if cfg.Keyfunc != nil {
		v.keyfunc = cfg.Keyfunc
		return v, nil
	}
	jwksURL := cfg.JWKSURL
	if jwksURL == "" {
		// Derived from an Issuer checked above, so it needs no check of its own,
		// and an error here would name a field the caller never set.
		if jwksURL, err = underIssuer(c.Issuer, jwksPath); err != nil {
			return nil, fmt.Errorf("%w: Issuer %q: %v", ErrConfig, c.Issuer, err)
		}
	} else if err := checkSecureURL("JWKSURL", jwksURL); err != nil {
		return nil, err
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	logger := c.Logger
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

// Validate verifies a raw bearer token and returns its claims, a copy of the
// caller's own. A token verified before may come from the cache
// ([TokenConfig.CacheSize]). A DPoP-bound token is refused, as its proof
// cannot be checked here: use [TokenValidator.ValidateRequest]. Errors are
// *Error values wrapping [ErrInvalidToken].
func (v *TokenValidator) Validate(ctx context.Context, raw string) (*Claims, error) {
	claims, err := v.check(raw)
	if err != nil {
		return nil, v.challengeError(v.realm, schemeBearer, "invalid_token", err.Error())
	}
	if claims.Confirmation.JKT != "" {
		return nil, v.challengeError(v.realm, schemeBearer, "invalid_token", boundAsBearer)
	}
	return claims.clone(), nil
}

// ValidateRequest verifies the access token of r's Authorization header, as
// [TokenValidator.Authenticate] does: a bearer token, or a DPoP-bound token
// with the proof of r's DPoP header, per [DPoPConfig.Mode]. It returns the
// claims, a copy of the caller's own. Errors are *Error values with their
// challenges, wrapping [ErrMissingToken], [ErrInvalidToken],
// or [ErrUnavailable].
func (v *TokenValidator) ValidateRequest(r *http.Request) (*Claims, error) {
	a, err := v.authenticate(r, nil, v.realm)
	if err != nil {
		return nil, err
	}
	if a.proof != nil {
		if err := v.dpop.record(r.Context(), v, *a.proof); err != nil {
			return nil, err
		}
	}
	return a.claims.clone(), nil
}

// tokenProblem is why a token was refused, in words fit for the client.
type tokenProblem string

func (p tokenProblem) Error() string { return string(p) }

const boundAsBearer = "The access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof."

// check verifies a token; its claims may be the cache's: read them, never
// write. Errors are tokenProblems.
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
	tc := new(tokenClaims)
	claims := &tc.Claims
	_, err := v.parser.ParseWithClaims(raw, tc, func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, errCritical
		}
		return keyfunc(t)
	})
	if err != nil {
		return nil, tokenProblem(describeTokenError(err))
	}
	if claims.isMachine() {
		return nil, tokenProblem("The access token does not belong to a user.")
	}
	if len(claims.Subject) > maxSubjectLength || !isText(claims.Subject) {
		return nil, tokenProblem("The access token's sub is not a user id this API keeps: text of at most 1,024 bytes, without control or format characters.")
	}
	return claims, nil
}

// maxSubjectLength bounds a token's sub, in bytes. The sub keys every row a
// store keeps for the user (PostgreSQL's index rows hold 2,704 bytes) and is
// sealed into each auth_session (at most maxAuthSessionLength); a user id of
// Auth0's is under 300.
const maxSubjectLength = 1024

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

func describeTokenError(err error) string {
	switch {
	case errors.Is(err, errCritical):
		return "The access token names a critical header extension this server does not understand."
	case errors.Is(err, errDateNotNumber):
		return "The access token's exp, nbf, iat and auth_time must be numbers."
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
