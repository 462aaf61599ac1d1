package myaccount

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestMemoryLimiterDecidesAsRateLimiterDoes drives a bucket and an
// x/time/rate Limiter, used as memoryLimiter once used it, through the same
// requests, at times and rates whose arithmetic is exact.
func TestMemoryLimiterDecidesAsRateLimiterDoes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, limit := range []Limit{{0.5, 1}, {1, 5}, {4, 25}, {1024, 3}} {
		l := newMemoryLimiter(0)
		ref := rate.NewLimiter(rate.Limit(limit.Rate), limit.Burst)
		now := l.start
		for i := range 2000 {
			now = now.Add(time.Duration(rng.IntN(3)) * time.Second / 128 * time.Duration(rng.IntN(3)))
			got := l.allow(bucketKey{issuer: "k"}, limit, now)
			r := ref.ReserveN(now, 1)
			want := Decision{Limit: limit.Burst, Allowed: true}
			if delay := r.DelayFrom(now); delay > 0 {
				r.CancelAt(now)
				want.Allowed, want.RetryAfter = false, delay
			}
			tokens := ref.TokensAt(now)
			want.Remaining = max(0, int(math.Floor(tokens)))
			want.Reset = now.Add(time.Duration((float64(limit.Burst) - tokens) / limit.Rate * float64(time.Second)))
			if got != want {
				t.Fatalf("%+v, request %d: got %+v, want %+v", limit, i, got, want)
			}
		}
	}
}

// keyRecorder is a Limiter that allows everything and remembers the keys.
type keyRecorder struct{ keys []string }

func (k *keyRecorder) Allow(_ context.Context, key string, limit Limit) (Decision, error) {
	k.keys = append(k.keys, key)
	return Decision{Allowed: true, Limit: limit.Burst, Remaining: limit.Burst - 1}, nil
}

