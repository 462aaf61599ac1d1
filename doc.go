// Package myaccount serves the My Account API, the self-service API with which a
// signed-in user manages their own authentication methods (enroll, list, rename
// and delete passkeys, security keys, authenticator apps, recovery codes, email
// and phone codes, passwords and push authenticators) using an OAuth 2.0 access
// token. It keeps the wire
// contract of Auth0's service, so Auth0's client SDKs work against it unchanged.
//
// # Mounting
//
// [New] returns an [API], an http.Handler serving /me/v1/... and the
// unversioned /me/...; mount it under "/me/" in any mux:
//
//	api, err := myaccount.New(myaccount.Config{Domain: "tenant.auth0.com"})
//	if err != nil { ... }
//	defer api.Close()
//	mux.Handle("/me/", api)
//
// [Config.Domain] alone derives the issuer, audience, JWKS URL and relying party
// id; each can be set on its own, and [TokenConfig.Keyfunc] in [Config.Token]
// can replace the JWKS.
//
// Under a prefix, set [Config.BasePath] (such as "/api") and mount the API at
// BasePath + "/me/"; Location headers then carry the prefix. A router that
// registers routes one by one (chi, gin, echo) takes [API.Routes]: each
// [Route]'s method, pattern in net/http.ServeMux syntax, and handler.
//
// # Tokens
//
// Every request needs an access token in the Authorization header, verified by a
// [TokenValidator] configured by one [TokenConfig] ([Config.Token]): an
// asymmetric signature from the issuer's JWKS, the exact issuer, the audience,
// exp (required), nbf and iat, and a user subject. Bearer tokens (RFC 6750) and
// DPoP-bound tokens with their proofs (RFC 9449) are accepted per
// [DPoPConfig.Mode]; a scope may demand a recent or stronger login ([StepUp],
// RFC 9470). The same checks protect an app's own routes through
// [TokenValidator.Authenticate] or [TokenValidator.AuthenticateWith],
// [RequireAudience] and [RequireScope]; handlers read the verified claims with
// [ClaimsFromContext] and their own claims with [Claims.Decode].
//
// # Enrollment
//
// Enrollment takes two requests: POST /authentication-methods with a type
// answers that type's challenge (WebAuthn creation options, a TOTP secret, a
// recovery code, or a code sent through [Config.Messages]) and an auth_session;
// POST /authentication-methods/{id}/verify takes the answer (an attestation, a
// code) and stores the method. Each family of types lives in one file behind
// one interface the handlers dispatch on.
//
// An auth_session is the enrollment's state sealed under [Config.SecretKeys]
// with AES-256-GCM: unforgeable, bound to the issuer, the user, the type and the
// method id, and expiring (default five minutes). The [Store] keeps only what
// makes it single use: [Store.CreateMethod] marks it used in the same atomic
// step that stores the method, and [Store.CountAttempt] allows five wrong codes.
//
// For a passkey, the 202 body is {auth_session, authn_params_public_key}: the
// WebAuthn creation options to hand to navigator.credentials.create; the verify
// body is {auth_session, authn_response}, authn_response being the new
// credential's toJSON(), at /authentication-methods/passkey|new/verify.
//
// # Storage and limits
//
// A [Store] keeps methods (one [Method] record for every type), user handles and
// used sessions; [NewMemoryStore] is the
// default and the pgstore module keeps them in PostgreSQL. Rate limits are token
// buckets per tenant and per user behind the [Limiter] interface;
// [NewMemoryLimiter] is the default and the redislimit module shares buckets
// across instances through Redis.
//
// # Connected accounts
//
// [Config.ConnectedAccounts] names the providers ([Connection]) a user may
// link an account at through /connected-accounts/connect and /complete; the
// library runs the OAuth 2.0 leg towards the provider itself and keeps the
// provider's tokens sealed in a [ConnectedAccount]. The app's back end gets a
// valid access token for the user with [API.ConnectedAccountToken], refreshed
// when needed; [ErrAccessRevoked] says the user withdrew access at the
// provider. /consents and /organizations read a [ConsentSource] and an
// [OrganizationSource] the deployment supplies.
//
// # Browsers and proxies
//
// [Config.CORS] lets SPAs on other origins call the API; the headers Auth0's
// SDKs send (Auth0-Client, DPoP) are always allowed. Behind a proxy,
// [Config.TrustForwardedHeaders] takes the public host of Location headers
// from the last X-Forwarded-Host entry, accepted only as a plain host[:port].
//
// # Audit events
//
// Each security-relevant act (enrollment started, method enrolled, renamed or
// deleted, verification failed, token refused, rate limited) becomes an
// [AuditEvent] for [AuditConfig.Handler], logged to [Config.Logger] by
// default. Types are Auth0's tenant log codes where one exists, such as
// [AuditMethodEnrolled] ("gd_enrollment_complete").
//
// # Errors
//
// Every error is answered with an RFC 9457-shaped JSON body carrying Auth0's members
// and codes, written by [WriteError] or a [Config.ErrorHandler]. It is served as
// application/json, as Auth0 declares and Auth0.Android requires;
// [Config.ProblemJSON] opts in to application/problem+json, for the API and for
// [NewTokenValidator]'s middleware alike.
// Callers match causes with errors.Is against the sentinel errors, such as
// [ErrNotFound] and [ErrSessionUsed]. No response carries an internal error's text.
//
// # Testing
//
// The myaccounttest package has an Issuer that mints tokens and serves its JWKS,
// and a software passkey Authenticator, for tests of apps that mount the API,
// and a Provider, an OAuth 2.0 / OIDC server for connected accounts.
// Their defaults meet: with a loopback Issuer and no Domain, [WebAuthnConfig.RPID]
// defaults to "localhost" and [WebAuthnConfig.Origins] to "http://localhost", the
// origin the Authenticator reports when given none.
package myaccount
