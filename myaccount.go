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

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/golang-jwt/jwt/v5"
)

// Scopes of the My Account API. Tokens may also spell them with hyphens.
const (
	ScopeReadFactors   = "read:me:factors"
	ScopeReadMethods   = "read:me:authentication_methods"
	ScopeCreateMethods = "create:me:authentication_methods"
	ScopeUpdateMethods = "update:me:authentication_methods"
	ScopeDeleteMethods = "delete:me:authentication_methods"
)

// AllScopes returns every scope of the My Account API, for a token that may do
// anything (a development issuer, a test).
func AllScopes() []string {
	return []string{ScopeReadFactors, ScopeReadMethods, ScopeCreateMethods, ScopeUpdateMethods, ScopeDeleteMethods}
}

// Config configures an [API]. Zero values are the defaults; [Config.Domain] alone
// is enough for an Auth0-style deployment.
type Config struct {
	// Domain is the tenant's host, such as "tenant.auth0.com". Issuer, Audience,
	// JWKSURL and RPID derive from it. Default: none; set Domain or Issuer.
	Domain string
	// Issuer is the exact "iss" of accepted tokens. Default: "https://{Domain}/".
	Issuer string
	// Audience must be among a token's "aud". Default: "https://{Domain}/me/", or
	// Issuer + "me/" when only Issuer is set.
	Audience string
	// Token holds the token settings: keys, algorithms, leeway, the
	// verified-token cache, DPoP and step-up; see [TokenConfig]. Token.Issuer
	// defaults to Issuer, Token.Realm to Audience, and Token.ErrorHandler and
	// Token.Logger, when set, stand for ErrorHandler and Logger. Default: the
	// zero TokenConfig.
	Token TokenConfig

	// JWKSURL is moved into Token.JWKSURL by New; setting both differently is an error.
	//
	// Deprecated: set Token.JWKSURL instead.
	//
	// Default: "".
	JWKSURL string
	// Keyfunc is moved into Token.Keyfunc by New; setting both is an error.
	//
	// Deprecated: set Token.Keyfunc instead.
	//
	// Default: nil.
	Keyfunc jwt.Keyfunc
	// Algorithms is moved into Token.Algorithms by New; setting both differently is an error.
	//
	// Deprecated: set Token.Algorithms instead.
	//
	// Default: nil.
	Algorithms []string
	// Leeway is moved into Token.Leeway by New; setting both differently is an error.
	//
	// Deprecated: set Token.Leeway instead.
	//
	// Default: 0.
	Leeway time.Duration
	// HTTPClient is moved into Token.HTTPClient by New; setting both differently is an error.
	//
	// Deprecated: set Token.HTTPClient instead.
	//
	// Default: nil.
	HTTPClient *http.Client
	// TokenCacheSize is moved into Token.TokenCacheSize by New; setting both differently is an error.
	//
	// Deprecated: set Token.TokenCacheSize instead.
	//
	// Default: 0.
	TokenCacheSize int

	// RPID is the WebAuthn relying party id. Default: Domain; without Domain,
	// Issuer's host, except that a loopback Issuer (localhost, 127.0.0.1, [::1],
	// as in tests and local development) gives "localhost", since WebAuthn does
	// not accept an IP address as a relying party id.
	RPID string
	// RPName is the relying party name shown by authenticators. Default: RPID.
	RPName string
	// Origins are the web origins allowed to create passkeys. Default:
	// "https://{RPID}", or "http://localhost" when RPID is "localhost" (browsers
	// treat http://localhost as secure; it is also the origin
	// myaccounttest.Authenticator reports by default).
	Origins []string
	// UserVerification is the WebAuthn user verification requirement: "required",
	// "preferred" or "discouraged". Default: "preferred".
	UserVerification string
	// UserNames gives the WebAuthn user name and display name for a token's user.
	// Default: from the token's email, nickname or name claims, else its subject.
	UserNames func(claims *Claims) (name, displayName string)
	// AllowIdentity decides whether the user may enroll a method for identity, the
	// identity_user_id of a request (on connection, which may be empty), when it is
	// not the user's own: the part of the subject after "|", always allowed.
	// Default: nil, allowing no other identity.
	AllowIdentity func(ctx context.Context, claims *Claims, identity, connection string) bool

	// BasePath is the path the API is mounted under, in front of /me/, such as
	// "/api": the API then serves /api/me/v1/... and /api/me/..., and its
	// Location headers point there. Mount it at BasePath + "/me/" without
	// http.StripPrefix (or register [API.Routes], whose patterns include it).
	// It starts with "/" and holds only unreserved characters (letters, digits,
	// "-", ".", "_", "~") between slashes. Default: "" (the API at /me/).
	BasePath string
	// PublicURL is the scheme and host clients reach the API at, used for absolute
	// Location headers, such as "https://tenant.example.com". Default: taken from
	// each request (its Host, and TLS for the scheme).
	PublicURL string
	// TrustForwardedHeaders takes the public scheme and host from X-Forwarded-Proto
	// and X-Forwarded-Host when PublicURL is empty. Only enable behind a proxy that
	// sets them. Default: false.
	TrustForwardedHeaders bool
	// CORS lets browser apps on other origins call the API.
	// Default: no origin, so no CORS headers are sent.
	CORS CORSConfig
	// CORSOrigins are added to CORS.Origins.
	//
	// Deprecated: set CORS.Origins. Default: none.
	CORSOrigins []string

	// Store keeps methods and sessions. Default: [NewMemoryStore].
	Store Store
	// Limiter backs the rate limits. Default: [NewMemoryLimiter].
	Limiter Limiter
	// TenantRateLimit is the bucket shared by every user of an issuer.
	// Default: 25 requests/second, burst 25.
	TenantRateLimit RateLimit
	// UserRateLimit is each user's bucket, on top of the tenant's.
	// Default: 1 request/second, burst 10.
	UserRateLimit RateLimit
	// MaxPasskeys is how many passkeys a user may hold, and how many of each
	// WebAuthn MFA type. Default: 20.
	MaxPasskeys int
	// WebAuthnMFA configures security keys and platform authenticators as
	// second factors. Default: both offered.
	WebAuthnMFA WebAuthnMFAConfig
	// AlwaysExcludeCredentials sends the user's credentials as
	// excludeCredentials in every WebAuthn enrollment, not only when the request
	// sets use_exclude_credentials, as Auth0 does. Default: false.
	AlwaysExcludeCredentials bool

	// TOTP configures authenticator apps. Default: offered.
	TOTP TOTPConfig
	// RecoveryCodes configures recovery codes. Default: offered.
	RecoveryCodes RecoveryCodeConfig
	// Messages configures email and phone methods. Default: not offered (no Sender).
	Messages MessageConfig
	// Passwords configures the password method. Default: not offered (no Backend).
	Passwords PasswordConfig
	// Push configures push-notification methods. Default: not offered (no Provider).
	Push PushConfig
	// SecretKeys is the key ring that seals auth_sessions and TOTP secrets with
	// AES-256-GCM: 32-byte keys, the first sealing and every one opening, so a
	// key is rotated by putting a new one first and dropping the old one once
	// what it sealed is gone. Every instance serving one tenant needs the same
	// ring. Default: with the in-memory store, one random key per process
	// (whose sealed secrets die with the process, as the store's do); with any
	// other Store, required.
	SecretKeys [][]byte
	// DeletePolicy may refuse a DELETE: a non-nil error answers 409. Default:
	// nil, allowing every delete; see [KeepLastPrimary].
	DeletePolicy DeletePolicy
	// SessionTTL is how long an auth_session can be verified. Default: 5 minutes.
	SessionTTL time.Duration
	// MaxBodyBytes bounds request bodies. Default: 64 KiB.
	MaxBodyBytes int64

	// ErrorHandler writes every error response. Default: [WriteError].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// ProblemJSON serves error bodies as application/problem+json (RFC 9457)
	// instead of application/json, the type Auth0 declares and the only one whose
	// body Auth0.Android reads. The body is the same; [WriteError], called by the
	// default or a custom ErrorHandler, picks the type. Default: false.
	ProblemJSON bool
	// Logger receives server-side failures. Default: slog.Default().
	Logger *slog.Logger
	// Audit receives an event per security-relevant act (enrollment started,
	// method enrolled, renamed or deleted, verification failed, token refused,
	// rate limited). Default: the events are logged to Logger.
	Audit AuditConfig
}

