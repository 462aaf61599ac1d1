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
// stores that share one database. [BenchmarkList] and [BenchmarkCreateTake] measure
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
		{"SessionTakenOnce", testSessionTakenOnce},
		{"SessionExpires", testSessionExpires},
		{"SessionOfAnotherUser", testSessionOtherOwner},
		{"SessionConcurrentTake", testSessionConcurrentTake},
		{"Limit", testLimit},
		{"LimitConcurrent", testLimitConcurrent},
		{"CredentialUnique", testCredentialUnique},
		{"CredentialUniqueConcurrent", testCredentialUniqueConcurrent},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"CanceledContext", testCanceled},
		{"CanceledMidway", testCanceledMidway},
		{"SetSecret", testSetSecret}, {"SetSecretConcurrent", testSetSecretConcurrent},
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
		ID:             myaccount.TypePasskey + "|dev_" + randomAlphanumeric(16),
		Issuer:         sc.issuer,
		UserID:         user,
		Type:           myaccount.TypePasskey,
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

func (sc scope) session(user string, ttl time.Duration) *myaccount.Session {
	return &myaccount.Session{
		ID:        fmt.Sprintf("%x", randomBytes(32)),
		Issuer:    sc.issuer,
		UserID:    user,
		Type:      myaccount.TypePasskey,
		ExpiresAt: time.Now().Add(ttl).UTC().Truncate(time.Millisecond),
		Data:      randomBytes(200),
	}
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t testing.TB, s myaccount.Store, m *myaccount.Method, max int) {
	t.Helper()
	if err := s.CreateMethod(ctxFor(t), cloneMethod(m), max); err != nil {
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

func diffSession(got, want *myaccount.Session) string {
	switch {
	case got == nil:
		return "got nil session"
	case got.ID != want.ID || got.Issuer != want.Issuer || got.UserID != want.UserID || got.Type != want.Type:
		return fmt.Sprintf("session %q %q %q %q, want %q %q %q %q",
			got.ID, got.Issuer, got.UserID, got.Type, want.ID, want.Issuer, want.UserID, want.Type)
	case !got.ExpiresAt.Equal(want.ExpiresAt):
		return fmt.Sprintf("ExpiresAt %v, want %v", got.ExpiresAt, want.ExpiresAt)
	case !bytes.Equal(got.Data, want.Data):
		return "Data differs"
	}
	return ""
}

func cloneMethod(m *myaccount.Method) *myaccount.Method {
	c := *m
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
	for _, b := range [][]byte{m.WebAuthn.CredentialID, m.WebAuthn.PublicKey, m.WebAuthn.AAGUID, m.WebAuthn.UserHandle} {
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
	wantList(t, mustList(t, s, sc.issuer, "alice", myaccount.TypePasskey), m)
	wantList(t, mustList(t, s, sc.issuer, "alice", "totp"))
	_, err = s.GetMethod(ctx, sc.issuer, "alice", myaccount.TypePasskey+"|dev_unknown0000000")
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
		err = s.DeleteMethod(ctx, who.issuer, who.user, m.ID)
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
	tieB.ID = myaccount.TypePasskey + "|dev_B" + randomAlphanumeric(15)
	tieA := sc.passkey("alice", base.Add(4*time.Second))
	tieA.ID = myaccount.TypePasskey + "|dev_A" + randomAlphanumeric(15)
	t5 := sc.other("alice", "totp", base.Add(5*time.Second)) // no credential, like t1
	for _, m := range []*myaccount.Method{p3, t1, p2, tieB, tieA, t5} {
		mustCreate(t, s, m, 20)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), t1, p2, p3, tieA, tieB, t5)
	wantList(t, mustList(t, s, sc.issuer, "alice", myaccount.TypePasskey), p2, p3, tieA, tieB)
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
	_, err = s.UpdateMethod(ctx, sc.issuer, "alice", myaccount.TypePasskey+"|dev_unknown0000000", myaccount.MethodUpdate{Name: &name})
	wantErr(t, "UpdateMethod of an unknown id", err, myaccount.ErrNotFound)
}

func testDelete(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	a, b := sc.passkey("alice", time.Now()), sc.passkey("alice", time.Now().Add(time.Millisecond))
	mustCreate(t, s, a, 20)
	mustCreate(t, s, b, 20)
	if err := s.DeleteMethod(ctx, sc.issuer, "alice", a.ID); err != nil {
		t.Fatalf("DeleteMethod: %v", err)
	}
	_, err := s.GetMethod(ctx, sc.issuer, "alice", a.ID)
	wantErr(t, "GetMethod of a deleted method", err, myaccount.ErrNotFound)
	wantErr(t, "second DeleteMethod", s.DeleteMethod(ctx, sc.issuer, "alice", a.ID), myaccount.ErrNotFound)
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), b)
	if err := s.DeleteMethod(ctx, sc.issuer, "alice", b.ID); err != nil {
		t.Fatalf("DeleteMethod of the last method: %v", err)
	}
	wantList(t, mustList(t, s, sc.issuer, "alice", ""))
}

