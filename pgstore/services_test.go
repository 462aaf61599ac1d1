package pgstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// needEnv returns the environment variable name, skipping tb when it is unset,
// or failing tb under CI=true, where a missing service is a broken setup.
func needEnv(tb testing.TB, name string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		msg := fmt.Sprintf("this test needs PostgreSQL: set %s (scripts/with-services.sh go test ./... starts a throwaway server; make test does)", name)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return v
}

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
	return newPool(tb, needEnv(tb, "MYACCOUNT_POSTGRES_DSN"))
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

// restartPostgres restarts the test server with pg_ctl, waiting until it is up.
func restartPostgres(tb testing.TB) {
	tb.Helper()
	data := needEnv(tb, "MYACCOUNT_PG_DATA")
	pgCtl := strings.Fields(needEnv(tb, "MYACCOUNT_PG_CTL"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append(pgCtl[1:], "restart", "-D", data, "-m", "fast", "-w", "-l", data+"/server.log")
	cmd := exec.CommandContext(ctx, pgCtl[0], args...)
	cmd.WaitDelay = time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("pg_ctl restart: %v\n%s", err, out)
	}
}
