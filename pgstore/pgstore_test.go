package pgstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/go-myaccount/myaccount/pgstore"
	"github.com/go-myaccount/myaccount/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrated returns a store in a fresh schema, migrated.
func migrated(tb testing.TB, pool *pgxpool.Pool) (*pgstore.Store, string) {
	tb.Helper()
	schema := freshSchema(tb, pool)
	s := pgstore.New(pool, pgstore.WithSchema(schema))
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s, schema
}

func TestConformance(t *testing.T) {
	pool := testPool(t)
	_, schema := migrated(t, pool)
	storetest.Run(t, func(*testing.T) myaccount.Store { return pgstore.New(pool, pgstore.WithSchema(schema)) })
}

func TestMigrateConcurrent(t *testing.T) {
	pool := testPool(t)
	schema := freshSchema(t, pool)
	const n = 5
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = pgstore.New(pool, pgstore.WithSchema(schema)).Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Migrate %d: %v", i, err)
		}
	}
	if err := pgstore.New(pool, pgstore.WithSchema(schema)).Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate of a migrated schema: %v", err)
	}
	rows, err := pool.Query(t.Context(), "SELECT version FROM "+
		pgx.Identifier{schema, "myaccount_schema_migrations"}.Sanitize()+" ORDER BY version")
	if err != nil {
		t.Fatalf("read versions: %v", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatalf("read versions: %v", err)
	}
	for i, v := range versions {
		if v != int32(i+1) {
			t.Fatalf("applied versions %v, want each once, from 1", versions)
		}
	}
	if len(versions) == 0 {
		t.Fatal("no versions recorded")
	}
}

