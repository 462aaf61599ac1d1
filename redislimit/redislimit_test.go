package redislimit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/go-myaccount/myaccount/redislimit"
	"github.com/redis/go-redis/v9"
)

// prefix keeps one test's buckets apart from every other's.
func prefix() string { return "redislimit-test:" + rand.Text()[:10] + ":" }

func TestRedisLimit(t *testing.T) {
	for _, tt := range []struct {
		rate        float64
		events      int
		period      time.Duration
		approximate bool
	}{
		{rate: 25, events: 25, period: time.Second},
		{rate: 1, events: 1, period: time.Second},
		{rate: 0.5, events: 1, period: 2 * time.Second},
		{rate: 2.5, events: 5, period: 2 * time.Second},
		{rate: 1.0 / 60, events: 1, period: time.Minute},
		{rate: 0.1, events: 1, period: 10 * time.Second},
		{rate: 1e6, events: 1e6, period: time.Second},
		{rate: math.Pi, events: 1, period: 318309886, approximate: true},
	} {
		got := redislimit.RedisLimit(myaccount.Limit{Rate: tt.rate, Burst: 7})
		if got.Rate != tt.events || got.Period != tt.period || got.Burst != 7 {
			t.Errorf("rate %v: got %d per %v burst %d, want %d per %v burst 7", tt.rate, got.Rate, got.Period, got.Burst, tt.events, tt.period)
		}
		// The time one token takes is 1/rate.
		interval := got.Period.Seconds() / float64(got.Rate)
		tolerance := 1e-12
		if tt.approximate {
			tolerance = 1e-9
		}
		if math.Abs(interval*tt.rate-1) > tolerance {
			t.Errorf("rate %v: interval %v s, want %v s", tt.rate, interval, 1/tt.rate)
		}
	}
}

func near(got, want, tolerance time.Duration) bool {
	return got >= want-tolerance && got <= want+tolerance
}

func TestDecisions(t *testing.T) {
	l := redislimit.New(testClient(t), redislimit.Options{Prefix: prefix()})
	ctx := t.Context()
	limit := myaccount.Limit{Rate: 1, Burst: 5}
	for i := range 5 {
		start := time.Now()
		d, err := l.Allow(ctx, "bucket", limit)
		if err != nil {
			t.Fatalf("Allow %d: %v", i, err)
		}
		if !d.Allowed || d.Limit != 5 || d.Remaining != 4-i || d.RetryAfter != 0 {
			t.Fatalf("Allow %d = %+v, want allowed, limit 5, remaining %d", i, d, 4-i)
		}
		// The bucket is full again after one second per token taken.
		if want := start.Add(time.Duration(i+1) * time.Second); !near(d.Reset.Sub(want), 0, 100*time.Millisecond) {
			t.Fatalf("Allow %d: Reset in %v, want about %v", i, time.Until(d.Reset), time.Until(want))
		}
	}
	d, err := l.Allow(ctx, "bucket", limit)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || d.Remaining != 0 || d.Limit != 5 || !near(d.RetryAfter, time.Second, 100*time.Millisecond) {
		t.Fatalf("sixth Allow = %+v, want refused, remaining 0, retry after about 1s", d)
	}
	// Another bucket is untouched.
	if d, err := l.Allow(ctx, "other", limit); err != nil || !d.Allowed || d.Remaining != 4 {
		t.Fatalf("Allow of another bucket = %+v, %v", d, err)
	}
}

// TestMatchesMemoryLimiter runs the same calls through both limiters: they
// decide the same and report the same numbers, up to the time between calls.
func TestMatchesMemoryLimiter(t *testing.T) {
	client := testClient(t)
	for _, limit := range []myaccount.Limit{{Rate: 25, Burst: 25}, {Rate: 0.5, Burst: 2}, {Rate: 1, Burst: 10}, {Rate: 50, Burst: 3}} {
		r := redislimit.New(client, redislimit.Options{Prefix: prefix()})
		m := myaccount.NewMemoryLimiter(0)
		ctx := t.Context()
		step := func(what string) {
			t.Helper()
			start := time.Now()
			dm, err := m.Allow(ctx, "k", limit)
			if err != nil {
				t.Fatal(err)
			}
			dr, err := r.Allow(ctx, "k", limit)
			if err != nil {
				t.Fatal(err)
			}
			// The times may differ by as much as the calls were apart, and a little;
			// on a busy machine Redis, asked second, may have seen a token more
			// arrive for every interval that passed between the two calls.
			elapsed := time.Since(start)
			tolerance := 20*time.Millisecond + elapsed
			refilled := int(elapsed.Seconds() * limit.Rate)
			sameDecision := dr.Allowed == dm.Allowed || (refilled > 0 && dr.Allowed)
			if !sameDecision || dr.Limit != dm.Limit || dr.Remaining < dm.Remaining || dr.Remaining > dm.Remaining+refilled ||
				!near(dr.Reset.Sub(dm.Reset), 0, tolerance) || !near(dr.RetryAfter, dm.RetryAfter, tolerance) {
				t.Fatalf("limit %+v, %s: Redis %+v, memory %+v", limit, what, dr, dm)
			}
		}
		for i := range limit.Burst + 2 {
			step("call " + string(rune('0'+i)))
		}
		// Wait for 1.1 tokens: one request passes, the next does not. The next
		// token is then 0.9 of an interval away, so the two limiters, called one
		// after the other, cannot fall on either side of its arrival.
		interval := time.Duration(float64(time.Second) / limit.Rate)
		if interval < 40*time.Millisecond || interval > 100*time.Millisecond {
			continue // too quick to compare reliably, or too slow to wait for; the calls above were compared
		}
		time.Sleep(interval * 11 / 10)
		step("after refill")
		step("after refill, again")
	}
}

