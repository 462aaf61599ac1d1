package storetest

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
)

// The invariants below are each one atomic step of a store; every test races
// many callers against one user, one session or one method.

// testDuplicateID checks that a create with the id of a method the user holds
// is refused, whatever its type, and leaves its session as it was; the same
// id under another user is another method.
func testDuplicateID(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	held := sc.passkey("alice", time.Now())
	mustCreate(t, s, held, 20)
	session := sc.session("alice", time.Minute)
	dup := sc.passkey("alice", time.Now().Add(time.Second)) // a fresh credential
	dup.ID = held.ID
	wantErr(t, "CreateMethod of a held id", s.CreateMethod(ctx, cloneMethod(dup), 20, session), myaccount.ErrMethodExists)
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), held)
	// The session is unused still.
	ok := sc.other("alice", "totp", time.Now().Add(2*time.Second))
	if err := s.CreateMethod(ctx, cloneMethod(ok), 20, session); err != nil {
		t.Fatalf("CreateMethod after a refused duplicate: %v", err)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), held, ok)

	theirs := cloneMethod(held)
	theirs.UserID = "bob"
	theirs.WebAuthn.CredentialID = randomBytes(32)
	mustCreate(t, s, theirs, 20)
	wantList(t, mustList(t, s, sc.issuer, "bob", ""), theirs)
}

// testDuplicateIDConcurrent races creates of one id, each with its own
// session: exactly one is stored.
func testDuplicateIDConcurrent(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	const n = 30
	id := "email" + "|dev_" + randomAlphanumeric(16)
	methods := make([]*myaccount.Method, n)
	for i := range methods {
		methods[i] = sc.other("alice", "email", time.Now())
		methods[i].ID = id
		methods[i].Destination = randomAlphanumeric(8) + "@example.com"
	}
	errs := make([]error, n)
	parallel(n, func(i int) { errs[i] = create(ctx, s, methods[i], 2*n) })
	var won []*myaccount.Method
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, methods[i])
		case !errors.Is(err, myaccount.ErrMethodExists):
			t.Fatalf("CreateMethod %d: %v, want nil or ErrMethodExists", i, err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d of %d concurrent creates of one id succeeded, want exactly 1", len(won), n)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), won[0])
}

// errRefused is what the suite's checks refuse with.
var errRefused = errors.New("storetest: refused")

// keepOnePasskey refuses to delete a user's last passkey, as
// [myaccount.KeepLastPrimary] refuses a last primary method.
func keepOnePasskey(m *myaccount.Method, others []*myaccount.Method) error {
	if m.Type != "passkey" {
		return nil
	}
	for _, o := range others {
		if o.Type == "passkey" {
			return nil
		}
	}
	return errRefused
}

// testDeleteCheck checks what a delete's check is given and what its answer does.
func testDeleteCheck(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	a := sc.passkey("alice", time.Now())
	b := sc.other("alice", "totp", time.Now().Add(time.Millisecond))
	c := sc.passkey("alice", time.Now().Add(2*time.Millisecond))
	for _, m := range []*myaccount.Method{a, b, c} {
		mustCreate(t, s, m, 20)
	}
	mustCreate(t, s, sc.passkey("bob", time.Now()), 20) // not alice's

	calls := 0
	err := s.DeleteMethod(ctx, sc.issuer, "alice", b.ID, func(m *myaccount.Method, others []*myaccount.Method) error {
		calls++
		if d := diffMethod(m, b); d != "" {
			t.Errorf("check got the method: %s", d)
		}
		wantList(t, others, a, c)
		scribble(m) // the store's own copies are not changed by the check
		for _, o := range others {
			scribble(o)
		}
		return errRefused
	})
	wantErr(t, "DeleteMethod refused by its check", err, errRefused)
	if calls != 1 {
		t.Fatalf("check called %d times, want once", calls)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), a, b, c)

	called := false
	err = s.DeleteMethod(ctx, sc.issuer, "alice", "totp"+"|dev_"+randomAlphanumeric(16), func(*myaccount.Method, []*myaccount.Method) error {
		called = true
		return nil
	})
	wantErr(t, "DeleteMethod of an unknown id", err, myaccount.ErrNotFound)
	if called {
		t.Fatal("check called for a method that does not exist")
	}

	if err := s.DeleteMethod(ctx, sc.issuer, "alice", a.ID, keepOnePasskey); err != nil {
		t.Fatalf("DeleteMethod allowed by its check: %v", err)
	}
	wantErr(t, "DeleteMethod of the last passkey", s.DeleteMethod(ctx, sc.issuer, "alice", c.ID, keepOnePasskey), errRefused)
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), b, c)
}

