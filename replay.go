package myaccount

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// ReplayCache remembers the DPoP proofs a validator accepted, so that a proof
// is accepted once (RFC 9449 section 11.1). Every instance of an API must share
// one: the redislimit module has one on Redis.
type ReplayCache interface {
	// Seen records id until expires and reports whether it was already
	// recorded and had not expired. Of concurrent callers with one id, exactly
	// one gets false. An id is at most 64 bytes. A cache never forgets an id
	// before its expiry, whatever else it is asked to record: when it has no
	// room, it returns an error wrapping [ErrUnavailable] instead of
	// recording, and one with a method RetryAfter() time.Duration (when the
	// cache expects room again) has the proof refused with 503 and that
	// Retry-After. Any other error means the cache could not answer; the
	// proof is then refused with 503 (wrap [ErrUnavailable]).
	Seen(ctx context.Context, id string, expires time.Time) (bool, error)
}

// cacheFullError is the memory cache's answer when it has no room for a new
// proof: forgetting a recorded one would let it be replayed, so the new one is
// refused instead, with 503 and Retry-After.
type cacheFullError struct{ retryAfter time.Duration }

func (e *cacheFullError) Error() string {
	return "myaccount: the DPoP replay cache is full for " + e.retryAfter.Round(time.Second).String()
}

// RetryAfter is when the cache expects room again.
func (e *cacheFullError) RetryAfter() time.Duration { return e.retryAfter }

// Unwrap gives [ErrUnavailable]: a full cache is a backend unavailable for now.
func (e *cacheFullError) Unwrap() error { return ErrUnavailable }

// defaultReplayCacheSize is NewMemoryReplayCache's default. An API records a
// proof only once its request has passed the rate limits, so the default
// tenant limit (25 requests per second, burst 25, for all of an issuer's
// users) bounds the proofs recorded. A proof's entry is kept until its
// generation is dropped: an entry expires at most 2 × ProofWindow after it is
// recorded (its iat may be a window ahead), a generation is dropped once all
// of its entries have expired, and one takes in entries for at most that long
// again, so no entry is held more than 4 × ProofWindow = 240 s with the
// default 60 s window. The default limits can therefore fill at most
// 25 × 240 + 25 = 6,025 entries, and 100,000 (about 4 MB) leaves room for a
// tenant limit of about 400 requests per second before a deployment must size
// the cache itself.
const defaultReplayCacheSize = 100_000

// memoryReplayCache is the default [ReplayCache]: one process's memory,
// bounded. Entries live in two generations: when every entry of the older one
// has expired, it is dropped whole and the newer takes its place, so an entry
// is kept until it expires at a map operation per proof. No entry is dropped
// before it expires: at its capacity the cache refuses new proofs with a
// full error (503 with Retry-After) until the older generation has expired.
type memoryReplayCache struct {
	mu       sync.Mutex
	max      int
	cur, old map[replayKey]int64 // id → expiry, UnixNano
	curLast  int64               // the latest expiry in cur
	oldLast  int64               // the latest expiry in old
	now      func() time.Time
}

var _ ReplayCache = (*memoryReplayCache)(nil)

// NewMemoryReplayCache returns the in-process [ReplayCache], the default, of
// at most max ids; max <= 0 means 100,000 (about 4 MB), which the default rate
// limits cannot fill. A deployment of several instances shares one instead
// (redislimit.NewReplayCache).
func NewMemoryReplayCache(max int) ReplayCache { return newMemoryReplayCache(max) }

func newMemoryReplayCache(max int) *memoryReplayCache {
	if max <= 0 {
		max = defaultReplayCacheSize
	}
	return &memoryReplayCache{max: max, cur: make(map[replayKey]int64), old: make(map[replayKey]int64), now: time.Now}
}

// replayKey is what the memory cache keeps of an id: 16 bytes of its SHA-256.
// A map of arrays holds no pointers, so the garbage collector never scans it,
// and an entry costs no allocation of its own.
type replayKey [16]byte

// Seen implements [ReplayCache]. Its only error is that of a full cache, with a RetryAfter.
func (c *memoryReplayCache) Seen(_ context.Context, id string, expires time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(id))
	key := replayKey(sum[:16])
	now, exp := c.now().UnixNano(), expires.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now > c.oldLast { // everything in old has expired
		c.rotate()
	}
	if e, ok := c.cur[key]; ok && e >= now {
		return true, nil
	}
	if e, ok := c.old[key]; ok && e >= now {
		return true, nil
	}
	if len(c.cur)+len(c.old) >= c.max {
		if len(c.old) == 0 {
			c.rotate() // cur alone is full: it becomes old, to be dropped once it has expired
		}
		return false, &cacheFullError{retryAfter: time.Duration(c.oldLast - now)}
	}
	c.cur[key] = exp
	c.curLast = max(c.curLast, exp)
	return false, nil
}

// rotate drops old, every entry of which has expired (or there is none), and
// makes cur the older generation. The caller holds c.mu.
func (c *memoryReplayCache) rotate() {
	clear(c.old)
	c.old, c.cur = c.cur, c.old
	c.oldLast, c.curLast = c.curLast, 0
}

// Len returns how many ids the cache holds, expired ones included until their
// generation is dropped.
func (c *memoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