// API serves the My Account API under /me/v1/ and /me/. It is an http.Handler;
// call [API.Close] when done with it.
type API struct {
	cfg       Config // with defaults filled in
	validator *TokenValidator
	webauthn  *webauthn.WebAuthn
	keys      *keyRing
	// offered are the types this deployment enrolls; offeredTypes lists them
	// in the contract's order.
	offered      map[string]bool
	offeredTypes []string
	limits       rateLimiter
	refused      *refusedTokens // counts refused tokens per client address
	errs         errorWriter
	routes       map[string]*route
	handler      http.Handler
}

// route is one path of the API with a handler per allowed method.
type route struct {
	handlers map[string]http.Handler
	allow    string
}

// New checks cfg, fills in defaults and returns the API. Errors wrap [ErrConfig].
func New(cfg Config) (*API, error) {
	if err := cfg.resolve(); err != nil {
		return nil, err
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: cfg.RPName,
		RPOrigins:     cfg.Origins,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: WebAuthn: %v", ErrConfig, err)
	}
	a := &API{cfg: cfg, webauthn: wa, offered: make(map[string]bool)}
	if a.keys, err = newKeyRing(cfg.SecretKeys); err != nil {
		return nil, err
	}
	a.offeredTypes = cfg.offeredTypes()
	for _, t := range a.offeredTypes {
		a.offered[t] = true
	}
	a.refused = &refusedTokens{interval: cfg.Audit.RefusedTokenInterval, byAddr: make(map[string]*refusalCount)}
	a.errs = errorWriter{handler: cfg.ErrorHandler, logger: cfg.Logger}
	if cfg.ProblemJSON {
		a.errs.handler = withProblemJSON(cfg.ErrorHandler)
	}
	tc := cfg.Token
	tc.ErrorHandler, tc.Logger = a.auditErrors(a.errs.write), cfg.Logger
	a.validator, err = newTokenValidator(tc, a.publicBase) // DPoP proofs name the URL Location uses
	if err != nil {
		return nil, err
	}
	a.limits = rateLimiter{limiter: cfg.Limiter, tenant: cfg.TenantRateLimit.limit(), user: cfg.UserRateLimit.limit()}
	a.routes = a.buildRoutes()
	a.handler = http.HandlerFunc(a.route)
	a.handler = cfg.CORS.wrap(a.handler)
	return a, nil
}

