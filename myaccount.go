package myaccount

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Scopes of the My Account API. Tokens may also spell them with hyphens.
const (
	scopeReadFactors   = "read:me:factors"
	scopeReadMethods   = "read:me:authentication_methods"
	scopeCreateMethods = "create:me:authentication_methods"
	scopeUpdateMethods = "update:me:authentication_methods"
	scopeDeleteMethods = "delete:me:authentication_methods"

	scopeCreateConnectedAccounts = "create:me:connected_accounts"
	scopeReadConnectedAccounts   = "read:me:connected_accounts"
	scopeDeleteConnectedAccounts = "delete:me:connected_accounts"
	scopeReadConsents            = "read:me:consents"
	scopeReadOrganizations       = "read:me:organizations"
)

// AllScopes returns every scope of the My Account API, for a token that may do
// anything (a development issuer, a test): read:me:factors, and
// read:me:, create:me:, update:me: and delete:me:authentication_methods for
// the authentication methods; create:me:, read:me: and
// delete:me:connected_accounts; read:me:consents and read:me:organizations.
// Tokens may also spell them with hyphens.
func AllScopes() []string {
	return []string{scopeReadFactors, scopeReadMethods, scopeCreateMethods, scopeUpdateMethods, scopeDeleteMethods,
		scopeCreateConnectedAccounts, scopeReadConnectedAccounts, scopeDeleteConnectedAccounts, scopeReadConsents, scopeReadOrganizations}
}

// Config configures an [API], and the token checks of a [TokenValidator] of an
// app's own. Zero values are the defaults; [Config.Domain] alone is enough for
// an Auth0-style deployment.
type Config struct {
	// Domain is the tenant's host, such as "tenant.auth0.com". Issuer, Audience,
	// Token.JWKSURL and WebAuthn.RPID derive from it. Default: none; set Domain
	// or Issuer.
	Domain string
	// Issuer is the exact "iss" of accepted tokens. Auth0's ends in "/", and New
	// refuses an Auth0 issuer (on *.auth0.com) without it. Default:
	// "https://{Domain}/".
	Issuer string
	// Audience must be among a token's "aud". Default: "https://{Domain}/me/", or
	// "me/" under Issuer when only Issuer is set.
	Audience string
	// Token holds how tokens are checked: keys, algorithms, leeway, the
	// verified-token cache, DPoP and step-up; see [TokenConfig]. Default: the
	// zero TokenConfig.
	Token TokenConfig

	// WebAuthn configures passkeys, security keys and platform authenticators:
	// the relying party, user verification and how many a user may hold.
	// Default: all three offered, for the relying party Domain.
	WebAuthn WebAuthnConfig
	// Users says how a token's user is named to authenticators, for which
	// other identities they may enroll methods and which methods they may
	// delete. Default: names from the token's claims, no other identity, any
	// delete.
	Users UserConfig

	// BasePath is the path the API is mounted under, in front of /me/, such as
	// "/api": the API then serves /api/me/v1/... and /api/me/..., and its
	// Location headers point there. Mount it at BasePath + "/me/" without
	// http.StripPrefix (or register [API.Routes], whose patterns include it).
	// It starts with "/" and holds only unreserved characters (letters, digits,
	// "-", ".", "_", "~") between slashes. With BasePath empty, a request that
	// reaches the API under a prefix gets 404, and the log says once which
	// BasePath would serve it. Default: "" (the API at /me/).
	BasePath string
	// PublicURL is the scheme and host clients reach the API at, used for absolute
	// Location headers and the URL DPoP proofs must name, such as
	// "https://tenant.example.com". Default: taken from each request (its Host,
	// and TLS for the scheme).
	PublicURL string
	// TrustForwardedHeaders takes the public scheme and host from X-Forwarded-Proto
	// and X-Forwarded-Host when PublicURL is empty. Only enable behind a proxy that
	// sets them. Default: false.
	TrustForwardedHeaders bool
	// CORS lets browser apps on other origins call the API.
	// Default: no origin, so no CORS headers are sent.
	CORS CORSConfig

	// Store keeps methods and sessions. A nil pointer in it (a typed nil) is an
	// error. Default: [NewMemoryStore], which New mentions once in the log.
	Store Store
	// RateLimits are the request buckets per tenant and per user, and where
	// they are kept. Default: 25 requests/second per tenant and 1 per user, in
	// memory.
	RateLimits RateLimitConfig

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
	// ConnectedAccounts configures connected accounts (the providers users
	// link, the redirect URIs) and the consent and organization sources.
	// Default: no connection, and empty consent and organization lists.
	ConnectedAccounts ConnectedAccountsConfig
	// SecretKeys is the key ring that seals auth_sessions and TOTP secrets with
	// AES-256-GCM: 32-byte keys, the first sealing and every one opening, so a
	// key is rotated by putting a new one first and dropping the old one once
	// what it sealed is gone. Every instance serving one tenant needs the same
	// ring. Default: with the in-memory store, one random key per process
	// (whose sealed secrets die with the process, as the store's do); with any
	// other Store, required.
	SecretKeys [][]byte
	// SessionTTL is how long an auth_session can be verified. Default: 5 minutes.
	SessionTTL time.Duration
	// MaxBodyBytes bounds request bodies. Default: 64 KiB.
	MaxBodyBytes int64

	// ErrorHandler writes every error response, token errors included.
	// Default: [WriteError].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// ProblemJSON serves error bodies as application/problem+json (RFC 9457)
	// instead of application/json, the type Auth0 declares and the only one whose
	// body Auth0.Android reads. The body is the same; [WriteError], called by the
	// default or a custom ErrorHandler, picks the type. Default: false.
	ProblemJSON bool
	// Logger receives server-side failures, JWKS refresh failures included.
	// Default: slog.Default(); in a test binary (testing.Testing) the audit
	// events and the note that the in-memory store is used then stay out of
	// it, so tests are quiet unless they set Logger or Audit.Handler.
	Logger *slog.Logger
	// Audit receives an event per security-relevant act (enrollment started,
	// method enrolled, renamed or deleted, verification failed, token refused,
	// rate limited). Default: the events are logged to Logger (not in a test
	// binary unless Logger is set).
	Audit AuditConfig
}

