package myaccount

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"log/slog"
	"net/http/httptest"
	"strings"

	"errors"
	"fmt"
	"github.com/golang-jwt/jwt/v5"
	"testing"
	"time"
)

// Opening enrollments costs the server nothing to keep: the state is sealed
// into each auth_session. Trying codes does, and that is bounded per user.
func TestMemoryStoreSessionRecordsAreBoundedPerUser(t *testing.T) {
	s := newMemoryStore()
	ctx := context.Background()
	ref := func(user string, i int) SessionRef {
		return SessionRef{ID: fmt.Sprint(i), Issuer: "iss", UserID: user, ExpiresAt: time.Now().Add(time.Hour)}
	}
	for i := range maxSessionsPerUser {
		if err := s.CountAttempt(ctx, ref("mallory", i), 5); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	for i := range 1000 {
		if err := s.CountAttempt(ctx, ref("mallory", maxSessionsPerUser+i), 5); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("record %d past the bound: %v", maxSessionsPerUser+i, err)
		}
	}
	// Known records still count, and other users are unaffected.
	if err := s.CountAttempt(ctx, ref("mallory", 0), 5); err != nil {
		t.Errorf("a known record past the bound: %v", err)
	}
	if err := s.SpendSession(ctx, ref("alice", 0)); err != nil {
		t.Errorf("another user: %v", err)
	}
	if s.sessionCount != maxSessionsPerUser+1 {
		t.Errorf("%d records, want %d", s.sessionCount, maxSessionsPerUser+1)
	}
	// Expired records make room again.
	expired := newMemoryStore()
	for i := range maxSessionsPerUser {
		r := ref("mallory", i)
		r.ExpiresAt = time.Now().Add(-time.Second)
		_ = expired.CountAttempt(ctx, r, 5)
	}
	for i := range maxSessionsPerUser {
		if err := expired.CountAttempt(ctx, ref("mallory", maxSessionsPerUser+i), 5); err != nil {
			t.Fatalf("fresh record %d after %d expired ones: %v", i, maxSessionsPerUser, err)
		}
	}
	if expired.sessionCount > maxSessionsPerUser {
		t.Errorf("%d records kept, more than the bound", expired.sessionCount)
	}
}

// A user opening thousands of enrollments, with the rate limits off, grows
// no table: the state is in the auth_sessions they hold.
func TestThousandsOfEnrollmentsKeepNothing(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const issuer = "https://tenant.example.com/"
	store := newMemoryStore()
	a, err := New(Config{
		Issuer: issuer, Token: TokenConfig{Keyfunc: func(*jwt.Token) (any, error) { return &key.PublicKey, nil }},
		Store: store, RateLimits: RateLimitConfig{Tenant: RateLimit{Disabled: true}, User: RateLimit{Disabled: true}},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	token, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": issuer, "sub": "auth0|mallory", "aud": issuer + "me/", "exp": time.Now().Add(time.Hour).Unix(),
		"scope": scopeCreateMethods,
	}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		typ := []string{typeTOTP, typeRecoveryCode, typePasskey, typeWebAuthnRoaming}[i%4]
		req := httptest.NewRequest("POST", "/me/v1/authentication-methods", strings.NewReader(`{"type":"`+typ+`"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != 202 {
			t.Fatalf("enrollment %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.sessionCount != 0 || len(store.sessions) != 0 || len(store.methods) != 0 || len(store.handles) != 1 {
		t.Errorf("after 3000 enrollments: %d session records, %d method lists, %d handles",
			store.sessionCount, len(store.methods), len(store.handles))
	}
}