func (c *Config) resolve() error {
	domain := strings.TrimSuffix(strings.TrimPrefix(c.Domain, "https://"), "/")
	if domain != "" {
		c.Issuer = orDefault(c.Issuer, "https://"+domain+"/")
		c.Audience = orDefault(c.Audience, "https://"+domain+"/me/")
	}
	c.Issuer = orDefault(c.Issuer, c.Token.Issuer)
	if c.Issuer == "" {
		return fmt.Errorf("%w: set Domain or Issuer", ErrConfig)
	}
	issuerURL, err := url.Parse(c.Issuer)
	if err != nil || issuerURL.Host == "" {
		return fmt.Errorf("%w: Issuer %q is not an absolute URL", ErrConfig, c.Issuer)
	}
	c.Audience = orDefault(c.Audience, strings.TrimSuffix(c.Issuer, "/")+"/me/")
	if err := c.resolveToken(); err != nil {
		return err
	}
	rpID := orDefault(hostOnly(domain), issuerURL.Hostname())
	if domain == "" && isLoopback(rpID) {
		rpID = "localhost"
	}
	c.RPID = orDefault(c.RPID, rpID)
	if err := protocol.ValidateRPID(c.RPID); err != nil {
		return fmt.Errorf("%w: RPID %q: %v", ErrConfig, c.RPID, err)
	}
	c.RPName = orDefault(c.RPName, c.RPID)
	if len(c.Origins) == 0 && c.RPID == "localhost" {
		c.Origins = []string{"http://localhost"}
	} else if len(c.Origins) == 0 {
		c.Origins = []string{"https://" + c.RPID}
	}
	for _, o := range c.Origins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
			return fmt.Errorf("%w: origin %q is not scheme://host[:port]", ErrConfig, o)
		}
	}
	c.CORS.Origins = slices.Concat(c.CORS.Origins, c.CORSOrigins)
	if err := c.CORS.resolve(); err != nil {
		return err
	}
	switch c.UserVerification {
	case "":
		c.UserVerification = string(protocol.VerificationPreferred)
	case "required", "preferred", "discouraged":
	default:
		return fmt.Errorf("%w: UserVerification %q is not required, preferred or discouraged", ErrConfig, c.UserVerification)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: PublicURL %q is not an http(s) URL", ErrConfig, c.PublicURL)
		}
		c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	}
	if err := checkBasePath(c.BasePath); err != nil {
		return err
	}
	c.BasePath = strings.TrimSuffix(c.BasePath, "/")
	if c.MaxPasskeys < 0 || c.SessionTTL < 0 || c.MaxBodyBytes < 0 {
		return fmt.Errorf("%w: MaxPasskeys, SessionTTL and MaxBodyBytes must not be negative", ErrConfig)
	}
	if err := c.TenantRateLimit.resolve("TenantRateLimit", 25, 25); err != nil {
		return err
	}
	if err := c.UserRateLimit.resolve("UserRateLimit", 1, 10); err != nil {
		return err
	}
	if c.MaxPasskeys == 0 {
		c.MaxPasskeys = 20
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = 5 * time.Minute
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.UserNames == nil {
		c.UserNames = defaultUserNames
	}
	if c.Store == nil {
		c.Store = NewMemoryStore()
	}
	if len(c.SecretKeys) == 0 {
		if _, inMemory := c.Store.(*MemoryStore); !inMemory {
			return fmt.Errorf("%w: SecretKeys is required with a Store other than the in-memory one: "+
				"auth_sessions and TOTP secrets are sealed under it, and every instance must share it", ErrConfig)
		}
		c.SecretKeys = [][]byte{randomBytes(32)}
	}
	c.TOTP.Issuer = orDefault(c.TOTP.Issuer, c.RPName)
	if c.Messages.MaxPerUser < 0 {
		return fmt.Errorf("%w: Messages.MaxPerUser must not be negative", ErrConfig)
	}
	if c.Messages.MaxPerUser == 0 {
		c.Messages.MaxPerUser = 5
	}
	if err := c.Messages.PerDestination.resolve("Messages.PerDestination", defaultDestinationMax, defaultDestinationWindow); err != nil {
		return err
	}
	if err := c.Messages.PerUser.resolve("Messages.PerUser", defaultUserSendMax, defaultUserSendWindow); err != nil {
		return err
	}
	c.Passwords.resolve()
	if err := c.Push.resolve(); err != nil {
		return err
	}
	if c.Limiter == nil {
		c.Limiter = NewMemoryLimiter(0)
	}
	if c.ErrorHandler == nil {
		c.ErrorHandler = WriteError
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Audit.RefusedTokenInterval < 0 {
		return fmt.Errorf("%w: Audit.RefusedTokenInterval must not be negative", ErrConfig)
	}
	if c.Audit.RefusedTokenInterval == 0 {
		c.Audit.RefusedTokenInterval = time.Minute
	}
	if c.Audit.Handler == nil {
		c.Audit.Handler = logAudit(c.Logger)
	}
	return nil
}

func hostOnly(domain string) string {
	if u, err := url.Parse("https://" + domain); err == nil && domain != "" {
		return u.Hostname()
	}
	return ""
}

func (rl *RateLimit) resolve(name string, rate float64, burst int) error {
	if rl.Rate < 0 || rl.Burst < 0 {
		return fmt.Errorf("%w: %s must not be negative", ErrConfig, name)
	}
	if rl.Rate == 0 {
		rl.Rate = rate
	}
	if rl.Burst == 0 {
		rl.Burst = max(1, min(burst, int(rl.Rate*float64(burst)/rate)))
	}
	return nil
}

func (rl RateLimit) limit() *Limit {
	if rl.Disabled {
		return nil
	}
	return &Limit{Rate: rl.Rate, Burst: rl.Burst}
}

// Close stops the API's background work (the JWKS refresh). Safe to call twice.
func (a *API) Close() { a.validator.Close() }

// Validator returns the API's token validator, so an app can protect its own
// routes with the same token checks.
func (a *API) Validator() *TokenValidator { return a.validator }

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setHeaders(w.Header(), "Cache-Control", "no-store", "X-Content-Type-Options", "nosniff")
	a.handler.ServeHTTP(w, r)
}