// UserConfig says who a token's user is, beyond its subject, and what
// the user may do beyond the contract's rules.
type UserConfig struct {
	// Names gives the user name and display name that authenticators show:
	// WebAuthn's user entity and the TOTP account label. Default: from the
	// token's email, nickname or name claims, else its subject.
	Names func(claims *Claims) (name, displayName string)
	// AllowIdentity decides whether the user may enroll a method for identity,
	// the identity_user_id of a request (on connection, which may be empty),
	// when it is not the user's own: the part of the subject after "|", always
	// allowed. Default: nil, allowing no other identity.
	AllowIdentity func(ctx context.Context, claims *Claims, identity, connection string) bool
	// DeletePolicy decides whether a user may delete method m, given the
	// user's other methods: a non-nil error refuses the delete with 409 (an
	// [*Error] is answered as it is, any other error with a generic 409). The
	// store decides it in the delete's own atomic step (see
	// [Store.DeleteMethod]): others are the user's methods at that moment, so
	// of two concurrent deletes that would each leave the user without what
	// the policy keeps, at most one succeeds. It runs while the store holds
	// the user's methods locked (the memory store: every user's): it must
	// be quick, do no I/O and not call the store. Default: nil, allowing every delete; see [KeepLastPrimary].
	DeletePolicy func(ctx context.Context, claims *Claims, m *Method, others []*Method) error
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
	// providers are the connections of Config.ConnectedAccounts by name.
	providers    map[string]*provider
	refreshLocks refreshLocks
	routes       map[string]*route
	handler      http.Handler
	// basePathHinted is set once a request under a prefix, with BasePath
	// empty, has been logged (basepathhint.go).
	basePathHinted atomic.Bool
}

