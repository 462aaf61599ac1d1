package bench

import (
	"context"
	"runtime"
	"strconv"
	"testing"

	"github.com/go-myaccount/myaccount"
)

// BenchmarkLimiter is MemoryLimiter.Allow on a bucket that already exists,
// with a key shaped like the API's per-user key.
func BenchmarkLimiter(b *testing.B) {
	b.Run("op=allow-existing", func(b *testing.B) {
		l := myaccount.NewMemoryLimiter(0)
		ctx := context.Background()
		key := "user\x00https://tenant.example.com/\x00auth0|6543210fedcba9876543210f"
		limit := myaccount.Limit{Rate: 1e9, Burst: 1e9}
		b.ReportAllocs()
		for b.Loop() {
			if d, _ := l.Allow(ctx, key, limit); !d.Allowed {
				b.Fatal("refused")
			}
		}
	})
}

// BenchmarkLimiterMemory reports the heap NewMemoryLimiter's limiter holds per tracked
// user, over 100,000 users whose keys are built as requests arrive.
func BenchmarkLimiterMemory(b *testing.B) {
	const users = 100_000
	ctx := context.Background()
	limit := myaccount.Limit{Rate: 1, Burst: 10}
	var perUser float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := myaccount.NewMemoryLimiter(0)
		for i := range users {
			key := "user\x00https://tenant.example.com/\x00auth0|" + strconv.Itoa(1e12+i)
			_, _ = l.Allow(ctx, key, limit)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perUser = float64(after.HeapAlloc-before.HeapAlloc) / users
		first := "user\x00https://tenant.example.com/\x00auth0|" + strconv.Itoa(1e12)
		if d, _ := l.Allow(ctx, first, limit); d.Remaining >= limit.Burst-1 { // a new bucket would have burst-1
			b.Fatal("the limiter dropped a bucket it had room for")
		}
		runtime.KeepAlive(l)
	}
	b.ReportMetric(perUser, "bytes/user")
}
