package myaccount

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"sync/atomic"
	"time"
)

// nonces makes and checks DPoP server nonces (RFC 9449 section 8) without
// state: a nonce is an HMAC of a time window's number under the configured
// key, so every instance holding the key makes and accepts the same nonces.
// A nonce of the current or the previous window is accepted: one is good for
// between one and two lifetimes.
type nonces struct {
	key      []byte
	lifetime time.Duration
	current  atomic.Pointer[windowNonce]
}

type windowNonce struct {
	window int64
	nonce  string
}

func (n *nonces) window(now time.Time) int64 { return now.UnixNano() / int64(n.lifetime) }

// nonce returns the nonce of now's window.
func (n *nonces) nonce(now time.Time) string {
	w := n.window(now)
	if c := n.current.Load(); c != nil && c.window == w {
		return c.nonce
	}
	c := &windowNonce{window: w, nonce: n.forWindow(w)}
	n.current.Store(c)
	return c.nonce
}

func (n *nonces) forWindow(w int64) string {
	mac := hmac.New(sha256.New, n.key)
	mac.Write([]byte("myaccount DPoP nonce\x00"))
	_ = binary.Write(mac, binary.BigEndian, w)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// check reports whether got is a nonce still accepted at now, and whether it
// is the current one (else the client should be handed the current one).
func (n *nonces) check(got string, now time.Time) (ok, current bool) {
	cur := n.nonce(now)
	if hmac.Equal([]byte(got), []byte(cur)) {
		return true, true
	}
	return hmac.Equal([]byte(got), []byte(n.forWindow(n.window(now)-1))), false
}
