package myaccount

import (
	"context"
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
	// [ConnectedAccountStore.SwapConnectedAccountTokens].
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

// ConnectedAccountStore keeps connected accounts and the single-use state
// of the flows that link them. It is part of [Store]; the same rules hold:
// safe for concurrent use, ctx honoured, connection failures wrapped with
// [ErrUnavailable], returned values the caller's own.
type ConnectedAccountStore interface {
	// CreateConnectFlow stores a new flow. It may give [ErrRateLimited] when
	// the user has too many flows that have not expired.
	CreateConnectFlow(ctx context.Context, f *ConnectFlow) error
	// ConnectFlow returns the flow whose Handle is handle, or [ErrNotFound]
	// when there is none or it has expired.
	ConnectFlow(ctx context.Context, handle string) (*ConnectFlow, error)
	// ReplaceConnectFlow replaces the flow next.ID, if its Handle is still
	// handle and it has not expired, with next, as one atomic step: of
	// concurrent calls with one handle at most one succeeds; the others, and
	// any call once the handle was replaced or deleted, get [ErrSessionUsed].
	ReplaceConnectFlow(ctx context.Context, handle string, next *ConnectFlow) error
	// DeleteConnectFlow deletes the flow whose Handle is handle, spending
	// it; [ErrSessionUsed] when there is none.
	DeleteConnectFlow(ctx context.Context, handle string) error
	// CompleteConnectFlow deletes the flow whose Handle is handle and stores
	// a, as one atomic step, and returns the account as stored. When the
	// user (a.Issuer, a.UserID) has an account of a.Connection and
	// a.Subject already, that account takes a's Scopes, ExpiresAt and
	// Tokens, is no longer Revoked, and its Version grows by one; its ID and
	// CreatedAt stay. Otherwise a is added, unless the user has limit
	// accounts already: [ErrLimitReached]. A flow that is gone or expired
	// gives [ErrSessionUsed]. On error nothing changes.
	CompleteConnectFlow(ctx context.Context, handle string, a *ConnectedAccount, limit int) (*ConnectedAccount, error)
	// ListConnectedAccounts returns the user's accounts, oldest first (ties
	// by ID); none is an empty slice and no error.
	ListConnectedAccounts(ctx context.Context, issuer, userID string) ([]*ConnectedAccount, error)
	// GetConnectedAccount returns one account of the user, or [ErrNotFound]
	// (also when the id belongs to another user or issuer).
	GetConnectedAccount(ctx context.Context, issuer, userID, id string) (*ConnectedAccount, error)
	// DeleteConnectedAccount removes one account of the user, or gives
	// [ErrNotFound].
	DeleteConnectedAccount(ctx context.Context, issuer, userID, id string) error
	// SwapConnectedAccountTokens sets the account's Tokens and Revoked (and
	// ExpiresAt, unless expiresAt is zero) if its Version is still version,
	// raising Version by one, as one atomic step; swapped is false, and
	// nothing changes, when the Version moved on. Of concurrent swaps from
	// one version exactly one succeeds. [ErrNotFound] as for
	// GetConnectedAccount.
	SwapConnectedAccountTokens(ctx context.Context, issuer, userID, id string, version int64, tokens []byte, revoked bool, expiresAt time.Time) (swapped bool, err error)
}
