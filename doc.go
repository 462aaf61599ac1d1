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
// Under a prefix, set [Config.BasePath] (such as "/api") and mount the API at
// BasePath + "/me/"; Location headers then carry the prefix. A router that
// registers routes one by one (chi, gin, echo) takes [API.Routes]: each
// [Route]'s method, pattern in net/http.ServeMux syntax, and handler.
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
// Enrollment takes two requests. POST /authentication-methods with
// {"type":"passkey"} answers 202 with {auth_session, authn_params_public_key}:
// the WebAuthn creation options to hand to navigator.credentials.create. POST
// /authentication-methods/passkey|new/verify with {auth_session, authn_response},
// authn_response being the new credential's toJSON(), stores the passkey and
// answers 201 with it. An auth_session is random, expires (default five minutes),
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
// Their defaults meet: with a loopback Issuer and no Domain, [Config.RPID]
// defaults to "localhost" and [Config.Origins] to "http://localhost", the
// origin the Authenticator reports when given none.
package myaccount