// TestDefaultSchema migrates a database of its own with no schema option: the
// tables land in the search path's first schema.
func TestDefaultSchema(t *testing.T) {
	dsn := testenv.Need(t, "MYACCOUNT_POSTGRES_DSN", "PostgreSQL")
	admin := newPool(t, dsn)
	name := "pgstore_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	pool := newPool(t, u.String())
	s := pgstore.New(pool)
	for range 2 {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	var table *string
	if err := pool.QueryRow(t.Context(), "SELECT to_regclass('public.myaccount_methods')::text").Scan(&table); err != nil || table == nil {
		t.Fatalf("public.myaccount_methods: %v, %v", table, err)
	}
	h, err := s.UserHandle(t.Context(), "https://issuer.example/", "alice", []byte("handle"))
	if err != nil || string(h) != "handle" {
		t.Fatalf("UserHandle = %q, %v", h, err)
	}
}

// TestSurvivesRestart writes, closes the pool, restarts PostgreSQL, reconnects
// and reads everything back.
func TestSurvivesRestart(t *testing.T) {
	dsn := testenv.Need(t, "MYACCOUNT_POSTGRES_DSN", "PostgreSQL")
	testenv.Need(t, "MYACCOUNT_PG_CTL", "PostgreSQL")
	ctx := t.Context()
	_, schema := migrated(t, newPool(t, dsn)) // this pool drops the schema at cleanup
	before := newPool(t, dsn)
	s := pgstore.New(before, pgstore.WithSchema(schema))
	m := &myaccount.Method{
		ID: "passkey|dev_restart000000000", Issuer: "https://issuer.example/", UserID: "alice", Type: "passkey",
		Name: "kept", IdentityUserID: "alice", CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
		WebAuthn: myaccount.WebAuthnCredential{
			CredentialID: []byte("credential"), PublicKey: []byte("key"), AAGUID: make([]byte, 16), SignCount: 3,
			BackupEligible: true, Transports: []string{"usb"}, AttestationFormat: "none", UserAgent: "test",
			RelyingPartyID: "localhost", UserHandle: []byte("handle"),
		},
	}
	session := myaccount.SessionRef{ID: "restart-used", Issuer: m.Issuer, UserID: m.UserID, ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.CreateMethod(ctx, m, 20, session); err != nil {
		t.Fatalf("CreateMethod: %v", err)
	}
	if _, err := s.UserHandle(ctx, m.Issuer, m.UserID, []byte("handle")); err != nil {
		t.Fatalf("UserHandle: %v", err)
	}
	tried := myaccount.SessionRef{ID: "restart-tried", Issuer: m.Issuer, UserID: m.UserID, ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.CountAttempt(ctx, tried, 2); err != nil {
		t.Fatalf("CountAttempt: %v", err)
	}
	before.Close()

	testenv.PGCtl(t, "restart")

	after := newPool(t, dsn)
	s = pgstore.New(after, pgstore.WithSchema(schema))
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after restart: %v", err)
	}
	got, err := s.GetMethod(ctx, m.Issuer, m.UserID, m.ID)
	if err != nil {
		t.Fatalf("GetMethod after restart: %v", err)
	}
	if got.Name != m.Name || !got.CreatedAt.Equal(m.CreatedAt) || !bytes.Equal(got.WebAuthn.CredentialID, m.WebAuthn.CredentialID) ||
		!bytes.Equal(got.WebAuthn.PublicKey, m.WebAuthn.PublicKey) || got.WebAuthn.SignCount != 3 {
		t.Fatalf("after restart got %+v, want %+v", got, m)
	}
	if h, err := s.UserHandle(ctx, m.Issuer, m.UserID, []byte("other")); err != nil || string(h) != "handle" {
		t.Fatalf("UserHandle after restart = %q, %v", h, err)
	}
	// A clean shutdown keeps the session records too.
	if err := s.SpendSession(ctx, session); !errors.Is(err, myaccount.ErrSessionUsed) {
		t.Fatalf("SpendSession of the session used before the restart: %v, want ErrSessionUsed", err)
	}
	if err := s.CountAttempt(ctx, tried, 2); err != nil {
		t.Fatalf("second CountAttempt after restart: %v", err)
	}
	if err := s.CountAttempt(ctx, tried, 2); !errors.Is(err, myaccount.ErrSessionUsed) {
		t.Fatalf("third CountAttempt with max 2 after restart: %v, want ErrSessionUsed", err)
	}
}

// TestUnavailable points stores at servers that refuse or never answer: every
// call fails within the connect timeout with an error wrapping ErrUnavailable.
// It needs no PostgreSQL.
func TestUnavailable(t *testing.T) {
	for _, tt := range []struct{ name, addr string }{
		{"refused", testenv.DeadAddress(t)},
		{"silent", testenv.SilentAddress(t)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := pgxpool.ParseConfig("postgres://postgres@" + tt.addr + "/postgres?sslmode=disable")
			if err != nil {
				t.Fatal(err)
			}
			cfg.ConnConfig.ConnectTimeout = 300 * time.Millisecond
			pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			s := pgstore.New(pool)
			ctx := t.Context()
			m := &myaccount.Method{ID: "passkey|dev_x", Issuer: "i", UserID: "u", Type: "passkey"}
			session := myaccount.SessionRef{ID: "s", Issuer: "i", UserID: "u", ExpiresAt: time.Now().Add(time.Minute)}
			calls := map[string]func() error{
				"Migrate":      func() error { return s.Migrate(ctx) },
				"CreateMethod": func() error { return s.CreateMethod(ctx, m, 20, session) },
				"ListMethods":  func() error { _, err := s.ListMethods(ctx, "i", "u", ""); return err },
				"GetMethod":    func() error { _, err := s.GetMethod(ctx, "i", "u", m.ID); return err },
				"UpdateMethod": func() error { _, err := s.UpdateMethod(ctx, "i", "u", m.ID, myaccount.MethodUpdate{}); return err },
				"DeleteMethod": func() error { return s.DeleteMethod(ctx, "i", "u", m.ID, nil) },
				"UserHandle":   func() error { _, err := s.UserHandle(ctx, "i", "u", []byte("h")); return err },
				"SpendSession": func() error { return s.SpendSession(ctx, session) },
				"CountAttempt": func() error { return s.CountAttempt(ctx, session, 5) },
			}
			for name, call := range calls {
				start := time.Now()
				err := call()
				if took := time.Since(start); took > 2*time.Second {
					t.Errorf("%s took %v", name, took)
				}
				if !errors.Is(err, myaccount.ErrUnavailable) {
					t.Errorf("%s: error %v, want one wrapping ErrUnavailable", name, err)
				}
			}
		})
	}
}

// TestDeadlineWhileLocked: a create waiting for the user's lock past its
// deadline returns context.DeadlineExceeded, not ErrUnavailable.
func TestDeadlineWhileLocked(t *testing.T) {
	pool := testPool(t)
	s, _ := migrated(t, pool)
	// A transaction kept open holds the lock a create of this user takes.
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	m := &myaccount.Method{ID: "passkey|dev_a", Issuer: "https://i.example/", UserID: "alice", Type: "passkey",
		CreatedAt: time.Now(), WebAuthn: myaccount.WebAuthnCredential{CredentialID: []byte("a"), RelyingPartyID: "localhost"}}
	if _, err := tx.Exec(t.Context(), "SELECT pg_advisory_xact_lock($1::int4, $2::int4)",
		pgstore.LockClass, pgstore.UserLockKey(m.Issuer, m.UserID)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.CreateMethod(ctx, m, 20, myaccount.SessionRef{ID: "locked", Issuer: m.Issuer, UserID: m.UserID,
		ExpiresAt: time.Now().Add(time.Minute)})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("CreateMethod took %v", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, myaccount.ErrUnavailable) {
		t.Fatalf("CreateMethod past its deadline: %v, want context.DeadlineExceeded", err)
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	if list, err := s.ListMethods(t.Context(), m.Issuer, m.UserID, ""); err != nil || len(list) != 0 {
		t.Fatalf("after the timed out create: %d methods, %v", len(list), err)
	}
}

// TestExpiredSessionsSwept: writing session records deletes expired ones as
// it goes.
func TestExpiredSessionsSwept(t *testing.T) {
	pool := testPool(t)
	s, schema := migrated(t, pool)
	ctx := t.Context()
	spend := func(id string, ttl time.Duration) {
		t.Helper()
		err := s.SpendSession(ctx, myaccount.SessionRef{ID: id, Issuer: "i", UserID: "u", ExpiresAt: time.Now().Add(ttl)})
		if err != nil {
			t.Fatalf("SpendSession: %v", err)
		}
	}
	for i := range 50 {
		spend("expired-"+strings.Repeat("x", i), -time.Minute)
	}
	for i := range 32 {
		spend("live-"+strings.Repeat("x", i), time.Minute)
	}
	var expired, live int
	err := pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE expires_at <= now()), count(*) FILTER (WHERE expires_at > now()) FROM "+
		pgx.Identifier{schema, "myaccount_session_uses"}.Sanitize()).Scan(&expired, &live)
	if err != nil {
		t.Fatal(err)
	}
	if expired != 0 || live != 32 {
		t.Fatalf("after 82 spends: %d expired and %d live session records stored, want 0 and 32", expired, live)
	}
}

func TestConformanceConnectedAccounts(t *testing.T) {
	pool := testPool(t)
	_, schema := migrated(t, pool)
	storetest.RunConnectedAccounts(t, func(*testing.T) myaccount.Store { return pgstore.New(pool, pgstore.WithSchema(schema)) })
}
