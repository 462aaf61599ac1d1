// Package storetest checks that an implementation of [myaccount.Store] behaves as
// the interface documents, as golang.org/x/net/nettest does for net.Conn.
//
// A backend's test calls [Run] with a function that returns a store ready for use:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) myaccount.Store { return newTestStore(t) })
//	}
//
// Every subtest works under its own randomly named issuer, so newStore may return
// stores that share one database. [BenchmarkList] and [BenchmarkCreate] measure
// the two paths the API uses most, so that backends can be compared.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
)

// callTimeout bounds every store call the suite makes: a store that hangs fails
// the test instead of stalling it.
const callTimeout = 10 * time.Second

// promptly is how soon a call with a cancelled context must return.
const promptly = time.Second

// Run runs the conformance suite against the stores newStore returns. newStore
// is called once per subtest; the subtests run one after another.
func Run(t *testing.T, newStore func(t *testing.T) myaccount.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s myaccount.Store)
	}{
		{"CreateGetList", testCreateGetList},
		{"ScopedByIssuerAndUser", testScoped},
		{"ListOrderAndFilter", testListOrderAndFilter},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"ReturnsCopies", testCopies},
		{"UserHandle", testUserHandle},
		{"UserHandleConcurrent", testUserHandleConcurrent},
		{"MethodsAndUserHandle", testMethodsAndUserHandle},
		{"SessionUsedOnce", testSessionUsedOnce},
		{"SessionUsedOnceConcurrent", testSessionUsedOnceConcurrent},
		{"FailedCreateLeavesSession", testFailedCreateLeavesSession},
		{"SpendSession", testSpendSession},
		{"CountAttempt", testCountAttempt},
		{"CountAttemptConcurrent", testCountAttemptConcurrent},
		{"SessionsExpire", testSessionsExpire},
		{"MethodTypes", testMethodTypes},
		{"UpdatePreferredChannel", testUpdatePreferredChannel},
		{"Limit", testLimit},
		{"LimitConcurrent", testLimitConcurrent},
		{"CredentialUnique", testCredentialUnique},
		{"CredentialUniqueConcurrent", testCredentialUniqueConcurrent},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ConcurrentUpdatesOfFields", testConcurrentUpdatesOfFields},
		{"CanceledContext", testCanceled},
		{"CanceledMidway", testCanceledMidway},
		{"SetSecret", testSetSecret}, {"SetSecretConcurrent", testSetSecretConcurrent},
		{"DuplicateID", testDuplicateID}, {"DuplicateIDConcurrent", testDuplicateIDConcurrent},
		{"DeleteCheck", testDeleteCheck}, {"DeleteCheckConcurrent", testDeleteCheckConcurrent},
		{"SessionsKnownByID", testSessionsKnownByID}, {"SessionUsesConcurrent", testSessionUsesConcurrent},
		{"CountAttemptParallel", testCountAttemptParallel},
		{"TOTPStep", testTOTPStep}, {"TOTPStepConcurrent", testTOTPStepConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			tt.fn(t, s)
		})
	}
}

// scope is one subtest's issuer, distinct from every other run's.
type scope struct {
	issuer string
	rpID   string
}

func newScope() scope {
	tag := randomAlphanumeric(10)
	return scope{issuer: "https://storetest-" + tag + ".example/", rpID: "rp-" + tag + ".example"}
}

// passkey returns a new passkey method of user with fresh random ids.
func (sc scope) passkey(user string, created time.Time) *myaccount.Method {
	return &myaccount.Method{
		ID:             "passkey" + "|dev_" + randomAlphanumeric(16),
		Issuer:         sc.issuer,
		UserID:         user,
		Type:           "passkey",
		IdentityUserID: user,
		CreatedAt:      created.UTC().Truncate(time.Millisecond),
		WebAuthn: myaccount.WebAuthnCredential{
			CredentialID:      randomBytes(32),
			PublicKey:         randomBytes(77),
			AAGUID:            randomBytes(16),
			SignCount:         7,
			BackupEligible:    true,
			BackedUp:          true,
			Transports:        []string{"internal", "hybrid"},
			AttestationFormat: "none",
			UserAgent:         "storetest/1.0",
			RelyingPartyID:    sc.rpID,
			UserHandle:        randomBytes(32),
		},
	}
}

// other returns a method of a type other than passkey, with no credential.
func (sc scope) other(user, typ string, created time.Time) *myaccount.Method {
	return &myaccount.Method{
		ID:        typ + "|dev_" + randomAlphanumeric(16),
		Issuer:    sc.issuer,
		UserID:    user,
		Type:      typ,
		CreatedAt: created.UTC().Truncate(time.Millisecond),
	}
}

// session returns a new session of user that ends after ttl.
func (sc scope) session(user string, ttl time.Duration) myaccount.SessionRef {
	return newSession(sc.issuer, user, ttl)
}

// newSession returns a reference to a new auth_session, its id a SHA-256 in
// hex as the API makes them.
func newSession(issuer, user string, ttl time.Duration) myaccount.SessionRef {
	return myaccount.SessionRef{
		ID:        fmt.Sprintf("%x", randomBytes(32)),
		Issuer:    issuer,
		UserID:    user,
		ExpiresAt: time.Now().Add(ttl).UTC().Truncate(time.Millisecond),
	}
}

// sessionTTL is the lifetime of the sessions the suite creates methods with.
const sessionTTL = 5 * time.Minute

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// create stores a copy of m with a new session of its owner.
func create(ctx context.Context, s myaccount.Store, m *myaccount.Method, limit int) error {
	return s.CreateMethod(ctx, cloneMethod(m), limit, newSession(m.Issuer, m.UserID, sessionTTL))
}

func mustCreate(t testing.TB, s myaccount.Store, m *myaccount.Method, limit int) {
	t.Helper()
	if err := create(ctxFor(t), s, m, limit); err != nil {
		t.Fatalf("CreateMethod(%s): %v", m.ID, err)
	}
}

func mustList(t testing.TB, s myaccount.Store, issuer, user, typ string) []*myaccount.Method {
	t.Helper()
	got, err := s.ListMethods(ctxFor(t), issuer, user, typ)
	if err != nil {
		t.Fatalf("ListMethods(%q): %v", typ, err)
	}
	return got
}

