package myaccount

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit configures one token bucket. The zero value means the default for that
// bucket; Disabled turns the bucket off.
type RateLimit struct {
	// Rate is the sustained rate in requests per second.
	Rate float64
	// Burst is the bucket size: how many requests may arrive at once.
	Burst int
	// Disabled turns this bucket off.
	Disabled bool
}

// Limit is a token bucket's shape as a [Limiter] sees it.
type Limit struct {
	Rate  float64 // tokens per second, > 0
	Burst int     // bucket size, > 0
}

// Decision is a [Limiter]'s answer for one request.
type Decision struct {
	Allowed   bool
	Limit     int       // the bucket size
	Remaining int       // whole tokens left after this request
	Reset     time.Time // when the bucket will be full again
	// RetryAfter is how long until one token is available, when not Allowed.
	RetryAfter time.Duration
}

// Limiter takes tokens from named buckets. The in-memory [MemoryLimiter] is the
// default; a shared backend lets several instances enforce one limit.
type Limiter interface {
	// Allow takes one token from the bucket named key, creating it full with limit
	// on first use. A failing backend returns an error (wrap [ErrUnavailable]) or,
	// by its own policy, an allowing Decision.
	Allow(ctx context.Context, key string, limit Limit) (Decision, error)
}

// MemoryLimiter is an in-process [Limiter] on golang.org/x/time/rate. Its table of
// buckets is bounded: a bucket idle long enough to have refilled is dropped (a new
// full bucket behaves the same), and when the table is still full arbitrary
// buckets go, which at worst grants their owners a fresh bucket.
type MemoryLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	maxKeys int
	sweepAt int
}

type bucket struct {
	limiter  *rate.Limiter
	lastSeen time.Time
	refill   time.Duration // time an empty bucket takes to fill
}

// NewMemoryLimiter returns a [MemoryLimiter] tracking at most maxKeys buckets
// (0 means 100,000).
func NewMemoryLimiter(maxKeys int) *MemoryLimiter {
	if maxKeys <= 0 {
		maxKeys = 100_000
	}
	return &MemoryLimiter{buckets: make(map[string]*bucket), maxKeys: maxKeys, sweepAt: min(1024, maxKeys)}
}

// Allow implements [Limiter].
func (l *MemoryLimiter) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	now := time.Now()
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.sweepAt {
			l.sweep(now)
		}
		b = &bucket{
			limiter: rate.NewLimiter(rate.Limit(limit.Rate), limit.Burst),
			refill:  time.Duration(float64(limit.Burst) / limit.Rate * float64(time.Second)),
		}
		l.buckets[key] = b
	}
	b.lastSeen = now
	l.mu.Unlock()

	r := b.limiter.ReserveN(now, 1)
	d := Decision{Limit: limit.Burst}
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		d.RetryAfter = delay
	} else {
		d.Allowed = true
	}
	tokens := b.limiter.TokensAt(now)
	d.Remaining = max(0, int(math.Floor(tokens)))
	d.Reset = now.Add(time.Duration((float64(limit.Burst) - tokens) / limit.Rate * float64(time.Second)))
	return d, nil
}

// sweep drops idle buckets, then arbitrary ones while the table is over its bound.
// The caller holds l.mu. Doubling sweepAt keeps the cost amortised per insert.
func (l *MemoryLimiter) sweep(now time.Time) {
	for key, b := range l.buckets {
		if now.Sub(b.lastSeen) >= b.refill {
			delete(l.buckets, key)
		}
	}
	for key := range l.buckets {
		if len(l.buckets) < l.maxKeys {
			break
		}
		delete(l.buckets, key)
	}
	l.sweepAt = min(l.maxKeys, max(1024, 2*len(l.buckets)))
}

// Len reports how many buckets the limiter tracks.
func (l *MemoryLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// rateLimiter applies the per-user and per-tenant buckets of the API.
type rateLimiter struct {
	limiter Limiter
	tenant  *Limit // nil when off
	user    *Limit // nil when off
}

// check takes a token from the user's bucket and then the tenant's. It sets the
// rate-limit headers on w for the tighter bucket and returns an error for a 429.
func (rl *rateLimiter) check(ctx context.Context, h http.Header, issuer, subject string) error {
	var shown Decision
	have := false
	if rl.user != nil {
		d, err := rl.limiter.Allow(ctx, "user\x00"+issuer+"\x00"+subject, *rl.user)
		if err != nil {
			return err
		}
		if !d.Allowed {
			return rateLimitedError(d, false)
		}
		shown, have = d, true
	}
	if rl.tenant != nil {
		d, err := rl.limiter.Allow(ctx, "tenant\x00"+issuer, *rl.tenant)
		if err != nil {
			return err
		}
		if !d.Allowed {
			return rateLimitedError(d, true)
		}
		if !have || d.Remaining < shown.Remaining {
			shown, have = d, true
		}
	}
	if have {
		setRateLimitHeaders(h, shown)
	}
	return nil
}

func setRateLimitHeaders(h http.Header, d Decision) {
	h.Set("X-Ratelimit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(ceilUnix(d.Reset), 10))
}

func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

func rateLimitedError(d Decision, tenantWide bool) *Error {
	e := newError(http.StatusTooManyRequests, "A0E-429-0001", "Too many requests. Try again later.", ErrRateLimited)
	e.Header = http.Header{}
	setRateLimitHeaders(e.Header, d)
	e.Header.Set("Retry-After", strconv.FormatInt(max(1, int64(math.Ceil(d.RetryAfter.Seconds()))), 10))
	if tenantWide {
		e.Header.Set("X-Auth0-Error-Kind", "global-rate-limit")
	}
	return e
}
