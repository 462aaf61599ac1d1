package pgstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/go-myaccount/myaccount/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// limitedRole creates a login role allowed one connection at a time and
// returns a DSN that connects as it.
func limitedRole(t *testing.T) string {
	t.Helper()
	dsn := testenv.Need(t, "MYACCOUNT_POSTGRES_DSN", "PostgreSQL")
	admin := newPool(t, dsn)
	role := "pgstore_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec(t.Context(), "CREATE ROLE "+role+" LOGIN CONNECTION LIMIT 1"); err != nil {
		t.Fatalf("create role: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP ROLE IF EXISTS "+role); err != nil {
			t.Errorf("drop role: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	return u.String()
}

// TestWaitsForAConnection: while PostgreSQL refuses new connections (here the
// role's connection limit, SQLSTATE 53300 like "too many clients"), a call
// waits and retries, and succeeds once a connection frees up; it fails with
// ErrUnavailable only when none does within its retry time.
func TestWaitsForAConnection(t *testing.T) {
	dsn := limitedRole(t)
	ctx := t.Context()
	hog, err := pgx.Connect(ctx, dsn) // takes the role's one connection
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = hog.Close(context.Background()) })
	pool := newPool(t, dsn)

	s := pgstore.New(pool, pgstore.WithConnectRetry(2*time.Second))
	released := make(chan struct{})
	go func() {
		defer close(released)
		time.Sleep(200 * time.Millisecond)
		_ = hog.Close(context.Background())
	}()
	start := time.Now()
	_, err = s.ListMethods(ctx, "https://issuer.example/", "alice", "")
	<-released
	// The role may read no table: any answer from PostgreSQL but a refusal
	// means the connection was made.
	var pgErr *pgconn.PgError
	if err != nil && (!errors.As(err, &pgErr) || pgErr.Code == "53300") {
		t.Fatalf("ListMethods while the only connection frees up after 200ms: %v, want it to connect", err)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Fatalf("ListMethods connected after %v, before the connection was freed", took)
	}

	// With the connection taken for good, the call gives up after its retry time.
	pool.Reset() // closes the pool's connection; the server frees its slot soon after
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if hog, err = pgx.Connect(ctx, dsn); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect: %v", err)
		}
	}
	s = pgstore.New(pool, pgstore.WithConnectRetry(300*time.Millisecond))
	start = time.Now()
	_, err = s.ListMethods(ctx, "https://issuer.example/", "alice", "")
	took := time.Since(start)
	if !errors.Is(err, myaccount.ErrUnavailable) {
		t.Fatalf("ListMethods with no connection to be had: %v, want ErrUnavailable", err)
	}
	if took < 250*time.Millisecond || took > 3*time.Second {
		t.Fatalf("ListMethods gave up after %v, want about its retry time of 300ms", took)
	}
	// Without retries it fails at once.
	s = pgstore.New(pool, pgstore.WithConnectRetry(0))
	start = time.Now()
	if _, err = s.ListMethods(ctx, "https://issuer.example/", "alice", ""); !errors.Is(err, myaccount.ErrUnavailable) {
		t.Fatalf("ListMethods without retries: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 250*time.Millisecond {
		t.Fatalf("ListMethods without retries took %v", took)
	}
	_ = hog.Close(ctx)
}
