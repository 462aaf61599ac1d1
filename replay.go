package myaccount

import (
	"context"
	"sync"
	"time"
)

// ReplayCache remembers the DPoP proofs a validator accepted, so that a proof
// is accepted once (RFC 9449 section 11.1). Every instance of an API must share
// one: the redislimit module has one on Redis.
type ReplayCache interface {
	// Seen records id until expires and reports whether it was already
	// recorded and had not expired. Of concurrent callers with one id, exactly
	// one gets false. An id is at most 64 bytes. An error means the cache could
	// not answer; the proof is then refused with 503 (wrap
	// [ErrUnavailable]).
	Seen(ctx context.Context, id string, expires time.Time) (bool, error)
}

// MemoryReplayCache is the default [ReplayCache]: one process's memory,
// bounded. Entries live in two generations: when every entry of the older one
// has expired, it is dropped whole and the newer takes its place, so an entry
// is kept until it expires at a map operation per proof. Past its capacity it
// drops the oldest entries first, which a deployment should size it to avoid
// (proofs per second times twice the proof window).
type MemoryReplayCache struct {
	mu       sync.Mutex
	max      int
	cur, old map[string]int64 // id → expiry, UnixNano
	curLast  int64            // the latest expiry in cur
	oldLast  int64            // the latest expiry in old
	now      func() time.Time
}

var _ ReplayCache = (*MemoryReplayCache)(nil)

// NewMemoryReplayCache returns a cache of at most max ids; max <= 0 means
// 100,000 (about 6 MB).
func NewMemoryReplayCache(max int) *MemoryReplayCache {
	if max <= 0 {
		max = 100_000
	}
	return &MemoryReplayCache{max: max, cur: make(map[string]int64), old: make(map[string]int64), now: time.Now}
}

// Seen implements [ReplayCache]. It never fails.
func (c *MemoryReplayCache) Seen(_ context.Context, id string, expires time.Time) (bool, error) {
	now, exp := c.now().UnixNano(), expires.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now > c.oldLast { // everything in old has expired
		clear(c.old)
		c.old, c.cur = c.cur, c.old
		c.oldLast, c.curLast = c.curLast, 0
	}
	if e, ok := c.cur[id]; ok && e >= now {
		return true, nil
	}
	if e, ok := c.old[id]; ok && e >= now {
		return true, nil
	}
	for id := range c.old {
		if len(c.cur)+len(c.old) < c.max {
			break
		}
		delete(c.old, id)
	}
	for id := range c.cur {
		if len(c.cur)+len(c.old) < c.max {
			break
		}
		delete(c.cur, id)
	}
	c.cur[id] = exp
	c.curLast = max(c.curLast, exp)
	return false, nil
}

// Len returns how many ids the cache holds, expired ones included until their
// generation is dropped.
func (c *MemoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
