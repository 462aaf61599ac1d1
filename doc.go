// Package myaccount serves the My Account API, the self-service API with which a
// signed-in user manages their own authentication methods (enroll, list, rename
// and delete passkeys) using an OAuth 2.0 access token. It keeps the wire
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
// id; each can be set on its own, and [Config.Keyfunc] can replace the JWKS.
//
// # Tokens
//
// Every request needs a bearer access token (RFC 6750) in the Authorization
// header, verified by a [TokenValidator]: an asymmetric signature from the
// issuer's JWKS, the exact issuer, the audience, exp (required), nbf and iat, and
// a user subject. The same checks protect an app's own routes through
// [TokenValidator.Authenticate], [RequireAudience] and [RequireScope]; handlers
// read the verified claims with [ClaimsFromContext].
//
// # Passkeys
//
// Enrollment takes two requests: POST /authentication-methods answers WebAuthn
// creation options and an auth_session; POST
// /authentication-methods/passkey|new/verify takes the browser's attestation and
// stores the passkey. An auth_session is random, expires (default five minutes),
// belongs to one user and is taken once, atomically, by the [Store].
//
// # Storage and limits
//
// A [Store] keeps methods, user handles and sessions; [MemoryStore] is the
// default and the pgstore module keeps them in PostgreSQL. Rate limits are token
// buckets per tenant and per user behind the [Limiter] interface;
// [MemoryLimiter] is the default and the redislimit module shares buckets
// across instances through Redis.
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
// Every error is answered as an RFC 9457 problem (application/problem+json) with
// Auth0's members and codes, written by [WriteError] or a [Config.ErrorHandler].
// Callers match causes with errors.Is against the sentinel errors, such as
// [ErrNotFound] and [ErrSessionInvalid]. No response carries an internal error's text.
//
// # Testing
//
// The myaccounttest package has an Issuer that mints tokens and serves its JWKS,
// and a software passkey Authenticator, for tests of apps that mount the API.
package myaccount
