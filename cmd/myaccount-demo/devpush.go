package main

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"sync"
	"time"
)

// devPush is the demo's development [myaccount.PushProvider]. There is no
// phone app: the barcode_uri is a URL on the demo itself,
// {base}/dev/push/{handle}, and a POST to that URL stands for the phone
// scanning the QR code and accepting the pairing. The handle is random
// (rand.Text: 130 bits), so only who was shown the QR code can confirm it.
//
// Its state is bounded. A pairing not confirmed within ttl is forgotten. The
// table holds at most max pairings; when it is full, confirmed pairings older
// than ttl make room, oldest first (their enrollments are over one way or the
// other, and the demo never sends a push to them), and when nothing can go,
// BeginPairing fails, which the API answers with 503.
type devPush struct {
	base string           // the demo's URL, without a trailing slash
	ttl  time.Duration    // how long a pairing waits for the phone
	max  int              // the most pairings kept
	now  func() time.Time // the clock; tests move it

	mu       sync.Mutex
	pairings map[string]*devPairing // by handle
}

// devPairing is one pairing the provider began.
type devPairing struct {
	begun     time.Time
	confirmed bool
}

const (
	// devPushTTL outlasts the API's auth_session (5 minutes by default), so
	// a pairing confirmed in time is still known when the user verifies.
	devPushTTL = 10 * time.Minute
	// devPushMax bounds the pairings the demo remembers.
	devPushMax = 1000
)

// errDevPushFull is BeginPairing's refusal when every slot holds a live pairing.
var errDevPushFull = errors.New("the development push provider holds too many pairings; try again in a few minutes")

// newDevPush returns a provider whose barcode URIs are under base.
func newDevPush(base string) *devPush {
	return &devPush{base: base, ttl: devPushTTL, max: devPushMax, now: time.Now, pairings: make(map[string]*devPairing)}
}

// BeginPairing implements [myaccount.PushProvider].
func (p *devPush) BeginPairing(ctx context.Context, _, _, _ string) (barcodeURI, handle string, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	handle = rand.Text()
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if len(p.pairings) >= p.max && !p.makeRoom(now) {
		return "", "", errDevPushFull
	}
	p.pairings[handle] = &devPairing{begun: now}
	return p.base + "/dev/push/" + handle, handle, nil
}

// makeRoom forgets the expired unconfirmed pairings, or else the oldest
// confirmed one past ttl, and reports whether a slot is free. It runs only
// when the table is full, and scans at most max pairings.
func (p *devPush) makeRoom(now time.Time) bool {
	var oldest string
	for h, pair := range p.pairings {
		if now.Sub(pair.begun) < p.ttl {
			continue
		}
		if !pair.confirmed {
			delete(p.pairings, h)
		} else if oldest == "" || pair.begun.Before(p.pairings[oldest].begun) {
			oldest = h
		}
	}
	if len(p.pairings) < p.max {
		return true
	}
	if oldest != "" {
		delete(p.pairings, oldest)
		return true
	}
	return false
}

// live is the pairing of handle unless it expired unconfirmed; p.mu is held.
func (p *devPush) live(handle string) *devPairing {
	pair := p.pairings[handle]
	if pair != nil && !pair.confirmed && p.now().Sub(pair.begun) >= p.ttl {
		delete(p.pairings, handle)
		return nil
	}
	return pair
}

// Confirmed implements [myaccount.PushProvider].
func (p *devPush) Confirmed(ctx context.Context, handle string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pair := p.live(handle)
	return pair != nil && pair.confirmed, nil
}

// RemoveDevice implements [myaccount.PushProvider].
func (p *devPush) RemoveDevice(ctx context.Context, handle string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pairings, handle)
	return nil
}

// confirm is the phone accepting the pairing of handle; it reports whether
// the provider knows that pairing.
func (p *devPush) confirm(handle string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	pair := p.live(handle)
	if pair != nil {
		pair.confirmed = true
	}
	return pair != nil
}

// handler serves POST /dev/push/{handle}, the phone's side: 204 once the
// pairing is confirmed (again on a repeat), 404 for a pairing the provider
// does not know (never begun, expired, or removed). Like the outbox it
// answers loopback clients only.
func (p *devPush) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !fromLoopback(r) {
			http.Error(w, "the development push provider answers on loopback only", http.StatusForbidden)
			return
		}
		if !p.confirm(r.PathValue("handle")) {
			http.Error(w, "no such pairing: it expired, was removed, or was never begun", http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
