package myaccount

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// verifiedToken is a cache entry: a token whose signature verified.
type verifiedToken struct {
	claims    Claims
	token     *jwt.Token // header and claims, to ask the keyfunc again
	key       any        // the key that verified the signature
	notBefore time.Time  // the latest of nbf and iat, less the leeway
	notAfter  time.Time  // exp plus the leeway
}

// isSingleKey reports whether key is one public key that sameKey can compare,
// rather than, say, a jwt.VerificationKeySet; only those tokens are cached.
func isSingleKey(key any) bool { return sameKey(key, key) }

// sameKey reports whether a and b are the same public key: the same pointer,
// as a keyfunc returns until its key set changes, or equal values.
func sameKey(a, b any) bool {
	switch x := a.(type) {
	case *rsa.PublicKey:
		y, ok := b.(*rsa.PublicKey)
		return ok && x != nil && y != nil && (x == y || x.Equal(y))
	case *ecdsa.PublicKey:
		y, ok := b.(*ecdsa.PublicKey)
		return ok && x != nil && y != nil && (x == y || x.Equal(y))
	case ed25519.PublicKey:
		y, ok := b.(ed25519.PublicKey)
		return ok && len(x) == ed25519.PublicKeySize && x.Equal(y)
	}
	return false
}

// tokenCache holds at most max verified tokens in two generations: a hit in
// the old generation moves the entry to the new one, and when the new one is
// full it becomes the old one, dropping the entries nobody asked for since.
// Recently used tokens stay, as with an LRU, for a map operation per request.
type tokenCache struct {
	mu       sync.Mutex
	max      int
	cur, old map[[sha256.Size]byte]*verifiedToken
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, cur: make(map[[sha256.Size]byte]*verifiedToken)}
}

func (c *tokenCache) get(sum [sha256.Size]byte) *verifiedToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.cur[sum]; e != nil {
		return e
	}
	e := c.old[sum]
	if e != nil {
		delete(c.old, sum)
		c.insert(sum, e)
	}
	return e
}

func (c *tokenCache) put(sum [sha256.Size]byte, e *verifiedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.old, sum)
	c.insert(sum, e)
}

// insert adds e to the new generation, turning generations over as needed so
// that both together never hold more than max entries. The caller holds c.mu.
func (c *tokenCache) insert(sum [sha256.Size]byte, e *verifiedToken) {
	if _, ok := c.cur[sum]; !ok {
		if len(c.cur) >= (c.max+1)/2 {
			c.old, c.cur = c.cur, make(map[[sha256.Size]byte]*verifiedToken, len(c.cur))
		}
		for k := range c.old {
			if len(c.cur)+len(c.old) < c.max {
				break
			}
			delete(c.old, k)
		}
	}
	c.cur[sum] = e
}

func (c *tokenCache) remove(sum [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cur, sum)
	delete(c.old, sum)
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
