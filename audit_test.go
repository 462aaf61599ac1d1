package myaccount_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// auditLog collects the events an API emits.
type auditLog struct {
	mu     sync.Mutex
	events []myaccount.AuditEvent
}

func (l *auditLog) handle(_ context.Context, ev myaccount.AuditEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// take returns the events since the last call.
func (l *auditLog) take() []myaccount.AuditEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	events := l.events
	l.events = nil
	return events
}

const auditAgent = "AuditTest/1.0 (like a browser)"

// call sends a request as a browser would, with a user agent and a forged
// X-Forwarded-For that an untrusting API must ignore.
func (h *harness) call(method, path, token string, body any) *response {
	h.t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	default:
		data, _ = json.Marshal(b)
	}
	req, _ := http.NewRequest(method, h.server.URL+path, bytes.NewReader(data))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("User-Agent", auditAgent)
	req.Header.Set("X-Forwarded-For", "198.51.100.1, 203.0.113.9")
	return h.send(req)
}

// wantEvent checks that events is exactly one event like want, filled in
// from the request, and that it holds none of the secrets.
func wantEvent(t *testing.T, events []myaccount.AuditEvent, want myaccount.AuditEvent, clientIP string, secrets ...string) {
	t.Helper()
	if len(events) != 1 {
		t.Fatalf("events %+v, want one %s", events, want.Type)
	}
	ev := events[0]
	if ev.Time.IsZero() || time.Since(ev.Time) > time.Minute || ev.Time.Location() != time.UTC {
		t.Errorf("%s: time %v", want.Type, ev.Time)
	}
	if (want.Reason == "") != (ev.Reason == "") {
		t.Errorf("%s: reason %q", want.Type, ev.Reason)
	}
	want.Time, want.Reason = ev.Time, ev.Reason
	want.ClientIP, want.UserAgent = clientIP, auditAgent
	if ev != want {
		t.Errorf("event\n%+v\nwant\n%+v", ev, want)
	}
	printed := fmt.Sprintf("%+v", ev)
	for _, s := range secrets {
		if s != "" && strings.Contains(printed, s) {
			t.Errorf("%s: event holds a secret %.12q...: %s", ev.Type, s, printed)
		}
	}
}

