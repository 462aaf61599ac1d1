// Package auth0mgmt reads a user's consents and organizations from Auth0's
// Management API, for a [myaccount.API] that serves GET /consents,
// /consents/{id} and /organizations: a [*Source] is both a
// [myaccount.ConsentSource] and a [myaccount.OrganizationSource].
//
//	src, err := auth0mgmt.New(auth0mgmt.Config{
//		Domain:       "tenant.eu.auth0.com",
//		ClientID:     clientID,     // a machine-to-machine application with
//		ClientSecret: clientSecret, // read:grants and read:organizations
//	})
//	cfg.ConnectedAccounts.Consents, cfg.ConnectedAccounts.Organizations = src, src
//
// The Source takes its Management API token with the client credentials grant
// (golang.org/x/oauth2/clientcredentials, audience "https://{Domain}/api/v2/"),
// keeps it until it expires, and reads two endpoints:
// GET /api/v2/grants?user_id= (user grants, the consents) and
// GET /api/v2/users/{id}/organizations (the organizations).
//
// # Whose data
//
// The user is the token's subject: the "sub" claim, used as is as the Auth0
// user id ("auth0|…", "google-oauth2|…"), which is what Auth0 puts in the
// tokens it issues. Use this Source only with tokens Auth0 issued for the
// tenant it reads. A grant whose user_id is not the subject is never shown:
// Consent reports it as [myaccount.ErrNotFound], so another user's grant id
// reveals nothing.
//
// # Field mapping
//
// A grant becomes a [myaccount.Consent]: id → ID, clientID → ClientID,
// audience → Audience, scope → Scopes. Auth0's grants carry no creation or
// expiry time, which the OAS's Consent requires; the Source does not invent
// them: CreatedAt and ExpiresAt stay zero, which the API writes as
// "0001-01-01T00:00:00.000Z". Clients must read that value as "unknown" (an
// Auth0 grant lasts until it is revoked).
//
// An organization keeps its id, name (the slug) and display_name; Auth0's
// branding, metadata and token quota are not part of the OAS's Organization.
//
// # Paging and bounds
//
// Grants are read in pages of 100 (page, per_page, include_totals), at most
// [Config.MaxPages] pages per call: a user with more grants than that sees the
// first ones only, and Consent does not find the rest (ErrNotFound). Auth0
// offers no call that reads one grant by id, so Consent reads the user's
// grants and picks it.
//
// Organizations are paged with Auth0's offset paging: the API's from cursor is
// the offset of the page's first organization, and one call reads at most two
// Auth0 pages (one when every page has the same take). Auth0's offset paging
// reaches the first 1000 organizations of a user; no next is given past them.
// A from that is not such an offset is [myaccount.ErrInvalidCursor].
//
// # Errors
//
// A 5xx, a 429 or a network failure or timeout of the Management API or of its
// token endpoint wraps [myaccount.ErrUnavailable], so the API answers 503 and
// the client retries. A 404 means the user is unknown to the tenant: the lists
// are then empty and Consent is ErrNotFound. A 401 drops the kept token and
// the call is made once more with a new one (the token's grant may have been
// revoked). Other answers (a second 401, a 403 for credentials lacking a
// scope, a 400, the token endpoint refusing the credentials) are configuration
// errors: they wrap neither sentinel, so the API answers 500 and its logger
// records the status and Auth0's error code, never a token. Redirects are not
// followed, so the Management API token is sent to the configured host only.
package auth0mgmt
