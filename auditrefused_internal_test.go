package myaccount

import (
	"fmt"
	"testing"
	"time"
)

// TestRefusedTokenTableIsBounded: past maxRefusingAddresses, a new address
// is counted under "*" while no address is idle; once some are idle, they are
// reported with their counts and dropped, so no refusal goes uncounted.
func TestRefusedTokenTableIsBounded(t *testing.T) {
	rt := &refusedTokens{interval: time.Minute, byAddr: make(map[string]*refusalCount)}
	now := time.Now()
	for i := range maxRefusingAddresses {
		addr := fmt.Sprint("10.0.", i/256, ".", i%256)
		rt.note(addr, now)
		rt.note(addr, now) // counted, not due
	}
	due, idle := rt.note("192.0.2.1", now.Add(time.Second))
	if due.addr != overflowAddress || due.count != 1 || len(idle) != 0 {
		t.Errorf("a new address at the bound: %+v, %d idle", due, len(idle))
	}
	due, idle = rt.note("192.0.2.2", now.Add(2*time.Second))
	if due.count != 0 || len(idle) != 0 {
		t.Errorf("the overflow reported twice in an interval: %+v", due)
	}
	due, idle = rt.note("192.0.2.3", now.Add(time.Minute))
	total := 0
	for _, c := range idle {
		total += c.count
	}
	if len(idle) != maxRefusingAddresses || total != maxRefusingAddresses || due.addr != "192.0.2.3" || due.count != 1 {
		t.Errorf("after an interval: due %+v, %d idle addresses with %d refusals", due, len(idle), total)
	}
	if n := len(rt.byAddr); n > maxRefusingAddresses+1 {
		t.Errorf("%d addresses kept", n)
	}
}
