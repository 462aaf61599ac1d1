package myaccount

// Audit event types of connected accounts; Auth0 has no codes for them. Their
// [AuditEvent.MethodID] is the connected account's id (empty for a refused
// /complete) and MethodType is "connected-account".
const (
	// AuditAccountConnected: /complete linked a provider account, or updated
	// the one the user had linked there before.
	AuditAccountConnected = "myaccount_account_connected"
	// AuditAccountDisconnected: a connected account was deleted.
	AuditAccountDisconnected = "myaccount_account_disconnected"
	// AuditConnectRefused: a /complete was refused (wrong verifier, redirect
	// URI or session, a used or expired code, the account limit), and its
	// code spent.
	AuditConnectRefused = "myaccount_connect_refused"
)

// auditConnectedType is the MethodType of connected-account events.
const auditConnectedType = "connected-account"
