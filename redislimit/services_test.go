package redislimit_test

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// testClient returns a client of the test Redis named by MYACCOUNT_REDIS_URL,
// closed at cleanup. Without it the test is skipped, or fails under CI=true,
// where a missing service is a broken setup.
func testClient(tb testing.TB) *redis.Client {
	tb.Helper()
	url := os.Getenv("MYACCOUNT_REDIS_URL")
	if url == "" {
		const msg = "this test needs Redis: set MYACCOUNT_REDIS_URL (scripts/with-services.sh go test ./... starts a throwaway server; make test does)"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatalf("MYACCOUNT_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