// setHeaders sets headers from name, value pairs, as Header.Set does, but with
// one allocation for all the values. Names must be in canonical form.
func setHeaders(h http.Header, pairs ...string) {
	values := make([]string, len(pairs)/2)
	for i := range values {
		values[i] = pairs[2*i+1]
		h[pairs[2*i]] = values[i : i+1 : i+1]
	}
}

// EnrollHandler returns the handler of POST /authentication-methods alone, with
// its token, rate-limit and scope checks, for apps that route it themselves.
func (a *API) EnrollHandler() http.Handler {
	return a.routes["authentication-methods"].handlers[http.MethodPost]
}

func (a *API) buildRoutes() map[string]*route {
	protect := func(scope string, h http.HandlerFunc) http.Handler {
		// The DPoP proof is recorded by rateLimit, once the request passed the limits.
		return a.validator.authenticateWith(AuthOptions{}, true)(RequireAudience(a.cfg.Audience)(a.rateLimit(RequireScope(scope)(h))))
	}
	return map[string]*route{
		"factors": {
			handlers: map[string]http.Handler{http.MethodGet: protect(ScopeReadFactors, a.listFactors)},
			allow:    "GET, HEAD",
		},
		"authentication-methods": {
			handlers: map[string]http.Handler{
				http.MethodGet:  protect(ScopeReadMethods, a.listMethods),
				http.MethodPost: protect(ScopeCreateMethods, a.enroll),
			},
			allow: "GET, HEAD, POST",
		},
		"authentication-methods/{id}": {
			handlers: map[string]http.Handler{
				http.MethodGet:    protect(ScopeReadMethods, a.getMethod),
				http.MethodPatch:  protect(ScopeUpdateMethods, a.updateMethod),
				http.MethodDelete: protect(ScopeDeleteMethods, a.deleteMethod),
			},
			allow: "DELETE, GET, HEAD, PATCH",
		},
		"authentication-methods/{id}/verify": {
			handlers: map[string]http.Handler{http.MethodPost: protect(ScopeCreateMethods, a.verify)},
			allow:    "POST",
		},
	}
}

