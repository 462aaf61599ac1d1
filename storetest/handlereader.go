package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
)

// testMethodsAndUserHandle checks a store's MethodsAndUserHandle against its
// ListMethods and UserHandle: the same methods, and the one handle of the
// user whichever call stored it.
func testMethodsAndUserHandle(t *testing.T, s myaccount.Store) {
	reader, ok := s.(myaccount.MethodsAndHandleReader)
	if !ok {
		t.Skip("the store does not implement myaccount.MethodsAndHandleReader")
	}
	sc := newScope()
	ctx := ctxFor(t)
	first := randomBytes(32)
	list, h, err := reader.MethodsAndUserHandle(ctx, sc.issuer, "alice", "passkey", bytes.Clone(first))
	if err != nil || len(list) != 0 || !bytes.Equal(h, first) {
		t.Fatalf("first MethodsAndUserHandle = %d methods, %x, %v; want none and the candidate %x", len(list), h, err, first)
	}
	base := time.Now()
	passkeys := []*myaccount.Method{sc.passkey("alice", base), sc.passkey("alice", base.Add(time.Millisecond))}
	totp := sc.other("alice", "totp", base.Add(2*time.Millisecond))
	for _, m := range append(passkeys, totp, sc.passkey("bob", base)) {
		mustCreate(t, s, m, 20)
	}
	for _, typ := range []string{"passkey", "totp", ""} {
		list, h, err := reader.MethodsAndUserHandle(ctx, sc.issuer, "alice", typ, randomBytes(32))
		if err != nil || !bytes.Equal(h, first) {
			t.Fatalf("MethodsAndUserHandle(%q) handle = %x, %v; want the first candidate %x", typ, h, err, first)
		}
		wantList(t, list, mustList(t, s, sc.issuer, "alice", typ)...)
	}
	if h, err := s.UserHandle(ctx, sc.issuer, "alice", randomBytes(32)); err != nil || !bytes.Equal(h, first) {
		t.Fatalf("UserHandle after MethodsAndUserHandle = %x, %v; want %x", h, err, first)
	}
	// bob's handle was stored by UserHandle.
	bobs, err := s.UserHandle(ctx, sc.issuer, "bob", randomBytes(32))
	if err != nil {
		t.Fatal(err)
	}
	if _, h, err := reader.MethodsAndUserHandle(ctx, sc.issuer, "bob", "", randomBytes(32)); err != nil || !bytes.Equal(h, bobs) {
		t.Fatalf("MethodsAndUserHandle after UserHandle = %x, %v; want %x", h, err, bobs)
	}

	// Concurrent first calls of both kinds for a new user agree.
	const n = 20
	got := make([][]byte, n)
	errs := make([]error, n)
	parallel(n, func(i int) {
		if i%2 == 0 {
			_, got[i], errs[i] = reader.MethodsAndUserHandle(ctx, sc.issuer, "carol", "", randomBytes(32))
		} else {
			got[i], errs[i] = s.UserHandle(ctx, sc.issuer, "carol", randomBytes(32))
		}
	})
	for i := range n {
		if errs[i] != nil || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("concurrent first calls: %x (%v) and %x", got[i], errs[i], got[0])
		}
	}
}