// wantList fails t unless got holds exactly want, in order.
func wantList(t testing.TB, got []*myaccount.Method, want ...*myaccount.Method) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("listed %d methods %v, want %d %v", len(got), ids(got), len(want), ids(want))
	}
	for i := range want {
		if d := diffMethod(got[i], want[i]); d != "" {
			t.Fatalf("listed method %d: %s (listed %v, want %v)", i, d, ids(got), ids(want))
		}
	}
}

func ids(ms []*myaccount.Method) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// diffMethod describes the first difference between got and want, or returns "".
// Nil and empty slices are the same; times are compared as instants.
func diffMethod(got, want *myaccount.Method) string {
	if got == nil {
		return "got nil method"
	}
	g, w := got, want
	switch {
	case g.ID != w.ID:
		return fmt.Sprintf("ID %q, want %q", g.ID, w.ID)
	case g.Issuer != w.Issuer || g.UserID != w.UserID:
		return fmt.Sprintf("owner %q %q, want %q %q", g.Issuer, g.UserID, w.Issuer, w.UserID)
	case g.Type != w.Type:
		return fmt.Sprintf("Type %q, want %q", g.Type, w.Type)
	case g.Name != w.Name:
		return fmt.Sprintf("Name %q, want %q", g.Name, w.Name)
	case g.IdentityUserID != w.IdentityUserID:
		return fmt.Sprintf("IdentityUserID %q, want %q", g.IdentityUserID, w.IdentityUserID)
	case !g.CreatedAt.Equal(w.CreatedAt):
		return fmt.Sprintf("CreatedAt %v, want %v", g.CreatedAt, w.CreatedAt)
	case !bytes.Equal(g.Secret, w.Secret):
		return fmt.Sprintf("Secret %x, want %x", g.Secret, w.Secret)
	case g.Destination != w.Destination:
		return fmt.Sprintf("Destination %q, want %q", g.Destination, w.Destination)
	case g.PreferredChannel != w.PreferredChannel:
		return fmt.Sprintf("PreferredChannel %q, want %q", g.PreferredChannel, w.PreferredChannel)
	case g.LastTOTPStep != w.LastTOTPStep:
		return fmt.Sprintf("LastTOTPStep %d, want %d", g.LastTOTPStep, w.LastTOTPStep)
	}
	gp, wp := g.WebAuthn, w.WebAuthn
	switch {
	case !bytes.Equal(gp.CredentialID, wp.CredentialID):
		return "WebAuthn.CredentialID differs"
	case !bytes.Equal(gp.PublicKey, wp.PublicKey):
		return "WebAuthn.PublicKey differs"
	case !bytes.Equal(gp.AAGUID, wp.AAGUID):
		return "WebAuthn.AAGUID differs"
	case !bytes.Equal(gp.UserHandle, wp.UserHandle):
		return "WebAuthn.UserHandle differs"
	case gp.SignCount != wp.SignCount:
		return fmt.Sprintf("WebAuthn.SignCount %d, want %d", gp.SignCount, wp.SignCount)
	case gp.BackupEligible != wp.BackupEligible || gp.BackedUp != wp.BackedUp:
		return fmt.Sprintf("WebAuthn backup flags %v %v, want %v %v", gp.BackupEligible, gp.BackedUp, wp.BackupEligible, wp.BackedUp)
	case !slices.Equal(gp.Transports, wp.Transports):
		return fmt.Sprintf("WebAuthn.Transports %q, want %q", gp.Transports, wp.Transports)
	case gp.AttestationFormat != wp.AttestationFormat:
		return fmt.Sprintf("WebAuthn.AttestationFormat %q, want %q", gp.AttestationFormat, wp.AttestationFormat)
	case gp.UserAgent != wp.UserAgent:
		return fmt.Sprintf("WebAuthn.UserAgent %q, want %q", gp.UserAgent, wp.UserAgent)
	case gp.RelyingPartyID != wp.RelyingPartyID:
		return fmt.Sprintf("WebAuthn.RelyingPartyID %q, want %q", gp.RelyingPartyID, wp.RelyingPartyID)
	}
	return ""
}

func cloneMethod(m *myaccount.Method) *myaccount.Method {
	c := *m
	c.Secret = bytes.Clone(c.Secret)
	p := &c.WebAuthn
	p.CredentialID = bytes.Clone(p.CredentialID)
	p.PublicKey = bytes.Clone(p.PublicKey)
	p.AAGUID = bytes.Clone(p.AAGUID)
	p.Transports = slices.Clone(p.Transports)
	p.UserHandle = bytes.Clone(p.UserHandle)
	return &c
}

// scribble changes every field of m that a store could alias.
func scribble(m *myaccount.Method) {
	m.Name = "scribbled"
	m.CreatedAt = m.CreatedAt.Add(time.Hour)
	m.Destination = "scribbled"
	m.PreferredChannel = "scribbled"
	for _, b := range [][]byte{m.Secret, m.WebAuthn.CredentialID, m.WebAuthn.PublicKey, m.WebAuthn.AAGUID, m.WebAuthn.UserHandle} {
		for i := range b {
			b[i] ^= 0xff
		}
	}
	for i := range m.WebAuthn.Transports {
		m.WebAuthn.Transports[i] = "scribbled"
	}
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

// randomAlphanumeric draws n letters and digits (n ≤ 26): crypto/rand.Text is
// base32, so every character is one.
func randomAlphanumeric(n int) string { return rand.Text()[:n] }

// parallel runs fn(i) for i in [0, n) on n goroutines released at once, and
// waits for all of them.
func parallel(n int, fn func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			fn(i)
		})
	}
	start.Done()
	done.Wait()
}

