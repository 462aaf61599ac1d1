package redislimit_test

import (
	"testing"

	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// testClient returns a client of the test Redis named by MYACCOUNT_REDIS_URL,
// closed at cleanup.
func testClient(tb testing.TB) *redis.Client {
	tb.Helper()
	url := testenv.Need(tb, "MYACCOUNT_REDIS_URL", "Redis")
	opts, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatalf("MYACCOUNT_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
