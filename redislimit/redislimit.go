// Package redislimit is a [myaccount.Limiter] on Redis, so that every instance of
// the My Account API takes tokens from the same buckets.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	api, err := myaccount.New(myaccount.Config{
//		Domain:     "tenant.auth0.com",
//		RateLimits: myaccount.RateLimitConfig{Limiter: redislimit.New(rdb, redislimit.Options{})},
//	})
//
// Buckets are GCRA token buckets run by a Lua script (github.com/go-redis/redis_rate),
// with the same decisions as [myaccount.NewMemoryLimiter]'s. Every call is bounded by
// [Options.Timeout]. When Redis fails or is too slow, the limiter fails open by
// default: the request is allowed and a warning is logged, at most once per 10
// seconds. With [Options.FailClosed] it returns an error wrapping
// [myaccount.ErrUnavailable] instead, which the API answers with 503.
package redislimit

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Options configures a [Limiter]. The zero value is ready to use.
type Options struct {
	// Timeout bounds each call to Redis. Default: 100 milliseconds.
	Timeout time.Duration
	// FailClosed refuses requests when Redis fails: Allow returns an error
	// wrapping [myaccount.ErrUnavailable]. Default: false, which allows them.
	FailClosed bool
	// Logger receives the warning when Redis fails and the limiter fails open.
	// Default: slog.Default().
	Logger *slog.Logger
	// Prefix starts the name of every bucket's key. Redis keys are "rate:"
	// (redis_rate's own prefix), then Prefix, then the bucket name.
	// Default: "myaccount:rl:".
	Prefix string
}

// Limiter is a [myaccount.Limiter] on Redis. It is safe for concurrent use. It
// does not own the client: close the client when done.
//
// Give the client redis.Options.ContextTimeoutEnabled: without it, go-redis
// lets a command to an unresponsive server run to its ReadTimeout (3 seconds by
// default) whatever the context says. Allow still returns within
// [Options.Timeout], but the command, and its goroutine and connection, linger
// until then.
type Limiter struct {
	rl   *redis_rate.Limiter
	opts Options

	lastWarn   atomic.Int64 // UnixNano of the last failure logged
	suppressed atomic.Int64 // failures not logged since then
}

var _ myaccount.Limiter = (*Limiter)(nil)

// warnEvery is the least time between two warnings of a failing Redis.
const warnEvery = 10 * time.Second

// New returns a limiter keeping its buckets in client's Redis.
func New(client redis.UniversalClient, opts Options) *Limiter {
	if opts.Timeout <= 0 {
		opts.Timeout = 100 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Prefix == "" {
		opts.Prefix = "myaccount:rl:"
	}
	return &Limiter{rl: redis_rate.NewLimiter(client), opts: opts}
}

// Allow implements [myaccount.Limiter]: it takes one token from the bucket named
// key, creating it full on first use. A refused request takes no token. The
// bucket's key expires once the bucket is full again.
//
// When ctx is done, Allow returns an error wrapping ctx.Err(). When Redis fails or
// does not answer within [Options.Timeout], Allow allows the request, or with
// [Options.FailClosed] returns an error wrapping [myaccount.ErrUnavailable].
func (l *Limiter) Allow(ctx context.Context, key string, limit myaccount.Limit) (myaccount.Decision, error) {
	if err := ctx.Err(); err != nil {
		return myaccount.Decision{}, fmt.Errorf("redislimit: %w", err)
	}
	if limit.Rate <= 0 || limit.Burst <= 0 {
		return myaccount.Decision{}, fmt.Errorf("redislimit: rate %v and burst %d must be positive", limit.Rate, limit.Burst)
	}
	now := time.Now()
	res, err := l.allow(ctx, l.opts.Prefix+key, redisLimit(limit))
	if err != nil {
		if ctx.Err() != nil {
			return myaccount.Decision{}, fmt.Errorf("redislimit: %w: %w", ctx.Err(), err)
		}
		if l.opts.FailClosed {
			return myaccount.Decision{}, fmt.Errorf("redislimit: %w: %w", myaccount.ErrUnavailable, err)
		}
		l.warn(ctx, err)
		// Answer as a fresh bucket would.
		return myaccount.Decision{
			Allowed:   true,
			Limit:     limit.Burst,
			Remaining: limit.Burst - 1,
			Reset:     now.Add(time.Duration(float64(time.Second) / limit.Rate)),
		}, nil
	}
	resetAfter := max(0, res.ResetAfter)
	d := myaccount.Decision{
		Allowed: res.Allowed > 0,
		Limit:   limit.Burst,
		// The tokens left are the burst less those the reset is waiting for.
		// redis_rate's own Remaining can be one short from rounding; a microsecond,
		// the resolution of Redis's clock, absorbs that.
		Remaining: int(math.Floor(float64(limit.Burst) - max(0, resetAfter-time.Microsecond).Seconds()*limit.Rate)),
		Reset:     now.Add(resetAfter),
	}
	d.Remaining = min(limit.Burst, max(0, d.Remaining))
	if !d.Allowed {
		d.Remaining = 0
		d.RetryAfter = max(0, res.RetryAfter)
	}
	return d, nil
}

// allow runs the bucket's script with a deadline of Options.Timeout. A client
// that does not cut a command short at its context's deadline (go-redis does
// not, unless redis.Options.ContextTimeoutEnabled is set) is left to finish on
// its own goroutine, bounded by the client's own timeouts, and the caller gets
// context.DeadlineExceeded on time.
func (l *Limiter) allow(ctx context.Context, key string, limit redis_rate.Limit) (*redis_rate.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	type result struct {
		res *redis_rate.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := l.rl.Allow(ctx, key, limit)
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// warn logs a Redis failure unless one was logged in the last warnEvery.
func (l *Limiter) warn(ctx context.Context, err error) {
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if now-last < int64(warnEvery) || !l.lastWarn.CompareAndSwap(last, now) {
		l.suppressed.Add(1)
		return
	}
	l.opts.Logger.WarnContext(ctx, "redislimit: Redis failed; allowing requests without rate limiting",
		"err", err, "failures_not_logged", l.suppressed.Swap(0))
}

// redisLimit expresses limit.Rate tokens per second as redis_rate's Rate events
// per Period, whose quotient Period/Rate is the time one token takes: Period is
// the fewest whole seconds (up to an hour) in which a whole number of tokens
// arrive, so 25 is 25 per second and 0.5 is 1 per 2 seconds. Any other rate
// is 1 event per its interval to the nanosecond.
func redisLimit(limit myaccount.Limit) redis_rate.Limit {
	for secs := 1; secs <= 3600; secs++ {
		events := limit.Rate * float64(secs)
		if events > math.MaxInt32 {
			break
		}
		if whole := math.Round(events); whole >= 1 && math.Abs(events-whole) <= 1e-9*whole {
			return redis_rate.Limit{Rate: int(whole), Burst: limit.Burst, Period: time.Duration(secs) * time.Second}
		}
	}
	return redis_rate.Limit{Rate: 1, Burst: limit.Burst, Period: time.Duration(math.Round(float64(time.Second) / limit.Rate))}
}