func TestRateLimitKeys(t *testing.T) {
	rec := &keyRecorder{}
	rl := rateLimiter{limiter: rec, tenant: &Limit{25, 25}, user: &Limit{1, 10}}
	if err := rl.check(context.Background(), http.Header{}, "https://t.example/", "auth0|alice"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"user\x00https://t.example/\x00auth0|alice", "tenant\x00https://t.example/"}; strings.Join(rec.keys, ",") != strings.Join(want, ",") {
		t.Errorf("keys %q, want %q", rec.keys, want)
	}
	// The memory limiter keeps the API's buckets apart from each other and from
	// keys given to Allow, even ones spelled like the API's.
	ml := newMemoryLimiter(0)
	rl = rateLimiter{limiter: ml, tenant: &Limit{1000, 1000}, user: &Limit{1, 2}}
	h := http.Header{}
	for range 2 {
		if err := rl.check(context.Background(), h, "https://t.example/", "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if d, _ := ml.Allow(context.Background(), "user\x00https://t.example/\x00alice", Limit{1, 2}); !d.Allowed {
		t.Error("Allow shares a bucket with the API")
	}
	if err := rl.check(context.Background(), h, "https://t.example/", "alice"); err == nil {
		t.Error("a third request within the burst of 2 was allowed")
	}
	if err := rl.check(context.Background(), h, "https://t.example/", "bob"); err != nil {
		t.Errorf("bob: %v", err)
	}
	if ml.Len() != 4 {
		t.Errorf("%d buckets, want 4 (alice, bob, the tenant, the Allow key)", ml.Len())
	}
}

// BenchmarkLimiter here is the API's check: a user's and the tenant's bucket,
// and the rate-limit headers.
func BenchmarkLimiter(b *testing.B) {
	b.Run("op=api-two-bucket", func(b *testing.B) {
		// Limits that never trip, with bursts of the defaults' sizes.
		rl := rateLimiter{limiter: newMemoryLimiter(0), tenant: &Limit{1e9, 25}, user: &Limit{1e9, 10}}
		ctx, h := context.Background(), http.Header{}
		issuer, subject := "https://tenant.example.com/", "auth0|6543210fedcba9876543210f"
		b.ReportAllocs()
		for b.Loop() {
			if err := rl.check(ctx, h, issuer, subject); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLimiterMemory here reports the heap the API's limits hold per
// user, over 100,000 users whose issuer and subject strings are each the
// user's own, as they are when decoded from tokens.
func BenchmarkLimiterMemory(b *testing.B) {
	b.Run("path=api", func(b *testing.B) {
		const users = 100_000
		ctx := context.Background()
		var perUser float64
		for b.Loop() {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			ml := newMemoryLimiter(2 * users)
			rl := rateLimiter{limiter: ml, tenant: &Limit{1e9, 25}, user: &Limit{1, 10}}
			h := http.Header{}
			for i := range users {
				issuer := strings.Clone("https://tenant.example.com/")
				subject := "auth0|" + strconv.Itoa(1e17+i)
				if err := rl.check(ctx, h, issuer, subject); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			if ml.Len() != users+1 {
				b.Fatalf("tracking %d buckets", ml.Len())
			}
			perUser = float64(after.HeapAlloc-before.HeapAlloc) / users
			runtime.KeepAlive(ml)
		}
		b.ReportMetric(perUser, "bytes/user")
	})
}

// TestMemoryLimiterEvictsLeastRecentlyUsed is issue 11's defect 3: at
// capacity every new key used to scan the whole table and evict an arbitrary
// bucket. Now the least recently used one goes, in constant time (see
// BenchmarkLimiterNewKey): the users active lately keep their buckets, debts
// included, however many new keys arrive.
func TestMemoryLimiterEvictsLeastRecentlyUsed(t *testing.T) {
	const maxKeys = 1024
	l := newMemoryLimiter(maxKeys)
	slow := Limit{Rate: 0.001, Burst: 5} // no bucket refills during the test
	now := l.start
	user := func(i int) bucketKey { return bucketKey{kind: userBucket, issuer: "t", subject: strconv.Itoa(i)} }
	for i := range maxKeys {
		l.allow(user(i), slow, now)
	}
	// The even users come back and spend their whole burst.
	for i := 0; i < maxKeys; i += 2 {
		for range 4 {
			l.allow(user(i), slow, now)
		}
	}
	// Half a table of newcomers pushes out the odd users, used longest ago.
	for i := range maxKeys / 2 {
		l.allow(bucketKey{kind: userBucket, issuer: "new", subject: strconv.Itoa(i)}, slow, now)
		if n := len(l.buckets); n > maxKeys {
			t.Fatalf("tracking %d buckets, bound %d", n, maxKeys)
		}
	}
	for i := range maxKeys {
		_, kept := l.buckets[user(i)]
		if kept != (i%2 == 0) {
			t.Fatalf("user %d kept=%v: eviction is not least recently used first", i, kept)
		}
	}
	if d := l.allow(user(0), slow, now); d.Allowed {
		t.Error("an active user's spent bucket was replaced by a full one")
	}
}

// BenchmarkLimiterNewKey is the cost of a key the limiter has not seen, with
// the table below its bound and at it (where each new key evicts one).
func BenchmarkLimiterNewKey(b *testing.B) {
	const maxKeys = 100_000
	slow := Limit{Rate: 0.001, Burst: 5} // no bucket refills, so none is idle
	keys := make([]bucketKey, 4*maxKeys)
	for i := range keys {
		keys[i] = bucketKey{kind: userBucket, issuer: "https://tenant.example.com/", subject: "auth0|" + strconv.Itoa(1e17+i)}
	}
	b.Run("table=below-capacity", func(b *testing.B) {
		// Tables holding between half and nine tenths of their bound, so
		// that every key is new, the table never reaches its bound, and its
		// size is close to that of the full one.
		var l *memoryLimiter
		i := 0
		for b.Loop() {
			if l == nil || len(l.buckets) >= maxKeys*9/10 {
				b.StopTimer()
				l = newMemoryLimiter(maxKeys)
				for _, k := range keys[len(keys)-maxKeys/2:] {
					l.allow(k, slow, l.start)
				}
				i = 0
				b.StartTimer()
			}
			l.allow(keys[i], slow, l.start)
			i++
		}
	})
	b.Run("table=at-capacity", func(b *testing.B) {
		l := newMemoryLimiter(maxKeys)
		for _, k := range keys[:maxKeys] {
			l.allow(k, slow, l.start)
		}
		i := maxKeys
		for b.Loop() {
			l.allow(keys[i%len(keys)], slow, l.start)
			i++
		}
	})
}
