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
	// one gets false. An id is at most 64 bytes. An error means the cache could
	// not answer; the proof is then refused with 503 (wrap
	// [ErrUnavailable]).
	Seen(ctx context.Context, id string, expires time.Time) (bool, error)
}

// memoryReplayCache is the default [ReplayCache]: one process's memory,
// bounded. Entries live in two generations: when every entry of the older one
// has expired, it is dropped whole and the newer takes its place, so an entry
// is kept until it expires at a map operation per proof. Past its capacity it
// drops the oldest entries first, which a deployment should size it to avoid
// (proofs per second times twice the proof window).
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
// at most max ids; max <= 0 means 100,000 (about 4 MB). Set it to size the
// cache; a deployment of several instances shares one instead
// (redislimit.NewReplayCache).
func NewMemoryReplayCache(max int) ReplayCache { return newMemoryReplayCache(max) }

func newMemoryReplayCache(max int) *memoryReplayCache {
	if max <= 0 {
		max = 100_000
	}
	return &memoryReplayCache{max: max, cur: make(map[replayKey]int64), old: make(map[replayKey]int64), now: time.Now}
}

// replayKey is what the memory cache keeps of an id: 16 bytes of its SHA-256.
// A map of arrays holds no pointers, so the garbage collector never scans it,
// and an entry costs no allocation of its own.
type replayKey [16]byte

// Seen implements [ReplayCache]. It never fails.
func (c *memoryReplayCache) Seen(_ context.Context, id string, expires time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(id))
	key := replayKey(sum[:16])
	now, exp := c.now().UnixNano(), expires.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now > c.oldLast { // everything in old has expired
		clear(c.old)
		c.old, c.cur = c.cur, c.old
		c.oldLast, c.curLast = c.curLast, 0
	}
	if e, ok := c.cur[key]; ok && e >= now {
		return true, nil
	}
	if e, ok := c.old[key]; ok && e >= now {
		return true, nil
	}
	for k := range c.old {
		if len(c.cur)+len(c.old) < c.max {
			break
		}
		delete(c.old, k)
	}
	for k := range c.cur {
		if len(c.cur)+len(c.old) < c.max {
			break
		}
		delete(c.cur, k)
	}
	c.cur[key] = exp
	c.curLast = max(c.curLast, exp)
	return false, nil
}

// Len returns how many ids the cache holds, expired ones included until their
// generation is dropped.
func (c *memoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
