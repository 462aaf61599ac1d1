package pgstore_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// newPool connects to dsn, closing the pool at cleanup.
func newPool(tb testing.TB, dsn string) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		tb.Fatalf("parse %s: %v", dsn, err)
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	// Enough connections for the conformance suite's concurrent calls to meet in the server.
	cfg.MaxConns = 32
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("pgxpool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// testPool connects to the test server.
func testPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return newPool(tb, testenv.Need(tb, "MYACCOUNT_POSTGRES_DSN", "PostgreSQL"))
}

// freshSchema names a schema no other test uses, dropped with its tables at cleanup.
func freshSchema(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	name := "pgstore_test_" + strings.ToLower(rand.Text()[:12])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		// A test may have restarted the server under the pool: retry on a new connection.
		for range 3 {
			if _, err = pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err == nil {
				return
			}
		}
		tb.Errorf("drop schema %s: %v", name, err)
	})
	return name
}