func testCreateGetList(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	if got := mustList(t, s, sc.issuer, "alice", ""); len(got) != 0 {
		t.Fatalf("new user lists %v, want none", ids(got))
	}
	m := sc.passkey("alice", time.Now())
	mustCreate(t, s, m, 20)
	got, err := s.GetMethod(ctx, sc.issuer, "alice", m.ID)
	if err != nil {
		t.Fatalf("GetMethod: %v", err)
	}
	if d := diffMethod(got, m); d != "" {
		t.Fatalf("GetMethod: %s", d)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), m)
	wantList(t, mustList(t, s, sc.issuer, "alice", "passkey"), m)
	wantList(t, mustList(t, s, sc.issuer, "alice", "totp"))
	_, err = s.GetMethod(ctx, sc.issuer, "alice", "passkey"+"|dev_unknown0000000")
	wantErr(t, "GetMethod of an unknown id", err, myaccount.ErrNotFound)
}

func testScoped(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	m := sc.passkey("alice", time.Now())
	m.Name = "mine"
	mustCreate(t, s, m, 20)
	other := newScope()
	for _, who := range []struct{ name, issuer, user string }{
		{"another user", sc.issuer, "mallory"},
		{"the same subject at another issuer", other.issuer, "alice"},
		{"a user whose id extends the owner's", sc.issuer, "alice2"},
	} {
		if got := mustList(t, s, who.issuer, who.user, ""); len(got) != 0 {
			t.Errorf("%s lists %v", who.name, ids(got))
		}
		_, err := s.GetMethod(ctx, who.issuer, who.user, m.ID)
		wantErr(t, who.name+": GetMethod", err, myaccount.ErrNotFound)
		name := "stolen"
		_, err = s.UpdateMethod(ctx, who.issuer, who.user, m.ID, myaccount.MethodUpdate{Name: &name})
		wantErr(t, who.name+": UpdateMethod", err, myaccount.ErrNotFound)
		err = s.DeleteMethod(ctx, who.issuer, who.user, m.ID, nil)
		wantErr(t, who.name+": DeleteMethod", err, myaccount.ErrNotFound)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), m)
}

func testListOrderAndFilter(t *testing.T, s myaccount.Store) {
	sc := newScope()
	base := time.Now().Add(-time.Hour)
	p3 := sc.passkey("alice", base.Add(3*time.Second))
	t1 := sc.other("alice", "totp", base.Add(1*time.Second))
	p2 := sc.passkey("alice", base.Add(2*time.Second))
	// Two created in the same millisecond: ties go by ID.
	tieB := sc.passkey("alice", base.Add(4*time.Second))
	tieB.ID = "passkey" + "|dev_B" + randomAlphanumeric(15)
	tieA := sc.passkey("alice", base.Add(4*time.Second))
	tieA.ID = "passkey" + "|dev_A" + randomAlphanumeric(15)
	t5 := sc.other("alice", "totp", base.Add(5*time.Second)) // no credential, like t1
	for _, m := range []*myaccount.Method{p3, t1, p2, tieB, tieA, t5} {
		mustCreate(t, s, m, 20)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), t1, p2, p3, tieA, tieB, t5)
	wantList(t, mustList(t, s, sc.issuer, "alice", "passkey"), p2, p3, tieA, tieB)
	wantList(t, mustList(t, s, sc.issuer, "alice", "totp"), t1, t5)
	wantList(t, mustList(t, s, sc.issuer, "alice", "phone"))
}

func testUpdate(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	m := sc.passkey("alice", time.Now())
	mustCreate(t, s, m, 20)
	name := "YubiKey 5"
	got, err := s.UpdateMethod(ctx, sc.issuer, "alice", m.ID, myaccount.MethodUpdate{Name: &name})
	if err != nil {
		t.Fatalf("UpdateMethod: %v", err)
	}
	m.Name = name
	if d := diffMethod(got, m); d != "" {
		t.Fatalf("UpdateMethod returned: %s", d)
	}
	got, err = s.UpdateMethod(ctx, sc.issuer, "alice", m.ID, myaccount.MethodUpdate{})
	if err != nil {
		t.Fatalf("empty UpdateMethod: %v", err)
	}
	if d := diffMethod(got, m); d != "" {
		t.Fatalf("an empty update changed the method: %s", d)
	}
	got, err = s.GetMethod(ctx, sc.issuer, "alice", m.ID)
	if err != nil {
		t.Fatalf("GetMethod: %v", err)
	}
	if d := diffMethod(got, m); d != "" {
		t.Fatalf("GetMethod after update: %s", d)
	}
	_, err = s.UpdateMethod(ctx, sc.issuer, "alice", "passkey"+"|dev_unknown0000000", myaccount.MethodUpdate{Name: &name})
	wantErr(t, "UpdateMethod of an unknown id", err, myaccount.ErrNotFound)
}

func testDelete(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	a, b := sc.passkey("alice", time.Now()), sc.passkey("alice", time.Now().Add(time.Millisecond))
	mustCreate(t, s, a, 20)
	mustCreate(t, s, b, 20)
	if err := s.DeleteMethod(ctx, sc.issuer, "alice", a.ID, nil); err != nil {
		t.Fatalf("DeleteMethod: %v", err)
	}
	_, err := s.GetMethod(ctx, sc.issuer, "alice", a.ID)
	wantErr(t, "GetMethod of a deleted method", err, myaccount.ErrNotFound)
	wantErr(t, "second DeleteMethod", s.DeleteMethod(ctx, sc.issuer, "alice", a.ID, nil), myaccount.ErrNotFound)
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), b)
	if err := s.DeleteMethod(ctx, sc.issuer, "alice", b.ID, nil); err != nil {
		t.Fatalf("DeleteMethod of the last method: %v", err)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""))
}

