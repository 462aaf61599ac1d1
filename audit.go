package myaccount

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Audit event types. Where Auth0's tenant logs have an event code for the act,
// the type is that code (https://auth0.com/docs/deploy-monitor/logs/log-event-type-codes),
// so that one query finds the act in both; the others start with "myaccount_".
const (
	// AuditEnrollmentStarted: POST /authentication-methods opened an
	// enrollment (Auth0's gd_start_enroll, "Multi-factor authentication enroll
	// has started").
	AuditEnrollmentStarted = "gd_start_enroll"
	// AuditMethodEnrolled: a verify created a method (Auth0's
	// gd_enrollment_complete, which carries the authenticator type, passkey
	// included).
	AuditMethodEnrolled = "gd_enrollment_complete"
	// AuditVerificationFailed: a verify of a WebAuthn type (passkey,
	// webauthn-roaming, webauthn-platform) was refused, for a bad, expired or
	// used auth_session or a failed attestation (Auth0's
	// gd_webauthn_enrollment_failed, which it logs for these enrollments).
	AuditVerificationFailed = "gd_webauthn_enrollment_failed"
	// AuditPasswordChangeFailed: a password verify was refused, for a
	// password the policy refuses or a bad auth_session (Auth0's fcp, "Failed
	// Change Password").
	AuditPasswordChangeFailed = "fcp"
	// AuditEnrollmentFailed: a verify of any other type (TOTP, recovery code,
	// email, phone, push) was refused, for a wrong code, an unconfirmed
	// pairing or a bad auth_session. Auth0 has no code for it.
	AuditEnrollmentFailed = "myaccount_enrollment_failed"
	// AuditMethodDeleted: a method was deleted (Auth0's gd_unenroll).
	AuditMethodDeleted = "gd_unenroll"
	// AuditRateLimited: a request got 429 (Auth0's api_limit, "the maximum
	// number of requests ... in given time has been reached").
	AuditRateLimited = "api_limit"
	// AuditMethodRenamed: a method's name was changed. Auth0 has no code for it.
	AuditMethodRenamed = "myaccount_method_renamed"
	// AuditTokenRefused: a request carried an access token that was refused
	// (invalid, expired, wrong audience, missing scope). A request without any
	// token is not an event. Auth0 has no code for it.
	AuditTokenRefused = "myaccount_token_refused"
)

// AuditEvent is one security-relevant act, as an [AuditConfig.Handler]
// receives it. It never holds a secret: no token, auth_session, code,
// challenge or credential, only who did what, from where.
type AuditEvent struct {
	Type string    // one of the Audit* constants
	Time time.Time // when the API saw it
	// Issuer and UserID are the verified token's "iss" and "sub"; empty when
	// the token failed verification, since its claims cannot be trusted (a
	// verified token refused for its audience or scopes has them).
	Issuer, UserID string
	// MethodID and MethodType are the method acted on, when there is one; the
	// id is empty while an enrollment has not been verified.
	MethodID, MethodType string
	// ClientIP is the peer address of the connection, or the last
	// X-Forwarded-For entry when [Config.TrustForwardedHeaders] is set.
	ClientIP  string
	UserAgent string // truncated to 256 bytes
	// Reason says why a refusal happened, in the words sent to the client.
	Reason string
	// Count is, for an AuditTokenRefused event, how many refused tokens from
	// ClientIP it stands for: the refusals since that address's previous
	// event, this one included (see [AuditConfig.RefusedTokenInterval]). A
	// ClientIP of "*" counts addresses past the bound of those counted apart.
	// 0 for the other events.
	Count int
}

// AuditConfig says where audit events go.
type AuditConfig struct {
	// Handler receives every event, synchronously on the request's goroutine,
	// so it should be quick (hand slow work to a queue). Default: each event is
	// logged to [Config.Logger] as an slog record with message "audit": level
	// Info, or Warn for refusals (failed verification, refused token, rate
	// limit); in a test binary (testing.Testing) with no Config.Logger set,
	// events are dropped, so tests stay quiet unless they ask.
	Handler func(ctx context.Context, ev AuditEvent)
	// RefusedTokenInterval is the least time between two AuditTokenRefused
	// events of one client address: the refusals in between are counted, and
	// the next event carries the count, so that a flood of bad tokens is a
	// line a minute, not a line a request. Default: 1 minute.
	RefusedTokenInterval time.Duration
}

// audit completes ev from the request (time, user, client) and hands it to the
// configured handler.
func (a *API) audit(r *http.Request, ev AuditEvent) {
	ev.Time = time.Now().UTC()
	if claims, ok := ClaimsFromContext(r.Context()); ok {
		ev.Issuer, ev.UserID = claims.Issuer, claims.Subject
	}
	if ev.MethodType == "" {
		ev.MethodType, _, _ = strings.Cut(ev.MethodID, "|")
	}
	if ev.ClientIP == "" {
		ev.ClientIP = a.clientIP(r)
	}
	ev.UserAgent = cleanUserAgent(r.UserAgent(), 256)
	a.cfg.Audit.Handler(r.Context(), ev)
}

// auditReason is the client-facing text of err, for AuditEvent.Reason.
func auditReason(err error) string {
	e := asError(err)
	return orDefault(e.Detail, e.Title)
}

// clientIP is the address the request came from: the connection's peer, or,
// behind a trusted proxy, the entry that proxy appended to X-Forwarded-For.
func (a *API) clientIP(r *http.Request) string {
	if a.cfg.TrustForwardedHeaders {
		if ip, err := netip.ParseAddr(lastValue(r.Header, "X-Forwarded-For")); err == nil {
			return ip.String()
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// auditErrors wraps the token validator's error handler so that a refused
// token is counted, and reported at a bounded rate per client address, before
// the error is written.
func (a *API) auditErrors(next func(http.ResponseWriter, *http.Request, error)) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if errors.Is(err, ErrInvalidToken) || errors.Is(err, errInsufficientScope) {
			a.auditRefusedToken(r, err)
		}
		next(w, r, err)
	}
}

// logAudit is the default [AuditConfig.Handler].
func logAudit(logger *slog.Logger) func(context.Context, AuditEvent) {
	return func(ctx context.Context, ev AuditEvent) {
		level := slog.LevelInfo
		switch ev.Type {
		case AuditVerificationFailed, AuditPasswordChangeFailed, AuditEnrollmentFailed, AuditTokenRefused, AuditRateLimited, AuditConnectRefused:
			level = slog.LevelWarn
		}
		if !logger.Enabled(ctx, level) {
			return // the attributes would be built for nothing
		}
		attrs := []slog.Attr{slog.String("event", ev.Type), slog.Time("at", ev.Time)}
		for _, kv := range [][2]string{
			{"issuer", ev.Issuer}, {"user_id", ev.UserID}, {"method_id", ev.MethodID}, {"method_type", ev.MethodType},
			{"client_ip", ev.ClientIP}, {"user_agent", ev.UserAgent}, {"reason", ev.Reason},
		} {
			if kv[1] != "" {
				attrs = append(attrs, slog.String(kv[0], kv[1]))
			}
		}
		if ev.Count > 0 {
			attrs = append(attrs, slog.Int("count", ev.Count))
		}
		logger.LogAttrs(ctx, level, "audit", attrs...)
	}
}

// verifyFailedEvent is the audit event type of a refused verify of typ.
func verifyFailedEvent(typ string) string {
	switch typ {
	case "passkey", "webauthn-roaming", "webauthn-platform":
		return AuditVerificationFailed
	case "password":
		return AuditPasswordChangeFailed
	}
	return AuditEnrollmentFailed
}