// route finds the route for the request path, answering 404 and 405 itself.
func (a *API) route(w http.ResponseWriter, r *http.Request) {
	r, ok := a.stripBasePath(r)
	name := ""
	if ok {
		name, _, ok = matchPath(r.URL.EscapedPath())
	}
	rt := a.routes[name]
	if !ok || rt == nil {
		a.errs.write(w, r, newError(http.StatusNotFound, "A0E-404-0000", "No such endpoint.", ErrNotFound))
		return
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	h := rt.handlers[method]
	if h == nil {
		e := newError(http.StatusMethodNotAllowed, "A0E-405-0001", "The method "+r.Method+" is not allowed here.", ErrMethodNotAllowed)
		e.Header = http.Header{"Allow": {rt.allow}}
		a.errs.write(w, r, e)
		return
	}
	h.ServeHTTP(w, r)
}

// matchPath maps an escaped request path to a route name and the unescaped method
// id. Both /me/v1/... and the unversioned /me/... are served.
func matchPath(escaped string) (name, id string, ok bool) {
	rest, found := strings.CutPrefix(escaped, "/me/v1/")
	if !found {
		if rest, found = strings.CutPrefix(escaped, "/me/"); !found {
			return "", "", false
		}
	}
	switch rest {
	case "factors", "authentication-methods":
		return rest, "", true
	}
	rest, found = strings.CutPrefix(rest, "authentication-methods/")
	if !found {
		return "", "", false
	}
	name = "authentication-methods/{id}"
	if seg, ok := strings.CutSuffix(rest, "/verify"); ok {
		name, rest = "authentication-methods/{id}/verify", seg
	}
	if rest == "" || strings.Contains(rest, "/") {
		return "", "", false
	}
	id, err := url.PathUnescape(rest)
	if err != nil || id == "" {
		return "", "", false
	}
	return name, id, true
}

// rateLimit is middleware that applies the tenant and user buckets of the
// verified token, setting the rate-limit headers, and then records the
// request's DPoP proof as used: a request refused for its rate records
// nothing, so a flood of them cannot fill the replay cache.
func (a *API) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := ClaimsFromContext(r.Context())
		if err := a.limits.check(r.Context(), w.Header(), claims.Issuer, claims.Subject); err != nil {
			if errors.Is(err, ErrRateLimited) {
				a.audit(r, AuditEvent{Type: AuditRateLimited, Reason: auditReason(err)})
			}
			a.errs.write(w, r, err)
			return
		}
		if err := recordProof(r); err != nil {
			if errors.Is(err, ErrInvalidToken) {
				a.auditRefusedToken(r, err)
			}
			a.errs.write(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *API) methodURL(r *http.Request, id string) string {
	return a.publicBase(r) + a.cfg.BasePath + "/me/v1/authentication-methods/" + url.PathEscape(id)
}