func testCopies(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	m := sc.passkey("alice", time.Now())
	want := cloneMethod(m)
	if err := s.CreateMethod(ctx, m, 20, sc.session("alice", sessionTTL)); err != nil {
		t.Fatalf("CreateMethod: %v", err)
	}
	scribble(m)
	check := func(after string) {
		t.Helper()
		got, err := s.GetMethod(ctx, sc.issuer, "alice", want.ID)
		if err != nil {
			t.Fatalf("GetMethod: %v", err)
		}
		if d := diffMethod(got, want); d != "" {
			t.Fatalf("changing the method %s changed the store: %s", after, d)
		}
		scribble(got)
	}
	check("passed to CreateMethod")
	check("returned by GetMethod")
	list := mustList(t, s, sc.issuer, "alice", "")
	for _, m := range list {
		scribble(m)
	}
	check("returned by ListMethods")
	name := "named"
	got, err := s.UpdateMethod(ctx, sc.issuer, "alice", want.ID, myaccount.MethodUpdate{Name: &name})
	if err != nil {
		t.Fatalf("UpdateMethod: %v", err)
	}
	want.Name = name
	scribble(got)
	name = "changed after UpdateMethod"
	check("returned by UpdateMethod")

	candidate := randomBytes(32)
	wantHandle := bytes.Clone(candidate)
	h, err := s.UserHandle(ctx, sc.issuer, "alice", candidate)
	if err != nil {
		t.Fatalf("UserHandle: %v", err)
	}
	candidate[0] ^= 0xff
	h[1] ^= 0xff
	if h, err = s.UserHandle(ctx, sc.issuer, "alice", randomBytes(32)); err != nil || !bytes.Equal(h, wantHandle) {
		t.Fatalf("UserHandle after changing the candidate and the result = %x, %v; want %x", h, err, wantHandle)
	}

}

func testUserHandle(t *testing.T, s myaccount.Store) {
	sc, other := newScope(), newScope()
	ctx := ctxFor(t)
	first, second := randomBytes(32), randomBytes(32)
	for i, c := range [][]byte{first, second, first} {
		h, err := s.UserHandle(ctx, sc.issuer, "alice", c)
		if err != nil {
			t.Fatalf("UserHandle call %d: %v", i+1, err)
		}
		if !bytes.Equal(h, first) {
			t.Fatalf("UserHandle call %d = %x, want the first candidate %x", i+1, h, first)
		}
	}
	for _, who := range []struct{ issuer, user string }{{sc.issuer, "bob"}, {other.issuer, "alice"}} {
		own := randomBytes(32)
		h, err := s.UserHandle(ctx, who.issuer, who.user, own)
		if err != nil {
			t.Fatalf("UserHandle(%q, %q): %v", who.issuer, who.user, err)
		}
		if !bytes.Equal(h, own) {
			t.Fatalf("UserHandle(%q, %q) = %x, want its own candidate %x", who.issuer, who.user, h, own)
		}
	}
}

func testUserHandleConcurrent(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	const n = 20
	candidates := make([][]byte, n)
	for i := range candidates {
		candidates[i] = randomBytes(32)
	}
	got := make([][]byte, n)
	errs := make([]error, n)
	parallel(n, func(i int) {
		got[i], errs[i] = s.UserHandle(ctx, sc.issuer, "alice", candidates[i])
	})
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("UserHandle %d: %v", i, errs[i])
		}
		if !bytes.Equal(got[i], got[0]) {
			t.Fatalf("concurrent first calls got different handles: %x and %x", got[0], got[i])
		}
	}
	if !slices.ContainsFunc(candidates, func(c []byte) bool { return bytes.Equal(c, got[0]) }) {
		t.Fatalf("handle %x is none of the candidates", got[0])
	}
}

// wantSessionUsed fails t unless every way of using session says it is used.
func wantSessionUsed(t *testing.T, s myaccount.Store, session myaccount.SessionRef, m *myaccount.Method) {
	t.Helper()
	ctx := ctxFor(t)
	wantErr(t, "CreateMethod with a used session", s.CreateMethod(ctx, cloneMethod(m), 20, session), myaccount.ErrSessionUsed)
	wantErr(t, "SpendSession of a used session", s.SpendSession(ctx, session), myaccount.ErrSessionUsed)
	wantErr(t, "CountAttempt with a used session", s.CountAttempt(ctx, session, 100), myaccount.ErrSessionUsed)
	if _, err := s.GetMethod(ctx, m.Issuer, m.UserID, m.ID); !errors.Is(err, myaccount.ErrNotFound) {
		t.Fatalf("a create with a used session stored its method (GetMethod: %v)", err)
	}
}

func testSessionUsedOnce(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	session := sc.session("alice", time.Minute)
	m := sc.passkey("alice", time.Now())
	if err := s.CreateMethod(ctx, cloneMethod(m), 20, session); err != nil {
		t.Fatalf("CreateMethod: %v", err)
	}
	wantSessionUsed(t, s, session, sc.passkey("alice", time.Now()))
	wantSessionUsed(t, s, session, sc.other("alice", "totp", time.Now()))
	// Another session of the same user is another session.
	mustCreate(t, s, sc.other("alice", "totp", time.Now().Add(time.Second)), 20)
	other := sc.session("alice", time.Minute)
	if err := s.CountAttempt(ctx, other, 1); err != nil {
		t.Fatalf("CountAttempt with a second session: %v", err)
	}
	if err := s.SpendSession(ctx, sc.session("alice", time.Minute)); err != nil {
		t.Fatalf("SpendSession of a third session: %v", err)
	}
	if got := mustList(t, s, sc.issuer, "alice", "passkey"); len(got) != 1 {
		t.Fatalf("lists %d passkeys, want the one created", len(got))
	}
}

func testSessionUsedOnceConcurrent(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	session := sc.session("alice", time.Minute)
	const n = 30
	methods := make([]*myaccount.Method, n)
	for i := range methods {
		methods[i] = sc.passkey("alice", time.Now())
	}
	errs := make([]error, n)
	parallel(n, func(i int) {
		errs[i] = s.CreateMethod(ctx, cloneMethod(methods[i]), 2*n, session)
	})
	var won []*myaccount.Method
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, methods[i])
		case !errors.Is(err, myaccount.ErrSessionUsed):
			t.Fatalf("CreateMethod %d: %v, want nil or ErrSessionUsed", i, err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d of %d concurrent creates with one session succeeded, want exactly 1", len(won), n)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), won[0])
}