// New checks cfg, fills in defaults and returns the API. Errors wrap [ErrConfig].
func New(cfg Config) (*API, error) {
	// In a test binary with the default logger, say nothing a test did not ask for.
	noteMemoryStore := cfg.Store == nil && (cfg.Logger != nil || !testing.Testing())
	if err := cfg.resolve(); err != nil {
		return nil, err
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.WebAuthn.RPID,
		RPDisplayName: cfg.WebAuthn.RPName,
		RPOrigins:     cfg.WebAuthn.Origins,
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
	a.providers = newProviders(&cfg.ConnectedAccounts)
	a.refreshLocks.seed = maphash.MakeSeed()
	if cfg.ProblemJSON {
		a.errs.handler = withProblemJSON(cfg.ErrorHandler)
	}
	// Token errors are answered as every other error, and DPoP proofs name
	// the URL that Location headers use.
	a.validator, err = newTokenValidator(&a.cfg, cfg.Audience, a.auditErrors(a.errs.write), a.cfg.publicBase)
	if err != nil {
		return nil, err
	}
	rl := cfg.RateLimits
	a.limits = rateLimiter{limiter: rl.Limiter, tenant: rl.Tenant.limit(), user: rl.User.limit()}
	a.routes = a.buildRoutes()
	a.handler = http.HandlerFunc(a.route)
	a.handler = cfg.CORS.wrap(a.handler)
	cfg.warnMisconfigurations(noteMemoryStore)
	return a, nil
}

func (c *Config) resolve() error {
	quiet := c.Logger == nil && testing.Testing()
	domain, err := c.resolveTokens()
	if err != nil {
		return err
	}
	if err := c.WebAuthn.resolve(domain, c.Issuer); err != nil {
		return err
	}
	if err := c.CORS.resolve(); err != nil {
		return err
	}
	if err := checkBasePath(c.BasePath); err != nil {
		return err
	}
	c.BasePath = strings.TrimSuffix(c.BasePath, "/")
	if c.SessionTTL < 0 || c.MaxBodyBytes < 0 {
		return fmt.Errorf("%w: SessionTTL and MaxBodyBytes must not be negative", ErrConfig)
	}
	if err := c.RateLimits.Tenant.resolve("RateLimits.Tenant", 25, 25); err != nil {
		return err
	}
	if err := c.RateLimits.User.resolve("RateLimits.User", 1, 10); err != nil {
		return err
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = 5 * time.Minute
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.Users.Names == nil {
		c.Users.Names = defaultUserNames
	}
	if err := c.checkNotTypedNil(); err != nil {
		return err
	}
	if c.Store == nil {
		c.Store = NewMemoryStore()
	}
	if len(c.SecretKeys) == 0 {
		if _, inMemory := c.Store.(*memoryStore); !inMemory {
			return fmt.Errorf("%w: SecretKeys is required with a Store other than the in-memory one: "+
				"auth_sessions and TOTP secrets are sealed under it, and every instance must share it", ErrConfig)
		}
		c.SecretKeys = [][]byte{randomBytes(32)}
	}
	c.TOTP.Issuer = orDefault(c.TOTP.Issuer, c.WebAuthn.RPName)
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
	if err := c.ConnectedAccounts.resolve(); err != nil {
		return err
	}
	if c.RateLimits.Limiter == nil {
		c.RateLimits.Limiter = NewMemoryLimiter(0)
	}
	if c.Audit.RefusedTokenInterval < 0 {
		return fmt.Errorf("%w: Audit.RefusedTokenInterval must not be negative", ErrConfig)
	}
	if c.Audit.RefusedTokenInterval == 0 {
		c.Audit.RefusedTokenInterval = time.Minute
	}
	if c.Audit.Handler == nil {
		c.Audit.Handler = logAudit(c.Logger)
		if quiet {
			c.Audit.Handler = func(context.Context, AuditEvent) {}
		}
	}
	return nil
}

// resolveTokens fills in what token checks need, for an API and for a
// [TokenValidator] of an app's own: Issuer, Audience, PublicURL, ErrorHandler
// and Logger. It returns the bare domain.
func (c *Config) resolveTokens() (domain string, err error) {
	domain = strings.TrimSuffix(strings.TrimPrefix(c.Domain, "https://"), "/")
	if domain != "" {
		c.Issuer = orDefault(c.Issuer, "https://"+domain+"/")
		c.Audience = orDefault(c.Audience, "https://"+domain+"/me/")
	}
	if c.Issuer == "" {
		return "", fmt.Errorf("%w: set Domain or Issuer", ErrConfig)
	}
	issuerURL, err := url.Parse(c.Issuer)
	if err != nil || issuerURL.Host == "" {
		return "", fmt.Errorf("%w: Issuer %q is not an absolute URL", ErrConfig, c.Issuer)
	}
	if err := checkAuth0Issuer(c.Issuer); err != nil {
		return "", err
	}
	if c.Audience == "" {
		if c.Audience, err = underIssuer(c.Issuer, "me/"); err != nil {
			return "", fmt.Errorf("%w: Issuer %q: %v", ErrConfig, c.Issuer, err)
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			return "", fmt.Errorf("%w: PublicURL %q is not an http(s) scheme and host", ErrConfig, c.PublicURL)
		}
		c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	}
	if c.ErrorHandler == nil {
		c.ErrorHandler = WriteError
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return domain, nil
}

// resolve fills in the relying party from the API's domain or issuer and
// checks the WebAuthn settings.
func (w *WebAuthnConfig) resolve(domain, issuer string) error {
	issuerURL, _ := url.Parse(issuer) // resolveTokens checked it
	rpID := orDefault(hostOnly(domain), issuerURL.Hostname())
	if domain == "" && isLoopback(rpID) {
		rpID = "localhost"
	}
	w.RPID = orDefault(w.RPID, rpID)
	if err := protocol.ValidateRPID(w.RPID); err != nil {
		return fmt.Errorf("%w: WebAuthn.RPID %q: %v", ErrConfig, w.RPID, err)
	}
	w.RPName = orDefault(w.RPName, w.RPID)
	if len(w.Origins) == 0 && w.RPID == "localhost" {
		w.Origins = []string{"http://localhost"}
	} else if len(w.Origins) == 0 {
		w.Origins = []string{"https://" + w.RPID}
	}
	for _, o := range w.Origins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
			return fmt.Errorf("%w: origin %q is not scheme://host[:port]", ErrConfig, o)
		}
	}
	switch w.UserVerification {
	case "":
		w.UserVerification = string(protocol.VerificationPreferred)
	case "required", "preferred", "discouraged":
	default:
		return fmt.Errorf("%w: WebAuthn.UserVerification %q is not required, preferred or discouraged", ErrConfig, w.UserVerification)
	}
	if w.MaxCredentials < 0 {
		return fmt.Errorf("%w: WebAuthn.MaxCredentials must not be negative", ErrConfig)
	}
	if w.MaxCredentials == 0 {
		w.MaxCredentials = 20
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
