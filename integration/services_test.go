package integration_test

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
	"github.com/redis/go-redis/v9"
)

// needEnv returns the environment variable name, skipping tb when it is unset,
// or failing tb under CI=true, where a missing service is a broken setup.
func needEnv(tb testing.TB, name string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		msg := fmt.Sprintf("this test needs PostgreSQL and Redis: set %s (scripts/with-services.sh go test ./... starts throwaway servers; make test does)", name)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return v
}

// newPool connects to the test PostgreSQL with a short connect timeout, so that
// requests fail fast while it is down, and closes the pool at cleanup.
func newPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(needEnv(tb, "MYACCOUNT_POSTGRES_DSN"))
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
	opts, err := redis.ParseURL(needEnv(tb, "MYACCOUNT_REDIS_URL"))
	if err != nil {
		tb.Fatalf("MYACCOUNT_REDIS_URL: %v", err)
	}
	opts.ContextTimeoutEnabled = true
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// pgCtl runs "pg_ctl action" (stop, start or status) as the server's OS user
// against the test server's data directory, waiting for the action to complete.
// It returns pg_ctl's exit code; codes other than 0, and 3 from status (not
// running), fail tb.
func pgCtl(tb testing.TB, action string) int {
	tb.Helper()
	data := needEnv(tb, "MYACCOUNT_PG_DATA")
	prefix := strings.Fields(needEnv(tb, "MYACCOUNT_PG_CTL"))
	args := append(prefix[1:], action, "-D", data)
	switch action {
	case "stop":
		args = append(args, "-w", "-m", "fast")
	case "start":
		args = append(args, "-w", "-t", "60", "-l", data+"/server.log")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, prefix[0], args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	if err != nil && !(action == "status" && code == 3) {
		tb.Fatalf("pg_ctl %s: %v\n%s", action, err, out)
	}
	return code
}