func testFailedCreateLeavesSession(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	held := sc.passkey("alice", time.Now())
	mustCreate(t, s, held, 1)
	session := sc.session("alice", time.Minute)
	if err := s.CountAttempt(ctx, session, 3); err != nil {
		t.Fatalf("CountAttempt: %v", err)
	}

	// Refused for the limit: nothing stored, the session as it was.
	full := sc.passkey("alice", time.Now().Add(time.Second))
	wantErr(t, "CreateMethod over the limit", s.CreateMethod(ctx, cloneMethod(full), 1, session), myaccount.ErrLimitReached)
	// Refused for a credential registered already, here under another WebAuthn type.
	dup := sc.passkey("alice", time.Now().Add(time.Second))
	dup.Type = "webauthn-roaming"
	dup.ID = "webauthn-roaming" + "|dev_" + randomAlphanumeric(16)
	dup.WebAuthn.CredentialID = bytes.Clone(held.WebAuthn.CredentialID)
	wantErr(t, "CreateMethod of a registered credential", s.CreateMethod(ctx, cloneMethod(dup), 20, session), myaccount.ErrCredentialExists)
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), held)

	// The attempt counted before the failures still counts, and no more.
	if err := s.CountAttempt(ctx, session, 3); err != nil {
		t.Fatalf("second CountAttempt after failed creates: %v", err)
	}
	// The session is still unused.
	ok := sc.other("alice", "totp", time.Now().Add(2*time.Second))
	if err := s.CreateMethod(ctx, cloneMethod(ok), 1, session); err != nil {
		t.Fatalf("CreateMethod after failed creates: %v", err)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), held, ok)
	wantSessionUsed(t, s, session, sc.other("alice", "email", time.Now()))

	// A session never seen before, refused at once, is left unused as well.
	fresh := sc.session("alice", time.Minute)
	wantErr(t, "CreateMethod over the limit with a new session",
		s.CreateMethod(ctx, sc.passkey("alice", time.Now()), 1, fresh), myaccount.ErrLimitReached)
	if err := s.SpendSession(ctx, fresh); err != nil {
		t.Fatalf("SpendSession after a failed create: %v", err)
	}
}

func testSpendSession(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	session := sc.session("alice", time.Minute)
	if err := s.SpendSession(ctx, session); err != nil {
		t.Fatalf("SpendSession: %v", err)
	}
	wantSessionUsed(t, s, session, sc.passkey("alice", time.Now()))

	// A session with attempts counted can be spent, once.
	tried := sc.session("alice", time.Minute)
	if err := s.CountAttempt(ctx, tried, 5); err != nil {
		t.Fatalf("CountAttempt: %v", err)
	}
	if err := s.SpendSession(ctx, tried); err != nil {
		t.Fatalf("SpendSession after an attempt: %v", err)
	}
	wantSessionUsed(t, s, tried, sc.other("alice", "totp", time.Now()))

	// Of concurrent spends, one succeeds.
	contested := sc.session("alice", time.Minute)
	const n = 20
	errs := make([]error, n)
	parallel(n, func(i int) { errs[i] = s.SpendSession(ctx, contested) })
	spent := 0
	for i, err := range errs {
		switch {
		case err == nil:
			spent++
		case !errors.Is(err, myaccount.ErrSessionUsed):
			t.Fatalf("SpendSession %d: %v", i, err)
		}
	}
	if spent != 1 {
		t.Fatalf("%d of %d concurrent spends of one session succeeded, want 1", spent, n)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""))
}

func testCountAttempt(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	const max = 3
	session := sc.session("alice", time.Minute)
	for i := range max {
		if err := s.CountAttempt(ctx, session, max); err != nil {
			t.Fatalf("CountAttempt %d of %d: %v", i+1, max, err)
		}
	}
	wantErr(t, "CountAttempt past the maximum", s.CountAttempt(ctx, session, max), myaccount.ErrSessionUsed)
	// Reaching the maximum spent the session, whatever maximum is asked next.
	wantSessionUsed(t, s, session, sc.other("alice", "totp", time.Now()))

	// Attempts below the maximum leave the session usable.
	tried := sc.session("alice", time.Minute)
	for range max - 1 {
		if err := s.CountAttempt(ctx, tried, max); err != nil {
			t.Fatalf("CountAttempt: %v", err)
		}
	}
	m := sc.other("alice", "totp", time.Now())
	if err := s.CreateMethod(ctx, cloneMethod(m), 20, tried); err != nil {
		t.Fatalf("CreateMethod after %d attempts: %v", max-1, err)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), m)
	wantErr(t, "CountAttempt after the session was used", s.CountAttempt(ctx, tried, max), myaccount.ErrSessionUsed)
}

func testCountAttemptConcurrent(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	const n, max = 30, 5
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
	if through < 1 || through > max {
		t.Fatalf("%d of %d concurrent attempts got through with max %d, want between 1 and %d", through, n, max, max)
	}
	wantSessionUsed(t, s, session, sc.other("alice", "totp", time.Now()))
}

// testSessionsExpire fills one user's session records with short-lived ones
// and checks that, once they have expired, they hold no room: a store that
// bounds the records it keeps per user must forget expired ones first.
func testSessionsExpire(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	const n = 1100
	const ttl = 500 * time.Millisecond
	fill := func(ttl time.Duration) (refs []myaccount.SessionRef, kept int) {
		t.Helper()
		for range n {
			ref := sc.session("alice", ttl)
			switch err := s.CountAttempt(ctx, ref, 2); {
			case err == nil:
				refs = append(refs, ref)
			case !errors.Is(err, myaccount.ErrRateLimited):
				t.Fatalf("CountAttempt of a new session: %v, want nil or ErrRateLimited", err)
			}
		}
		return refs, len(refs)
	}
	start := time.Now()
	_, first := fill(ttl)
	if first == 0 {
		t.Fatal("no session record was kept")
	}
	time.Sleep(time.Until(start.Add(ttl)) + 50*time.Millisecond)
	refs, second := fill(time.Minute)
	if second < first {
		t.Fatalf("after %d session records expired, %d new ones were kept, want at least %d", first, second, first)
	}
	// The live ones still count their attempts.
	for _, ref := range []myaccount.SessionRef{refs[0], refs[len(refs)-1]} {
		if err := s.CountAttempt(ctx, ref, 2); err != nil {
			t.Fatalf("second CountAttempt of a live session: %v", err)
		}
		wantErr(t, "third CountAttempt with max 2", s.CountAttempt(ctx, ref, 2), myaccount.ErrSessionUsed)
	}
	// Another user is not limited by alice's records.
	if err := s.CountAttempt(ctx, sc.session("bob", time.Minute), 2); err != nil {
		t.Fatalf("CountAttempt of another user: %v", err)
	}
}

