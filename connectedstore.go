package myaccount

import (
	"time"
)

// ConnectedAccount is an account a user linked at another provider, as a
// [Store] keeps it. Its tokens are sealed under [Config.SecretKeys].
type ConnectedAccount struct {
	ID     string // "cac_" + 20 alphanumerics
	Issuer string // the token issuer: accounts are scoped to issuer and user
	UserID string // the token subject
	// Connection is the name of the [Connection] the account was linked with.
	Connection string
	// Subject is the user's id at the provider (the ID token's "sub"), or ""
	// when the connection cannot tell it: the user then has one account per
	// such connection. A user has at most one account per Connection and
	// Subject.
	Subject   string
	Scopes    []string // the scopes the provider granted
	CreatedAt time.Time
	// ExpiresAt is when the account's grant ends: the refresh token's
	// expiry when the provider said, or when the provider was found to have
	// revoked it. Zero when unknown.
	ExpiresAt time.Time
	// Revoked is set once the provider refused the refresh token: the user
	// withdrew access there.
	Revoked bool
	// Tokens is the provider's token set, sealed; only the API opens it.
	Tokens []byte
	// Version counts the changes of Tokens, for
	// [Store.SwapConnectedAccountTokens].
	Version int64
}

// ConnectFlow is the server-side state of one connected-account flow, from
// POST /connected-accounts/connect to /complete. A store knows it by hashes
// only, and its content is sealed, so what a store holds cannot be turned
// into a usable ticket, code or token.
type ConnectFlow struct {
	// ID is the hex SHA-256 of the flow's auth_session.
	ID     string
	Issuer string
	UserID string
	// Handle is the hex SHA-256 of the flow's current single-use value: the
	// ticket, then the state sent to the provider, then the connect code. A
	// step replaces it, so each value works once.
	Handle    string
	ExpiresAt time.Time
	// Sealed is the flow's state, sealed under [Config.SecretKeys].
	Sealed []byte
}