func testCopies(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	m := sc.passkey("alice", time.Now())
	want := cloneMethod(m)
	if err := s.CreateMethod(ctx, m, 20); err != nil {
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

	sess := sc.session("alice", time.Minute)
	wantSess := *sess
	wantSess.Data = bytes.Clone(sess.Data)
	if err := s.PutSession(ctx, sess); err != nil {
		t.Fatalf("PutSession: %v", err)
	}
	sess.Data[0] ^= 0xff
	sess.UserID = "mallory"
	got2, err := s.TakeSession(ctx, sc.issuer, "alice", wantSess.ID)
	if err != nil {
		t.Fatalf("TakeSession: %v", err)
	}
	if d := diffSession(got2, &wantSess); d != "" {
		t.Fatalf("changing the session passed to PutSession changed the store: %s", d)
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

func testSessionTakenOnce(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	sess := sc.session("alice", time.Minute)
	if err := s.PutSession(ctx, sess); err != nil {
		t.Fatalf("PutSession: %v", err)
	}
	got, err := s.TakeSession(ctx, sc.issuer, "alice", sess.ID)
	if err != nil {
		t.Fatalf("TakeSession: %v", err)
	}
	if d := diffSession(got, sess); d != "" {
		t.Fatalf("TakeSession: %s", d)
	}
	_, err = s.TakeSession(ctx, sc.issuer, "alice", sess.ID)
	wantErr(t, "second TakeSession", err, myaccount.ErrNotFound)
	_, err = s.TakeSession(ctx, sc.issuer, "alice", fmt.Sprintf("%x", randomBytes(32)))
	wantErr(t, "TakeSession of an unknown id", err, myaccount.ErrNotFound)
}

func testSessionExpires(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	expired := sc.session("alice", -time.Second)
	if err := s.PutSession(ctx, expired); err != nil {
		t.Fatalf("PutSession: %v", err)
	}
	_, err := s.TakeSession(ctx, sc.issuer, "alice", expired.ID)
	wantErr(t, "TakeSession of an expired session", err, myaccount.ErrNotFound)

	const ttl = 200 * time.Millisecond
	early, late := sc.session("alice", ttl), sc.session("alice", ttl)
	for _, sess := range []*myaccount.Session{early, late} {
		if err := s.PutSession(ctx, sess); err != nil {
			t.Fatalf("PutSession: %v", err)
		}
	}
	if _, err := s.TakeSession(ctx, sc.issuer, "alice", early.ID); err != nil {
		t.Fatalf("TakeSession before expiry: %v", err)
	}
	time.Sleep(time.Until(late.ExpiresAt) + 10*time.Millisecond)
	_, err = s.TakeSession(ctx, sc.issuer, "alice", late.ID)
	wantErr(t, "TakeSession after expiry", err, myaccount.ErrNotFound)
}

func testSessionOtherOwner(t *testing.T, s myaccount.Store) {
	sc, other := newScope(), newScope()
	ctx := ctxFor(t)
	sess := sc.session("alice", time.Minute)
	if err := s.PutSession(ctx, sess); err != nil {
		t.Fatalf("PutSession: %v", err)
	}
	_, err := s.TakeSession(ctx, sc.issuer, "mallory", sess.ID)
	wantErr(t, "TakeSession by another user", err, myaccount.ErrNotFound)
	_, err = s.TakeSession(ctx, other.issuer, "alice", sess.ID)
	wantErr(t, "TakeSession at another issuer", err, myaccount.ErrNotFound)
	got, err := s.TakeSession(ctx, sc.issuer, "alice", sess.ID)
	if err != nil {
		t.Fatalf("TakeSession by its owner after others tried: %v", err)
	}
	if d := diffSession(got, sess); d != "" {
		t.Fatalf("TakeSession: %s", d)
	}
}

func testSessionConcurrentTake(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx := ctxFor(t)
	sess := sc.session("alice", time.Minute)
	if err := s.PutSession(ctx, sess); err != nil {
		t.Fatalf("PutSession: %v", err)
	}
	const n = 100
	errs := make([]error, n)
	parallel(n, func(i int) {
		_, errs[i] = s.TakeSession(ctx, sc.issuer, "alice", sess.ID)
	})
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, myaccount.ErrNotFound):
			t.Fatalf("TakeSession %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent TakeSession calls got the session, want exactly 1", won, n)
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
	wantErr(t, "CreateMethod over the limit", s.CreateMethod(ctx, cloneMethod(third), 2), myaccount.ErrLimitReached)
	wantList(t, mustList(t, s, sc.issuer, "alice", ""), a, b, totp)
	// Nothing of the refused method was kept: its credential id is free.
	third.UserID = "bob"
	mustCreate(t, s, third, 2)
	// The limit is per user.
	mustCreate(t, s, sc.passkey("carol", now), 2)
	// Deleting one makes room again.
	if err := s.DeleteMethod(ctx, sc.issuer, "alice", a.ID); err != nil {
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
		errs[i] = s.CreateMethod(ctx, cloneMethod(methods[i]), max)
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
		if got := mustList(t, s, sc.issuer, user, myaccount.TypePasskey); len(got) != max {
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
			s.CreateMethod(ctx, dup, 20), myaccount.ErrCredentialExists)
	}
	wantList(t, mustList(t, s, sc.issuer, "bob", ""), bobs)
	wantList(t, mustList(t, s, other.issuer, "carol", ""))

	// The same credential id under another relying party is another credential.
	elsewhere := sc.passkey("bob", time.Now().Add(time.Millisecond))
	elsewhere.WebAuthn.CredentialID = bytes.Clone(a.WebAuthn.CredentialID)
	elsewhere.WebAuthn.RelyingPartyID = other.rpID
	mustCreate(t, s, elsewhere, 20)

	// Deleting the method frees its credential id.
	if err := s.DeleteMethod(ctx, sc.issuer, "alice", a.ID); err != nil {
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
		m.WebAuthn.CredentialID = bytes.Clone(credential)
		errs[i] = s.CreateMethod(ctx, m, 20)
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
			errs[i] = s.DeleteMethod(ctx, sc.issuer, "alice", m.ID)
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
	if err := s.PutSession(live, sess); err != nil {
		t.Fatalf("PutSession: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	name := "canceled"
	fresh := sc.passkey("alice", time.Now())
	calls := []struct {
		name string
		call func() error
	}{
		{"CreateMethod", func() error { return s.CreateMethod(ctx, cloneMethod(fresh), 20) }},
		{"ListMethods", func() error { _, err := s.ListMethods(ctx, sc.issuer, "alice", ""); return err }},
		{"GetMethod", func() error { _, err := s.GetMethod(ctx, sc.issuer, "alice", m.ID); return err }},
		{"UpdateMethod", func() error {
			_, err := s.UpdateMethod(ctx, sc.issuer, "alice", m.ID, myaccount.MethodUpdate{Name: &name})
			return err
		}},
		{"DeleteMethod", func() error { return s.DeleteMethod(ctx, sc.issuer, "alice", m.ID) }},
		{"UserHandle", func() error { _, err := s.UserHandle(ctx, sc.issuer, "bob", randomBytes(32)); return err }},
		{"PutSession", func() error { return s.PutSession(ctx, sc.session("bob", time.Minute)) }},
		{"TakeSession", func() error { _, err := s.TakeSession(ctx, sc.issuer, "alice", sess.ID); return err }},
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
	mustCreate(t, s, fresh, 20)
	own := randomBytes(32)
	if h, err := s.UserHandle(live, sc.issuer, "bob", own); err != nil || !bytes.Equal(h, own) {
		t.Errorf("UserHandle after a cancelled first call = %x, %v; want the new candidate", h, err)
	}
	if _, err := s.TakeSession(live, sc.issuer, "alice", sess.ID); err != nil {
		t.Errorf("TakeSession after a cancelled take: %v", err)
	}
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
		errs[i] = s.CreateMethod(ctx, cloneMethod(methods[i]), n)
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
		list, err := s.ListMethods(ctx, sc.issuer, "alice", myaccount.TypePasskey)
		if err != nil || len(list) != 20 {
			b.Fatalf("ListMethods = %d methods, %v", len(list), err)
		}
	}
}

// BenchmarkCreateTake measures one enrollment's store calls and its undoing:
// PutSession, TakeSession, CreateMethod and DeleteMethod.
func BenchmarkCreateTake(b *testing.B, s myaccount.Store) {
	sc := newScope()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		sess := sc.session("alice", time.Minute)
		if err := s.PutSession(ctx, sess); err != nil {
			b.Fatalf("PutSession: %v", err)
		}
		if _, err := s.TakeSession(ctx, sc.issuer, "alice", sess.ID); err != nil {
			b.Fatalf("TakeSession: %v", err)
		}
		m := sc.passkey("alice", time.Now())
		if err := s.CreateMethod(ctx, m, 20); err != nil {
			b.Fatalf("CreateMethod: %v", err)
		}
		if err := s.DeleteMethod(ctx, sc.issuer, "alice", m.ID); err != nil {
			b.Fatalf("DeleteMethod: %v", err)
		}
	}
}