// testMethodTypes stores a method of every type with the fields it uses and
// reads each back.
func testMethodTypes(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	base := time.Now().Add(-time.Minute)
	totp := sc.other("alice", "totp", base)
	totp.Secret = randomBytes(60) // a sealed seed
	totp.Name = "Authenticator app"
	email := sc.other("alice", "email", base.Add(time.Second))
	email.Destination = "alice@example.com"
	email.IdentityUserID = "email|alice"
	phone := sc.other("alice", "phone", base.Add(2*time.Second))
	phone.Destination = "+14155550123"
	phone.PreferredChannel = "voice"
	recovery := sc.other("alice", "recovery-code", base.Add(3*time.Second))
	recovery.Secret = randomBytes(32) // a SHA-256
	platform := sc.passkey("alice", base.Add(4*time.Second))
	platform.Type = "webauthn-platform"
	platform.ID = "webauthn-platform" + "|dev_" + randomAlphanumeric(16)
	all := []*myaccount.Method{totp, email, phone, recovery, platform}
	for _, m := range all {
		mustCreate(t, s, m, 20)
	}
	for _, m := range all {
		got, err := s.GetMethod(ctx, sc.issuer, "alice", m.ID)
		if err != nil {
			t.Fatalf("GetMethod(%s): %v", m.Type, err)
		}
		if d := diffMethod(got, m); d != "" {
			t.Fatalf("GetMethod(%s): %s", m.Type, d)
		}
		wantList(t, mustList(t, s, sc.issuer, "alice", m.Type), m)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), all...)

	// Methods without a WebAuthn credential never clash over one.
	for i := range 3 {
		mustCreate(t, s, sc.other("bob", "totp", base.Add(time.Duration(i)*time.Second)), 20)
	}
	if got := mustList(t, s, sc.issuer, "bob", "totp"); len(got) != 3 {
		t.Fatalf("bob lists %d TOTP methods, want 3", len(got))
	}
}

func testUpdatePreferredChannel(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	phone := sc.other("alice", "phone", time.Now())
	phone.Destination = "+14155550123"
	phone.PreferredChannel = "sms"
	phone.Name = "work phone"
	mustCreate(t, s, phone, 20)
	voice := "voice"
	got, err := s.UpdateMethod(ctx, sc.issuer, "alice", phone.ID, myaccount.MethodUpdate{PreferredChannel: &voice})
	if err != nil {
		t.Fatalf("UpdateMethod: %v", err)
	}
	phone.PreferredChannel = voice
	if d := diffMethod(got, phone); d != "" {
		t.Fatalf("UpdateMethod of the channel returned: %s", d)
	}
	name := "home phone"
	if _, err := s.UpdateMethod(ctx, sc.issuer, "alice", phone.ID, myaccount.MethodUpdate{Name: &name}); err != nil {
		t.Fatalf("UpdateMethod: %v", err)
	}
	phone.Name = name
	got, err = s.GetMethod(ctx, sc.issuer, "alice", phone.ID)
	if err != nil {
		t.Fatalf("GetMethod: %v", err)
	}
	if d := diffMethod(got, phone); d != "" {
		t.Fatalf("after updating the channel, then the name: %s", d)
	}
	sms, other := "sms", "landline"
	got, err = s.UpdateMethod(ctx, sc.issuer, "alice", phone.ID, myaccount.MethodUpdate{Name: &other, PreferredChannel: &sms})
	if err != nil {
		t.Fatalf("UpdateMethod of both: %v", err)
	}
	phone.Name, phone.PreferredChannel = other, sms
	if d := diffMethod(got, phone); d != "" {
		t.Fatalf("UpdateMethod of both fields returned: %s", d)
	}
}

// testConcurrentUpdatesOfFields updates the name and the channel of one
// method at once, many times: each field ends as its last update left it.
func testConcurrentUpdatesOfFields(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	phone := sc.other("alice", "phone", time.Now())
	phone.Destination = "+14155550123"
	phone.PreferredChannel = "sms"
	mustCreate(t, s, phone, 20)
	const rounds = 20
	errs := make([]error, 2)
	parallel(2, func(i int) {
		for r := range rounds {
			var u myaccount.MethodUpdate
			if i == 0 {
				name := fmt.Sprintf("phone %d", r)
				u.Name = &name
			} else {
				channel := []string{"voice", "sms"}[r%2]
				u.PreferredChannel = &channel
			}
			if _, err := s.UpdateMethod(ctx, sc.issuer, "alice", phone.ID, u); err != nil {
				errs[i] = err
				return
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("UpdateMethod: %v", err)
		}
	}
	phone.Name = fmt.Sprintf("phone %d", rounds-1)
	phone.PreferredChannel = []string{"voice", "sms"}[(rounds-1)%2]
	got, err := s.GetMethod(ctx, sc.issuer, "alice", phone.ID)
	if err != nil {
		t.Fatalf("GetMethod: %v", err)
	}
	if d := diffMethod(got, phone); d != "" {
		t.Fatalf("after concurrent updates of the name and the channel: %s", d)
	}
}
func testLimit(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	now := time.Now()
	a, b := sc.passkey("alice", now), sc.passkey("alice", now.Add(time.Millisecond))
	totp := sc.other("alice", "totp", now.Add(2*time.Millisecond))
	mustCreate(t, s, a, 2)
	mustCreate(t, s, totp, 2) // another type does not count towards the passkey limit
	mustCreate(t, s, b, 2)
	third := sc.passkey("alice", now.Add(3*time.Millisecond))
	wantErr(t, "CreateMethod over the limit", create(ctx, s, third, 2), myaccount.ErrLimitReached)
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), a, b, totp)
	// Nothing of the refused method was kept: its credential id is free.
	third.UserID = "bob"
	mustCreate(t, s, third, 2)
	// The limit is per user.
	mustCreate(t, s, sc.passkey("carol", now), 2)
	// Deleting one makes room again.
	if err := s.DeleteMethod(ctx, sc.issuer, "alice", a.ID, nil); err != nil {
		t.Fatalf("DeleteMethod: %v", err)
	}
	mustCreate(t, s, sc.passkey("alice", now.Add(4*time.Millisecond)), 2)
}