// testDeleteCheckConcurrent races deletes of a user's two passkeys under a
// check that keeps one: whatever the interleaving, one passkey is left.
func testDeleteCheckConcurrent(t *testing.T, s myaccount.Store) {
	const rounds, n = 5, 16
	for range rounds {
		sc := newScope()
		ctx := ctxFor(t)
		pair := []*myaccount.Method{sc.passkey("alice", time.Now()), sc.passkey("alice", time.Now().Add(time.Millisecond))}
		for _, m := range pair {
			mustCreate(t, s, m, 20)
		}
		errs := make([]error, n)
		parallel(n, func(i int) {
			errs[i] = s.DeleteMethod(ctx, sc.issuer, "alice", pair[i%2].ID, keepOnePasskey)
		})
		deleted := 0
		for i, err := range errs {
			switch {
			case err == nil:
				deleted++
			case !errors.Is(err, errRefused) && !errors.Is(err, myaccount.ErrNotFound):
				t.Fatalf("DeleteMethod %d: %v, want nil, the check's error or ErrNotFound", i, err)
			}
		}
		if deleted != 1 {
			t.Fatalf("%d of %d concurrent deletes of two passkeys passed a check that keeps one, want exactly 1", deleted, n)
		}
		if left := mustList(t, s, sc.issuer, "alice", ""); len(left) != 1 {
			t.Fatalf("%d passkeys left, want 1", len(left))
		}
	}
}

// testSessionsKnownByID checks that a store tells sessions apart by their
// IDs exactly, byte for byte: IDs that differ only in case, or by a
// character a lenient comparison drops, are other sessions; one ID with
// another expiry is the same session.
func testSessionsKnownByID(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	session := sc.session("alice", time.Minute)
	if err := s.SpendSession(ctx, session); err != nil {
		t.Fatalf("SpendSession: %v", err)
	}
	for _, id := range []string{strings.ToUpper(session.ID), session.ID + " ", session.ID + "\n", session.ID[:len(session.ID)-1]} {
		other := session
		other.ID = id
		if err := s.SpendSession(ctx, other); err != nil {
			t.Fatalf("SpendSession of the ID %q after %q: %v", id, session.ID, err)
		}
	}
	same := session
	same.ExpiresAt = same.ExpiresAt.Add(time.Hour)
	wantErr(t, "SpendSession of the ID spent before, with another expiry", s.SpendSession(ctx, same), myaccount.ErrSessionUsed)
}

// testSessionUsesConcurrent races every way of using one session, creates
// of different methods, spends and code attempts: one use wins, so at most
// one method is created, and the session is used afterwards.
func testSessionUsesConcurrent(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	session := sc.session("alice", time.Minute)
	const n = 30
	var creates, spends atomic.Int32
	parallel(n, func(i int) {
		var err error
		switch i % 3 {
		case 0:
			if err = s.CreateMethod(ctx, sc.other("alice", "email", time.Now()), n, session); err == nil {
				creates.Add(1)
			}
		case 1:
			if err = s.SpendSession(ctx, session); err == nil {
				spends.Add(1)
			}
		case 2:
			err = s.CountAttempt(ctx, session, 5)
		}
		if err != nil && !errors.Is(err, myaccount.ErrSessionUsed) {
			t.Errorf("use %d: %v, want nil or ErrSessionUsed", i, err)
		}
	})
	if c, sp := creates.Load(), spends.Load(); c+sp != 1 {
		t.Fatalf("%d creates and %d spends of one session succeeded, want one in all", c, sp)
	}
	if got := mustList(t, s, sc.issuer, "alice", ""); len(got) != int(creates.Load()) {
		t.Fatalf("%d methods stored, want %d", len(got), creates.Load())
	}
	wantSessionUsed(t, s, session, sc.passkey("alice", time.Now()))
}