// TestAuditEvents drives each security-relevant act over HTTP and checks the
// one event it gives: the type (Auth0's log event code where there is one),
// the user, the method, the client as the server saw it, and no secret.
func TestAuditEvents(t *testing.T) {
	log := &auditLog{}
	h := newHarness(t, func(c *myaccount.Config) {
		c.Audit.Handler = log.handle
		c.Audit.RefusedTokenInterval = time.Nanosecond // an event per refusal, to check each
	})
	alice := h.token("auth0|alice")
	iss := h.issuer.Issuer
	auth := myaccounttest.NewAuthenticator()
	const ip = "127.0.0.1" // the forged X-Forwarded-For is not trusted

	// Enrollment started.
	r := h.call("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "passkey"})
	wantStatus(t, r, http.StatusAccepted)
	var first enrollment
	_ = json.Unmarshal(r.body, &first)
	challenge := decodeOptions(t, first.Options).Challenge
	wantEvent(t, log.take(), myaccount.AuditEvent{Type: "gd_start_enroll", Issuer: iss, UserID: "auth0|alice", MethodType: "passkey"},
		ip, alice, first.AuthSession, challenge)

	// Verification failed: an attestation made for another enrollment's challenge.
	second := h.begin(alice)
	log.take()
	attestation := attest(t, auth, first)
	wantStatus(t, h.call("POST", "/me/v1/authentication-methods/passkey%7Cnew/verify", alice,
		map[string]any{"auth_session": second.AuthSession, "authn_response": attestation}), http.StatusBadRequest)
	wantEvent(t, log.take(), myaccount.AuditEvent{Type: "gd_webauthn_enrollment_failed", Issuer: iss, UserID: "auth0|alice", MethodType: "passkey", Reason: "set"},
		ip, alice, second.AuthSession, first.AuthSession, string(attestation))
	// ... and a spent auth_session.
	wantStatus(t, h.call("POST", "/me/v1/authentication-methods/passkey%7Cnew/verify", alice,
		map[string]any{"auth_session": second.AuthSession, "authn_response": attestation}), http.StatusBadRequest)
	wantEvent(t, log.take(), myaccount.AuditEvent{Type: "gd_webauthn_enrollment_failed", Issuer: iss, UserID: "auth0|alice", MethodType: "passkey", Reason: "set"},
		ip, alice, second.AuthSession)

	// Method enrolled.
	r = h.call("POST", "/me/v1/authentication-methods/passkey%7Cnew/verify", alice,
		map[string]any{"auth_session": first.AuthSession, "authn_response": attestation})
	wantStatus(t, r, http.StatusCreated)
	m := r.json(t)
	id := m["id"].(string)
	wantEvent(t, log.take(), myaccount.AuditEvent{Type: "gd_enrollment_complete", Issuer: iss, UserID: "auth0|alice", MethodID: id, MethodType: "passkey"},
		ip, alice, first.AuthSession, string(attestation), m["public_key"].(string))

	// Renamed.
	wantStatus(t, h.call("PATCH", "/me/v1/authentication-methods/"+id, alice, map[string]any{"name": "Work laptop"}), http.StatusOK)
	wantEvent(t, log.take(), myaccount.AuditEvent{Type: "myaccount_method_renamed", Issuer: iss, UserID: "auth0|alice", MethodID: id, MethodType: "passkey"}, ip, alice)

	// Reading is not an event; a failed rename or a delete of another user's
	// method changes nothing, so neither is one.
	wantStatus(t, h.call("GET", "/me/v1/authentication-methods", alice, nil), http.StatusOK)
	wantStatus(t, h.call("PATCH", "/me/v1/authentication-methods/"+id, alice, map[string]any{"name": ""}), http.StatusBadRequest)
	wantStatus(t, h.call("DELETE", "/me/v1/authentication-methods/"+id, h.token("auth0|mallory"), nil), http.StatusNotFound)
	if events := log.take(); len(events) != 0 {
		t.Errorf("events for acts that changed nothing: %+v", events)
	}

	// Deleted.
	wantStatus(t, h.call("DELETE", "/me/v1/authentication-methods/"+strings.Replace(id, "|", "%7C", 1), alice, nil), http.StatusNoContent)
	wantEvent(t, log.take(), myaccount.AuditEvent{Type: "gd_unenroll", Issuer: iss, UserID: "auth0|alice", MethodID: id, MethodType: "passkey"}, ip, alice)

	// Token refused: the user is taken only from a token that verified and
	// was refused for its audience or scopes, never from one that did not.
	for _, c := range []struct {
		token  string
		status int
		user   string
	}{
		{h.issuer.TokenWith(t, "auth0|alice", allScopes, myaccounttest.ExpiresIn(-time.Hour)), 401, ""},
		{"not.a.token", 401, ""},
		{h.issuer.TokenWith(t, "auth0|alice", allScopes, myaccounttest.WithAudience("https://api.example.com/")), 401, "auth0|alice"},
		{h.issuer.Token(t, "auth0|alice", "read:me:factors"), 403, "auth0|alice"},
	} {
		wantStatus(t, h.call("GET", "/me/v1/authentication-methods", c.token, nil), c.status)
		want := myaccount.AuditEvent{Type: "myaccount_token_refused", UserID: c.user, Reason: "set", Count: 1}
		if c.user != "" {
			want.Issuer = iss
		}
		wantEvent(t, log.take(), want, ip, c.token)
	}
	// No token at all is not an event (every unauthenticated probe would be one).
	wantStatus(t, h.call("GET", "/me/v1/authentication-methods", "", nil), http.StatusUnauthorized)
	if events := log.take(); len(events) != 0 {
		t.Errorf("events for a request without a token: %+v", events)
	}
}

// TestAuditRateLimitedAndTrustedClientIP: a 429 is an event, and behind a
// trusted proxy the client is the X-Forwarded-For entry that proxy added.
func TestAuditRateLimitedAndTrustedClientIP(t *testing.T) {
	log := &auditLog{}
	h := newHarness(t, func(c *myaccount.Config) {
		c.Audit.Handler = log.handle
		c.TrustForwardedHeaders = true
		c.RateLimits.User = myaccount.RateLimit{Rate: 0.001, Burst: 1}
	})
	alice := h.token("auth0|alice")
	wantStatus(t, h.call("GET", "/me/v1/authentication-methods", alice, nil), http.StatusOK)
	wantStatus(t, h.call("GET", "/me/v1/authentication-methods", alice, nil), http.StatusTooManyRequests)
	wantEvent(t, log.take(), myaccount.AuditEvent{Type: "api_limit", Issuer: h.issuer.Issuer, UserID: "auth0|alice", Reason: "set"}, "203.0.113.9", alice)
}

// TestAuditEventsAreLoggedByDefault: with no handler, events are slog records
// on Config.Logger, refusals at Warn, without secrets.
func TestAuditEventsAreLoggedByDefault(t *testing.T) {
	var buf testenv.Buffer
	h := newHarness(t, func(c *myaccount.Config) { c.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	alice := h.token("auth0|alice")
	e := h.begin(alice)
	expired := h.issuer.TokenWith(t, "auth0|alice", allScopes, myaccounttest.ExpiresIn(-time.Hour))
	wantStatus(t, h.call("GET", "/me/v1/factors", expired, nil), http.StatusUnauthorized)

	var records []map[string]any
	dec := json.NewDecoder(strings.NewReader(buf.String()))
	for {
		var rec map[string]any
		if err := dec.Decode(&rec); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if rec["msg"] == "audit" {
			records = append(records, rec)
		}
	}
	if len(records) != 2 {
		t.Fatalf("audit records %v, want 2", records)
	}
	if r := records[0]; r["event"] != "gd_start_enroll" || r["level"] != "INFO" || r["user_id"] != "auth0|alice" || r["method_type"] != "passkey" || r["client_ip"] != "127.0.0.1" {
		t.Errorf("enrollment record %v", r)
	}
	if r := records[1]; r["event"] != "myaccount_token_refused" || r["level"] != "WARN" || r["reason"] == nil {
		t.Errorf("refusal record %v", r)
	}
	for _, secret := range []string{alice, expired, e.AuthSession} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the log holds a secret: %s", buf.String())
		}
	}
}