func testLimitConcurrent(t *testing.T, s myaccount.Store) {
	sc := newScope()
	// Several users at once give a racy count more chances to show.
	const users, n, max = 3, 30, 20
	methods := make([]*myaccount.Method, users*n)
	for i := range methods {
		user := fmt.Sprintf("user%d", i%users)
		if i < users {
			mustCreate(t, s, sc.other(user, "totp", time.Now()), max) // not a passkey: not counted
		}
		methods[i] = sc.passkey(user, time.Now())
	}
	errs := make([]error, len(methods))
	ctx := ctxFor(t)
	parallel(len(methods), func(i int) {
		errs[i] = create(ctx, s, methods[i], max)
	})
	created := make(map[string]int)
	for i, err := range errs {
		switch {
		case err == nil:
			created[methods[i].UserID]++
		case !errors.Is(err, myaccount.ErrLimitReached):
			t.Fatalf("CreateMethod %d: %v", i, err)
		}
	}
	for u := range users {
		user := fmt.Sprintf("user%d", u)
		if created[user] != max {
			t.Errorf("%d concurrent creates with limit %d: %d created, %d refused; want %d and %d",
				n, max, created[user], n-created[user], max, n-max)
		}
		if got := mustList(t, s, sc.issuer, user, "passkey"); len(got) != max {
			t.Errorf("%s lists %d passkeys, want %d", user, len(got), max)
		}
	}
	// The refused ones left nothing behind: their credential ids are free.
	for i, err := range errs {
		if err != nil {
			m := cloneMethod(methods[i])
			m.UserID = "bob"
			mustCreate(t, s, m, len(methods))
		}
	}
}

func testCredentialUnique(t *testing.T, s myaccount.Store) {
	sc, other := newScope(), newScope()
	ctx := ctxFor(t)
	a := sc.passkey("alice", time.Now())
	mustCreate(t, s, a, 20)
	bobs := sc.passkey("bob", time.Now())
	mustCreate(t, s, bobs, 20)

	for _, try := range []struct {
		what         string
		issuer, user string
	}{
		{"the same user", sc.issuer, "alice"},
		{"another user", sc.issuer, "bob"},
		{"another issuer", other.issuer, "carol"},
	} {
		dup := sc.passkey(try.user, time.Now())
		dup.Issuer = try.issuer
		dup.WebAuthn.CredentialID = bytes.Clone(a.WebAuthn.CredentialID)
		wantErr(t, "CreateMethod with a registered credential id by "+try.what,
			create(ctx, s, dup, 20), myaccount.ErrCredentialExists)
	}
	// Every WebAuthn type shares one space of credential ids.
	for _, typ := range []string{"webauthn-platform", "webauthn-roaming"} {
		dup := sc.passkey("bob", time.Now())
		dup.Type = typ
		dup.ID = typ + "|dev_" + randomAlphanumeric(16)
		dup.WebAuthn.CredentialID = bytes.Clone(a.WebAuthn.CredentialID)
		wantErr(t, "CreateMethod of a passkey's credential id as "+typ,
			create(ctx, s, dup, 20), myaccount.ErrCredentialExists)
	}
	wantList(t, mustList(t, s, sc.issuer, "bob", ""), bobs)
	wantList(t, mustList(t, s, other.issuer, "carol", ""))

	// The same credential id under another relying party is another credential.
	elsewhere := sc.passkey("bob", time.Now().Add(time.Millisecond))
	elsewhere.WebAuthn.CredentialID = bytes.Clone(a.WebAuthn.CredentialID)
	elsewhere.WebAuthn.RelyingPartyID = other.rpID
	mustCreate(t, s, elsewhere, 20)

	// Deleting the method frees its credential id.
	if err := s.DeleteMethod(ctx, sc.issuer, "alice", a.ID, nil); err != nil {
		t.Fatalf("DeleteMethod: %v", err)
	}
	again := sc.passkey("bob", time.Now().Add(2*time.Millisecond))
	again.WebAuthn.CredentialID = bytes.Clone(a.WebAuthn.CredentialID)
	mustCreate(t, s, again, 20)
	wantList(t, mustList(t, s, sc.issuer, "bob", ""), bobs, elsewhere, again)
}

func testCredentialUniqueConcurrent(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	const n = 10
	credential := randomBytes(32)
	errs := make([]error, n)
	parallel(n, func(i int) {
		m := sc.passkey(fmt.Sprintf("user%d", i), time.Now())
		if i%2 == 1 { // half of them under another WebAuthn type
			m.Type = "webauthn-roaming"
			m.ID = m.Type + "|dev_" + randomAlphanumeric(16)
		}
		m.WebAuthn.CredentialID = bytes.Clone(credential)
		errs[i] = create(ctx, s, m, 20)
	})
	created := 0
	for i, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, myaccount.ErrCredentialExists):
			t.Fatalf("CreateMethod %d: %v", i, err)
		}
	}
	if created != 1 {
		t.Fatalf("%d of %d users registered one credential id, want exactly 1", created, n)
	}
}

func testConcurrentUpdates(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	const n = 10
	methods := make([]*myaccount.Method, n)
	base := time.Now()
	for i := range methods {
		methods[i] = sc.passkey("alice", base.Add(time.Duration(i)*time.Millisecond))
		mustCreate(t, s, methods[i], 20)
	}
	// The first half are renamed, several times each, while the second half are deleted.
	const rounds = 5
	errs := make([]error, n)
	parallel(n, func(i int) {
		m := methods[i]
		if i >= n/2 {
			errs[i] = s.DeleteMethod(ctx, sc.issuer, "alice", m.ID, nil)
			return
		}
		for r := range rounds {
			name := fmt.Sprintf("key %d round %d", i, r)
			if _, err := s.UpdateMethod(ctx, sc.issuer, "alice", m.ID, myaccount.MethodUpdate{Name: &name}); err != nil {
				errs[i] = err
				return
			}
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("method %d: %v", i, err)
		}
	}
	want := methods[:n/2]
	for i, m := range want {
		m.Name = fmt.Sprintf("key %d round %d", i, rounds-1)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), want...)
}