// testCountAttemptParallel sends 50 tries of one session at once with a
// maximum of 5: exactly 5 get through, as if they had come one by one.
func testCountAttemptParallel(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	const n, max = 50, 5
	session := sc.session("alice", time.Minute)
	errs := make([]error, n)
	parallel(n, func(i int) { errs[i] = s.CountAttempt(ctx, session, max) })
	through := 0
	for i, err := range errs {
		switch {
		case err == nil:
			through++
		case !errors.Is(err, myaccount.ErrSessionUsed):
			t.Fatalf("CountAttempt %d: %v, want nil or ErrSessionUsed", i, err)
		}
	}
	if through != max {
		t.Fatalf("%d of %d concurrent attempts got through with max %d, want exactly %d", through, n, max, max)
	}
	wantSessionUsed(t, s, session, sc.other("alice", "totp", time.Now()))
}

// testTOTPStep checks that a method's last TOTP step, set at create, only
// moves forward.
func testTOTPStep(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	m := sc.other("alice", "totp", time.Now())
	m.Secret = randomBytes(40)
	m.LastTOTPStep = 59_000_000
	mustCreate(t, s, m, 20)
	got, err := s.GetMethod(ctx, sc.issuer, "alice", m.ID)
	if err != nil {
		t.Fatalf("GetMethod: %v", err)
	}
	if d := diffMethod(got, m); d != "" {
		t.Fatalf("created method: %s", d)
	}
	advance := func(step int64, want bool) {
		t.Helper()
		ok, err := s.AdvanceTOTPStep(ctx, sc.issuer, "alice", m.ID, step)
		if err != nil || ok != want {
			t.Fatalf("AdvanceTOTPStep(%d) = %v, %v; want %v, nil", step, ok, err, want)
		}
	}
	advance(m.LastTOTPStep, false)
	advance(m.LastTOTPStep-1, false)
	advance(m.LastTOTPStep+1, true)
	advance(m.LastTOTPStep+1, false)
	advance(m.LastTOTPStep+3, true)
	advance(m.LastTOTPStep+2, false)
	m.LastTOTPStep += 3
	got, err = s.GetMethod(ctx, sc.issuer, "alice", m.ID)
	if err != nil {
		t.Fatalf("GetMethod: %v", err)
	}
	if d := diffMethod(got, m); d != "" {
		t.Fatalf("after the advances: %s", d)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), m)

	_, err = s.AdvanceTOTPStep(ctx, sc.issuer, "bob", m.ID, m.LastTOTPStep+10)
	wantErr(t, "AdvanceTOTPStep of another user's method", err, myaccount.ErrNotFound)
	_, err = s.AdvanceTOTPStep(ctx, sc.issuer, "alice", "totp"+"|dev_"+randomAlphanumeric(16), 1)
	wantErr(t, "AdvanceTOTPStep of an unknown method", err, myaccount.ErrNotFound)
	if got, _ := s.GetMethod(ctx, sc.issuer, "alice", m.ID); got == nil || got.LastTOTPStep != m.LastTOTPStep {
		t.Fatalf("another user's advance moved alice's step")
	}
}

// testTOTPStepConcurrent races advances of one method: each step is
// accepted once at most, exactly once for the greatest, and the method ends
// at the greatest.
func testTOTPStepConcurrent(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	m := sc.other("alice", "totp", time.Now())
	m.LastTOTPStep = 1000
	mustCreate(t, s, m, 20)
	const n, steps = 40, 4
	var accepted [steps]atomic.Int32
	parallel(n, func(i int) {
		ok, err := s.AdvanceTOTPStep(ctx, sc.issuer, "alice", m.ID, m.LastTOTPStep+1+int64(i%steps))
		if err != nil {
			t.Errorf("AdvanceTOTPStep %d: %v", i, err)
		}
		if ok {
			accepted[i%steps].Add(1)
		}
	})
	for i := range accepted {
		if got := accepted[i].Load(); got > 1 {
			t.Errorf("step +%d accepted %d times, want at most once", i+1, got)
		}
	}
	if got := accepted[steps-1].Load(); got != 1 {
		t.Errorf("the greatest step accepted %d times, want once", got)
	}
	got, err := s.GetMethod(ctx, sc.issuer, "alice", m.ID)
	if err != nil {
		t.Fatalf("GetMethod: %v", err)
	}
	if got.LastTOTPStep != m.LastTOTPStep+steps {
		t.Fatalf("LastTOTPStep %d, want %d", got.LastTOTPStep, m.LastTOTPStep+steps)
	}
}
