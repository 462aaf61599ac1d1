package integration_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// newPool connects to the test PostgreSQL with a short connect timeout, so that
// requests fail fast while it is down, and closes the pool at cleanup.
func newPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(testenv.Need(tb, "MYACCOUNT_POSTGRES_DSN", "PostgreSQL and Redis"))
	if err != nil {
		tb.Fatalf("MYACCOUNT_POSTGRES_DSN: %v", err)
	}
	cfg.ConnConfig.ConnectTimeout = time.Second
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("pgxpool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// freshSchema names a schema for this test alone, dropped at cleanup.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	pool := newPool(tb)
	name := "integration_" + strings.ToLower(rand.Text()[:12])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		// The test may have restarted the server under the pool: retry on a new connection.
		for range 3 {
			if _, err = pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err == nil {
				return
			}
		}
		tb.Errorf("drop schema %s: %v", name, err)
	})
	return name
}

// newRedis returns a client of the test Redis, closed at cleanup.
func newRedis(tb testing.TB) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(testenv.Need(tb, "MYACCOUNT_REDIS_URL", "PostgreSQL and Redis"))
	if err != nil {
		tb.Fatalf("MYACCOUNT_REDIS_URL: %v", err)
	}
	opts.ContextTimeoutEnabled = true
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
