package myaccount

import (
	"net/http"
	"sync"
	"time"
)

// overflowAddress is the ClientIP of an [AuditTokenRefused] event that counts
// refusals from addresses beyond the table's bound.
const overflowAddress = "*"

// maxRefusingAddresses bounds the client addresses whose refused tokens are
// counted apart (about 100 bytes each). Past it, idle addresses are reported
// and dropped; when none is idle, the refusals of new addresses are counted
// together under overflowAddress, so none goes uncounted.
const maxRefusingAddresses = 10_000

// refusedTokens counts refused tokens per client address, so that an address
// gets at most one [AuditTokenRefused] event per interval, carrying the count
// of refusals since its previous one, instead of a log line per request.
type refusedTokens struct {
	interval time.Duration
	mu       sync.Mutex
	byAddr   map[string]*refusalCount
	// sweepAt is when the earliest-reported address becomes idle: no sweep
	// before then can drop anything.
	sweepAt time.Time
}

type refusalCount struct {
	reported   time.Time // the last event's time
	unreported int       // refusals since
}

// addressCount is a count to report for an address.
type addressCount struct {
	addr  string
	count int
}

// note counts one refusal from addr at now. due is the count to report for
// addr now (0: counted, to be reported later); idle are the counts of idle
// addresses swept out (an interval without a refusal), to report now too.
func (t *refusedTokens) note(addr string, now time.Time) (due addressCount, idle []addressCount) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// Idle addresses are swept whenever a sweep is due, not only when the
	// table is full, so that a burst that stops is reported with the next
	// refusal from anywhere.
	idle = t.sweep(now, addr)
	c := t.byAddr[addr]
	if c == nil && len(t.byAddr) >= maxRefusingAddresses {
		addr = overflowAddress
		c = t.byAddr[addr]
	}
	if c == nil {
		c = new(refusalCount)
		t.byAddr[addr] = c
	}
	c.unreported++
	if now.Sub(c.reported) >= t.interval {
		due = addressCount{addr, c.unreported}
		c.reported, c.unreported = now, 0
	}
	return due, idle
}

// sweep drops the addresses whose last event is an interval old, but for
// except (the address being counted, whose own event is due), returning
// their unreported counts. The caller holds t.mu.
func (t *refusedTokens) sweep(now time.Time, except string) []addressCount {
	if now.Before(t.sweepAt) {
		return nil
	}
	var idle []addressCount
	earliest := now
	for addr, c := range t.byAddr {
		if addr == except || now.Sub(c.reported) < t.interval {
			if c.reported.Before(earliest) {
				earliest = c.reported
			}
			continue
		}
		if c.unreported > 0 {
			idle = append(idle, addressCount{addr, c.unreported})
		}
		delete(t.byAddr, addr)
	}
	t.sweepAt = earliest.Add(t.interval)
	return idle
}

// auditRefusedToken counts a refused token and emits the events that are due.
func (a *API) auditRefusedToken(r *http.Request, err error) {
	now := time.Now()
	due, idle := a.refused.note(a.clientIP(r), now)
	for _, c := range idle {
		a.cfg.Audit.Handler(r.Context(), AuditEvent{
			Type: AuditTokenRefused, Time: now.UTC(), ClientIP: c.addr, Count: c.count,
			Reason: "refused tokens not reported before",
		})
	}
	if due.count > 0 {
		a.audit(r, AuditEvent{Type: AuditTokenRefused, Reason: auditReason(err), ClientIP: due.addr, Count: due.count})
	}
}
