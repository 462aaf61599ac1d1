package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
)

// This file checks Store.SetSecret, how a password is changed. Its helpers
// are its own (prefixed secret), so it depends on nothing else in the suite.

// testSetSecret checks that SetSecret replaces a method's secret, keeps the
// history it is asked to, and marks the session used in the same step.
func testSetSecret(t *testing.T, s myaccount.Store) {
	ctx := secretCtx(t)
	issuer := "https://storetest-secret-" + rand.Text()[:10] + ".example/"
	m := &myaccount.Method{
		ID: "password" + "|dev_" + rand.Text()[:16], Issuer: issuer, UserID: "alice",
		Type: "password", IdentityUserID: "alice",
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond), Secret: []byte("hash-A"),
	}
	m.SecretSetAt = m.CreatedAt
	if err := s.CreateMethod(ctx, m, 1, secretSession(issuer, "alice")); err != nil {
		t.Fatalf("CreateMethod: %v", err)
	}
	set := func(secret string, keep int, session myaccount.SessionRef) (*myaccount.Method, time.Time, error) {
		at := time.Now().UTC().Truncate(time.Millisecond).Add(time.Second)
		got, err := s.SetSecret(ctx, issuer, "alice", m.ID, []byte(secret), at, keep, session)
		return got, at, err
	}
	want := func(got *myaccount.Method, secret string, at time.Time, history ...string) {
		t.Helper()
		if got == nil || got.ID != m.ID || got.Type != "password" || !got.CreatedAt.Equal(m.CreatedAt) ||
			!bytes.Equal(got.Secret, []byte(secret)) || !got.SecretSetAt.Equal(at) || len(got.SecretHistory) != len(history) {
			t.Fatalf("method %+v, want secret %q set at %v with history %q", got, secret, at, history)
		}
		for i, h := range history {
			if !bytes.Equal(got.SecretHistory[i], []byte(h)) {
				t.Fatalf("history %q, want %q", got.SecretHistory, history)
			}
		}
	}

	session := secretSession(issuer, "alice")
	got, at, err := set("hash-B", 2, session)
	if err != nil {
		t.Fatalf("SetSecret: %v", err)
	}
	want(got, "hash-B", at, "hash-A")
	stored, err := s.GetMethod(ctx, issuer, "alice", m.ID)
	if err != nil {
		t.Fatal(err)
	}
	want(stored, "hash-B", at, "hash-A")

	// The session is used now, and a refused call changes nothing.
	if _, _, err := set("hash-X", 2, session); !errors.Is(err, myaccount.ErrSessionUsed) {
		t.Fatalf("SetSecret with a used session: %v, want ErrSessionUsed", err)
	}
	stored, _ = s.GetMethod(ctx, issuer, "alice", m.ID)
	want(stored, "hash-B", at, "hash-A")

	// The history is newest first and cut to keepHistory; 0 empties it.
	if _, _, err = set("hash-C", 2, secretSession(issuer, "alice")); err != nil {
		t.Fatal(err)
	}
	got, at, err = set("hash-D", 2, secretSession(issuer, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	want(got, "hash-D", at, "hash-C", "hash-B")
	got.SecretHistory[0][0] = 'X' // the caller's copy, not the store's
	if stored, err = s.GetMethod(ctx, issuer, "alice", m.ID); err != nil {
		t.Fatal(err)
	}
	want(stored, "hash-D", at, "hash-C", "hash-B")
	got, at, err = set("hash-E", 0, secretSession(issuer, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	want(got, "hash-E", at)

	// An unknown id, or another user's, is ErrNotFound and leaves the session unused.
	unused := secretSession(issuer, "alice")
	if _, err := s.SetSecret(ctx, issuer, "alice", "password"+"|dev_nosuchmethod00", []byte("x"), at, 1, unused); !errors.Is(err, myaccount.ErrNotFound) {
		t.Fatalf("SetSecret of an unknown id: %v, want ErrNotFound", err)
	}
	bob := secretSession(issuer, "bob")
	if _, err := s.SetSecret(ctx, issuer, "bob", m.ID, []byte("x"), at, 1, bob); !errors.Is(err, myaccount.ErrNotFound) {
		t.Fatalf("SetSecret of another user's method: %v, want ErrNotFound", err)
	}
	got, at, err = set("hash-F", 1, unused)
	if err != nil {
		t.Fatalf("the session of a refused SetSecret: %v", err)
	}
	want(got, "hash-F", at, "hash-E")

	// A session a create used is used for SetSecret too.
	created := secretSession(issuer, "alice")
	other := *m
	other.ID, other.Type, other.Secret = "recovery-code"+"|dev_"+rand.Text()[:16], "recovery-code", []byte("code")
	if err := s.CreateMethod(ctx, &other, 1, created); err != nil {
		t.Fatal(err)
	}
	if _, _, err := set("hash-X", 1, created); !errors.Is(err, myaccount.ErrSessionUsed) {
		t.Fatalf("SetSecret with a session a create used: %v, want ErrSessionUsed", err)
	}
}

// testSetSecretConcurrent checks that of concurrent SetSecret calls with one
// session exactly one succeeds.
func testSetSecretConcurrent(t *testing.T, s myaccount.Store) {
	ctx := secretCtx(t)
	issuer := "https://storetest-secret-" + rand.Text()[:10] + ".example/"
	m := &myaccount.Method{
		ID: "password" + "|dev_" + rand.Text()[:16], Issuer: issuer, UserID: "alice",
		Type: "password", CreatedAt: time.Now().UTC().Truncate(time.Millisecond), Secret: []byte("hash-0"),
	}
	if err := s.CreateMethod(ctx, m, 1, secretSession(issuer, "alice")); err != nil {
		t.Fatal(err)
	}
	session := secretSession(issuer, "alice")
	const callers = 8
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			_, errs[i] = s.SetSecret(ctx, issuer, "alice", m.ID, []byte{'h', byte('1' + i)}, time.Now(), 5, session)
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("SetSecret succeeded for callers %d and %d with one session", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, myaccount.ErrSessionUsed):
			t.Fatalf("caller %d: %v, want ErrSessionUsed", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no concurrent SetSecret succeeded")
	}
	stored, err := s.GetMethod(ctx, issuer, "alice", m.ID)
	if err != nil || !bytes.Equal(stored.Secret, []byte{'h', byte('1' + won)}) || len(stored.SecretHistory) != 1 {
		t.Fatalf("stored %+v, %v: want the winner's secret and one old one", stored, err)
	}
}

func secretCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func secretSession(issuer, user string) myaccount.SessionRef {
	return myaccount.SessionRef{ID: rand.Text() + rand.Text(), Issuer: issuer, UserID: user, ExpiresAt: time.Now().Add(5 * time.Minute)}
}