func testCanceled(t *testing.T, s myaccount.Store) {
	sc := newScope()
	live := ctxFor(t)
	m := sc.passkey("alice", time.Now())
	mustCreate(t, s, m, 20)
	handle := randomBytes(32)
	if _, err := s.UserHandle(live, sc.issuer, "alice", handle); err != nil {
		t.Fatalf("UserHandle: %v", err)
	}
	sess := sc.session("alice", time.Minute)
	if err := s.CountAttempt(live, sess, 2); err != nil {
		t.Fatalf("CountAttempt: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	name := "canceled"
	fresh := sc.passkey("alice", time.Now().Add(time.Second))
	type namedCall struct {
		name string
		call func() error
	}
	calls := []namedCall{
		{"CreateMethod", func() error { return s.CreateMethod(ctx, cloneMethod(fresh), 20, sess) }},
		{"ListMethods", func() error { _, err := s.ListMethods(ctx, sc.issuer, "alice", ""); return err }},
		{"GetMethod", func() error { _, err := s.GetMethod(ctx, sc.issuer, "alice", m.ID); return err }},
		{"UpdateMethod", func() error {
			_, err := s.UpdateMethod(ctx, sc.issuer, "alice", m.ID, myaccount.MethodUpdate{Name: &name})
			return err
		}},
		{"DeleteMethod", func() error { return s.DeleteMethod(ctx, sc.issuer, "alice", m.ID, nil) }},
		{"UserHandle", func() error { _, err := s.UserHandle(ctx, sc.issuer, "bob", randomBytes(32)); return err }},
		{"SpendSession", func() error { return s.SpendSession(ctx, sess) }},
		{"CountAttempt", func() error { return s.CountAttempt(ctx, sess, 2) }},
	}
	if reader, ok := s.(myaccount.MethodsAndHandleReader); ok {
		calls = append(calls, namedCall{"MethodsAndUserHandle", func() error {
			_, _, err := reader.MethodsAndUserHandle(ctx, sc.issuer, "bob", "", randomBytes(32))
			return err
		}})
	}
	for _, c := range calls {
		start := time.Now()
		err := c.call()
		if took := time.Since(start); took > promptly {
			t.Errorf("%s with a cancelled context took %v", c.name, took)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: error %v, want one matching context.Canceled", c.name, err)
		}
	}
	// None of them changed anything.
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), m)
	own := randomBytes(32)
	if h, err := s.UserHandle(live, sc.issuer, "bob", own); err != nil || !bytes.Equal(h, own) {
		t.Errorf("UserHandle after a cancelled first call = %x, %v; want the new candidate", h, err)
	}
	// The session still has one attempt left, and is unused.
	if err := s.CountAttempt(live, sess, 2); err != nil {
		t.Errorf("CountAttempt after cancelled calls: %v", err)
	}
	if err := s.CreateMethod(live, cloneMethod(fresh), 20, sess); err != nil {
		t.Errorf("CreateMethod after cancelled calls: %v", err)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), m, fresh)
}

// testCanceledMidway cancels creates at arbitrary points and checks that each one
// happened whole or not at all.
func testCanceledMidway(t *testing.T, s myaccount.Store) {
	sc := newScope()
	const n = 20
	methods := make([]*myaccount.Method, n)
	errs := make([]error, n)
	base := time.Now()
	parallel(n, func(i int) {
		methods[i] = sc.passkey("alice", base.Add(time.Duration(i)*time.Millisecond))
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i)*100*time.Microsecond)
		defer cancel()
		errs[i] = create(ctx, s, methods[i], n)
	})
	listed := make(map[string]*myaccount.Method)
	for _, m := range mustList(t, s, sc.issuer, "alice", "") {
		listed[m.ID] = m
	}
	for i, err := range errs {
		m := methods[i]
		got, ok := listed[m.ID]
		switch {
		case err != nil && !errors.Is(err, context.DeadlineExceeded):
			t.Fatalf("CreateMethod %d: error %v, want nil or one matching context.DeadlineExceeded", i, err)
		case err == nil && !ok:
			t.Fatalf("CreateMethod %d succeeded but its method is not listed", i)
		case ok:
			if d := diffMethod(got, m); d != "" {
				t.Fatalf("CreateMethod %d (error %v) left a partial method: %s", i, err, d)
			}
		default: // failed and not listed: its credential id must be free
			m := cloneMethod(m)
			m.UserID = "bob"
			mustCreate(t, s, m, n)
		}
	}
}

// BenchmarkList measures ListMethods of a user holding 20 passkeys.
func BenchmarkList(b *testing.B, s myaccount.Store) {
	sc := newScope()
	ctx := context.Background()
	for i := range 20 {
		mustCreate(b, s, sc.passkey("alice", time.Now().Add(time.Duration(i)*time.Millisecond)), 20)
	}
	b.ReportAllocs()
	for b.Loop() {
		list, err := s.ListMethods(ctx, sc.issuer, "alice", "passkey")
		if err != nil || len(list) != 20 {
			b.Fatalf("ListMethods = %d methods, %v", len(list), err)
		}
	}
}

// BenchmarkCreate measures what a verify asks of a store, and its undoing:
// CreateMethod with a new session, and DeleteMethod.
func BenchmarkCreate(b *testing.B, s myaccount.Store) {
	sc := newScope()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m := sc.passkey("alice", time.Now())
		if err := s.CreateMethod(ctx, m, 20, sc.session("alice", sessionTTL)); err != nil {
			b.Fatalf("CreateMethod: %v", err)
		}
		if err := s.DeleteMethod(ctx, sc.issuer, "alice", m.ID, nil); err != nil {
			b.Fatalf("DeleteMethod: %v", err)
		}
	}
}
