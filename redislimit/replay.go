package redislimit

import (
	"context"
	"fmt"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/redis/go-redis/v9"
)

// ReplayOptions configures a [ReplayCache]. The zero value is ready to use.
type ReplayOptions struct {
	// Timeout bounds each call to Redis. Default: 100 milliseconds.
	Timeout time.Duration
	// Prefix starts the name of every proof's key. Default: "myaccount:dpop:".
	Prefix string
}

// ReplayCache is a [myaccount.ReplayCache] on Redis, so that a DPoP proof
// accepted by one instance of the API is refused by every other:
//
//	api, err := myaccount.New(myaccount.Config{
//		Domain: "tenant.auth0.com",
//		Token: myaccount.TokenConfig{DPoP: myaccount.DPoPConfig{
//			ReplayCache: redislimit.NewReplayCache(rdb, redislimit.ReplayOptions{}),
//		}},
//	})
//
// Each proof is one SET NX with an expiry, so Redis drops it when the proof
// could no longer be accepted anyway. Unlike the rate limiter it fails closed:
// when Redis fails or is slow, Seen returns an error wrapping
// [myaccount.ErrUnavailable] and the request gets 503, since accepting proofs
// unchecked would let a captured one be replayed. It does not own the client.
//
// A key is never dropped before its expiry as long as Redis does not evict
// keys: run it with maxmemory-policy noeviction (the default), since any
// other policy may drop a proof that could still be replayed. A Redis at its
// maxmemory then refuses the write, and Seen answers an error wrapping
// [myaccount.ErrUnavailable] with a RetryAfter: the proof is refused with 503
// and Retry-After, and no recorded proof is forgotten.
type ReplayCache struct {
	client redis.UniversalClient
	opts   ReplayOptions
}

var _ myaccount.ReplayCache = (*ReplayCache)(nil)

// NewReplayCache returns a replay cache keeping proof ids in client's Redis.
func NewReplayCache(client redis.UniversalClient, opts ReplayOptions) *ReplayCache {
	if opts.Timeout <= 0 {
		opts.Timeout = 100 * time.Millisecond
	}
	if opts.Prefix == "" {
		opts.Prefix = "myaccount:dpop:"
	}
	return &ReplayCache{client: client, opts: opts}
}

// Seen implements [myaccount.ReplayCache]: it records id until expires (at
// least a millisecond from now) and reports whether it was there already.
// Redis's SET NX makes exactly one of concurrent callers, on any instance,
// the first.
func (c *ReplayCache) Seen(ctx context.Context, id string, expires time.Time) (bool, error) {
	ttl := max(time.Until(expires), time.Millisecond) // 0 would mean no expiry
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	type result struct {
		set bool
		err error
	}
	// As in Limiter.allow: a client without ContextTimeoutEnabled does not cut
	// a command short at the deadline, so the caller does not wait for it.
	done := make(chan result, 1)
	go func() {
		set, err := c.client.SetNX(ctx, c.opts.Prefix+id, 1, ttl).Result()
		done <- result{set, err}
	}()
	select {
	case r := <-done:
		if r.err != nil && redis.IsOOMError(r.err) {
			// Redis is at its maxmemory: room comes back as proofs expire,
			// at the latest when this one would have.
			return false, &cacheFullError{retryAfter: ttl, err: r.err}
		}
		if r.err != nil {
			return false, fmt.Errorf("redislimit: %w: %w", myaccount.ErrUnavailable, r.err)
		}
		return !r.set, nil
	case <-ctx.Done():
		return false, fmt.Errorf("redislimit: %w: %w", myaccount.ErrUnavailable, ctx.Err())
	}
}

// cacheFullError is Seen's answer when Redis is at its maxmemory: the API
// refuses the proof with 503 and Retry-After rather than have Redis forget
// one.
type cacheFullError struct {
	retryAfter time.Duration
	err        error
}

func (e *cacheFullError) Error() string { return "redislimit: replay cache full: " + e.err.Error() }

// RetryAfter is when Redis may have room again: at the latest when this
// proof would have expired.
func (e *cacheFullError) RetryAfter() time.Duration { return e.retryAfter }

// Unwrap gives [myaccount.ErrUnavailable] and Redis's error.
func (e *cacheFullError) Unwrap() []error { return []error{myaccount.ErrUnavailable, e.err} }