func TestFractionalRate(t *testing.T) {
	l := redislimit.New(testClient(t), redislimit.Options{Prefix: prefix()})
	limit := myaccount.Limit{Rate: 0.5, Burst: 1}
	if d, err := l.Allow(t.Context(), "k", limit); err != nil || !d.Allowed || d.Remaining != 0 {
		t.Fatalf("first Allow = %+v, %v", d, err)
	}
	d, err := l.Allow(t.Context(), "k", limit)
	if err != nil || d.Allowed || !near(d.RetryAfter, 2*time.Second, 100*time.Millisecond) {
		t.Fatalf("second Allow = %+v, %v; want refused, retry after about 2s", d, err)
	}
}

// TestSharedBuckets: two limiters on two clients of one Redis take from one bucket.
func TestSharedBuckets(t *testing.T) {
	p := prefix()
	a := redislimit.New(testClient(t), redislimit.Options{Prefix: p})
	b := redislimit.New(testClient(t), redislimit.Options{Prefix: p})
	limit := myaccount.Limit{Rate: 1, Burst: 10}
	allowed := 0
	for i := range 30 {
		l := a
		if i%2 == 1 {
			l = b
		}
		d, err := l.Allow(t.Context(), "tenant", limit)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			allowed++
		}
	}
	if allowed != 10 {
		t.Fatalf("two limiters allowed %d of 30 from one bucket of 10, want 10", allowed)
	}
}

func TestConcurrent(t *testing.T) {
	l := redislimit.New(testClient(t), redislimit.Options{Prefix: prefix(), Timeout: 5 * time.Second})
	limit := myaccount.Limit{Rate: 0.1, Burst: 20}
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			d, err := l.Allow(t.Context(), "k", limit)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 20 {
		t.Fatalf("50 concurrent calls on a bucket of 20: %d allowed", allowed)
	}
}

func TestDefaultPrefix(t *testing.T) {
	client := testClient(t)
	l := redislimit.New(client, redislimit.Options{})
	key := "test-default-prefix-" + rand.Text()[:10]
	if _, err := l.Allow(t.Context(), key, myaccount.Limit{Rate: 1, Burst: 2}); err != nil {
		t.Fatal(err)
	}
	n, err := client.Exists(t.Context(), "rate:myaccount:rl:"+key).Result()
	if err != nil || n != 1 {
		t.Fatalf("key rate:myaccount:rl:%s exists = %d, %v", key, n, err)
	}
	ttl, err := client.TTL(t.Context(), "rate:myaccount:rl:"+key).Result()
	if err != nil || ttl <= 0 || ttl > 2*time.Second {
		t.Fatalf("TTL = %v, %v; want the time the bucket takes to refill", ttl, err)
	}
}

func TestRedisDown(t *testing.T) {
	const timeout = 100 * time.Millisecond
	limit := myaccount.Limit{Rate: 25, Burst: 25}
	for _, server := range []struct {
		name   string
		client func(*testing.T) *redis.Client
	}{{"refused", deadClient}, {"silent", silentClient}} {
		t.Run(server.name+"/fail open", func(t *testing.T) {
			var logs testenv.Buffer
			l := redislimit.New(server.client(t), redislimit.Options{
				Timeout: timeout, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			for i := range 5 {
				start := time.Now()
				d, err := l.Allow(t.Context(), "k", limit)
				if took := time.Since(start); took > timeout+200*time.Millisecond {
					t.Fatalf("Allow %d took %v with a timeout of %v", i, took, timeout)
				}
				if err != nil || !d.Allowed || d.Limit != 25 {
					t.Fatalf("Allow %d = %+v, %v; want allowed", i, d, err)
				}
			}
			if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
				t.Fatalf("5 failures logged %d warnings, want 1:\n%s", n, logs.String())
			}
		})
		t.Run(server.name+"/fail closed", func(t *testing.T) {
			l := redislimit.New(server.client(t), redislimit.Options{Timeout: timeout, FailClosed: true})
			start := time.Now()
			_, err := l.Allow(t.Context(), "k", limit)
			if took := time.Since(start); took > timeout+200*time.Millisecond {
				t.Fatalf("Allow took %v with a timeout of %v", took, timeout)
			}
			if !errors.Is(err, myaccount.ErrUnavailable) {
				t.Fatalf("Allow: %v, want an error wrapping ErrUnavailable", err)
			}
		})
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, failClosed := range []bool{false, true} {
		l := redislimit.New(silentClient(t), redislimit.Options{FailClosed: failClosed})
		if _, err := l.Allow(ctx, "k", myaccount.Limit{Rate: 1, Burst: 1}); !errors.Is(err, context.Canceled) {
			t.Fatalf("FailClosed %v: Allow with a cancelled context: %v", failClosed, err)
		}
	}
}

// deadClient is a client of a loopback port where nothing listens.
func deadClient(t *testing.T) *redis.Client { return clientOf(t, testenv.DeadAddress(t)) }

// silentClient is a client of a server that accepts connections and never answers.
func silentClient(t *testing.T) *redis.Client { return clientOf(t, testenv.SilentAddress(t)) }

func clientOf(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
