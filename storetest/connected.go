package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
)

// RunConnectedAccounts runs the conformance suite of the
// [myaccount.Store] part of a store: connect flows (single
// use, expiring, one winner among concurrent steps) and connected accounts
// (the per-user limit, one account per connection and subject, and the
// compare-and-swap of their tokens).
func RunConnectedAccounts(t *testing.T, newStore func(t *testing.T) myaccount.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s myaccount.Store)
	}{
		{"FlowSteps", testFlowSteps},
		{"FlowStepConcurrent", testFlowStepConcurrent},
		{"FlowExpires", testFlowExpires},
		{"CompleteAddsThenUpdates", testCompleteAddsThenUpdates},
		{"CompleteConcurrent", testCompleteConcurrent},
		{"AccountLimitConcurrent", testAccountLimitConcurrent},
		{"AccountsScoped", testAccountsScoped},
		{"SwapTokensConcurrent", testSwapTokensConcurrent},
		{"AccountsReturnCopies", testAccountsReturnCopies},
		{"ConnectedCanceledContext", testConnectedCanceled},
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

func hexHandle() string { return fmt.Sprintf("%x", randomBytes(32)) }

// flow returns a new flow of user that ends after ttl.
func (sc scope) flow(user string, ttl time.Duration) *myaccount.ConnectFlow {
	return &myaccount.ConnectFlow{
		ID: hexHandle(), Issuer: sc.issuer, UserID: user, Handle: hexHandle(),
		ExpiresAt: time.Now().Add(ttl).UTC().Truncate(time.Millisecond), Sealed: randomBytes(200),
	}
}

// account returns a new account of user at connection for subject.
func (sc scope) account(user, connection, subject string) *myaccount.ConnectedAccount {
	return &myaccount.ConnectedAccount{
		ID: "cac_" + randomAlphanumeric(20), Issuer: sc.issuer, UserID: user, Connection: connection, Subject: subject,
		Scopes: []string{"openid", "offline_access"}, CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
		Tokens: randomBytes(120),
	}
}

func mustCreateFlow(t *testing.T, s myaccount.Store, f *myaccount.ConnectFlow) {
	t.Helper()
	if err := s.CreateConnectFlow(ctxFor(t), f); err != nil {
		t.Fatalf("CreateConnectFlow: %v", err)
	}
}

// mustLink stores a through a new flow and returns the account as stored.
func mustLink(t *testing.T, s myaccount.Store, sc scope, a *myaccount.ConnectedAccount, limit int) *myaccount.ConnectedAccount {
	t.Helper()
	f := sc.flow(a.UserID, time.Minute)
	mustCreateFlow(t, s, f)
	got, err := s.CompleteConnectFlow(ctxFor(t), f.Handle, a, limit)
	if err != nil {
		t.Fatalf("CompleteConnectFlow: %v", err)
	}
	return got
}

func testFlowSteps(t *testing.T, s myaccount.Store) {
	sc, ctx := newScope(), ctxFor(t)
	f := sc.flow("alice", time.Minute)
	mustCreateFlow(t, s, f)
	got, err := s.ConnectFlow(ctx, f.Handle)
	if err != nil || got.ID != f.ID || got.Issuer != f.Issuer || got.UserID != "alice" || !bytes.Equal(got.Sealed, f.Sealed) || !got.ExpiresAt.Equal(f.ExpiresAt) {
		t.Fatalf("ConnectFlow = %+v, %v", got, err)
	}
	if _, err := s.ConnectFlow(ctx, hexHandle()); !errors.Is(err, myaccount.ErrNotFound) {
		t.Errorf("unknown handle: %v", err)
	}
	next := *f
	next.Handle, next.Sealed = hexHandle(), randomBytes(300)
	if err := s.ReplaceConnectFlow(ctx, f.Handle, &next); err != nil {
		t.Fatalf("ReplaceConnectFlow: %v", err)
	}
	if _, err := s.ConnectFlow(ctx, f.Handle); !errors.Is(err, myaccount.ErrNotFound) {
		t.Errorf("the replaced handle still finds the flow: %v", err)
	}
	if err := s.ReplaceConnectFlow(ctx, f.Handle, &next); !errors.Is(err, myaccount.ErrSessionUsed) {
		t.Errorf("replacing a replaced handle: %v", err)
	}
	other := next
	other.ID = hexHandle()
	if err := s.ReplaceConnectFlow(ctx, next.Handle, &other); !errors.Is(err, myaccount.ErrSessionUsed) {
		t.Errorf("replacing with another flow's id: %v", err)
	}
	if got, err := s.ConnectFlow(ctx, next.Handle); err != nil || !bytes.Equal(got.Sealed, next.Sealed) {
		t.Fatalf("the new handle: %+v, %v", got, err)
	}
	if err := s.DeleteConnectFlow(ctx, next.Handle); err != nil {
		t.Fatalf("DeleteConnectFlow: %v", err)
	}
	if err := s.DeleteConnectFlow(ctx, next.Handle); !errors.Is(err, myaccount.ErrSessionUsed) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.CompleteConnectFlow(ctx, next.Handle, sc.account("alice", "c", "s"), 20); !errors.Is(err, myaccount.ErrSessionUsed) {
		t.Errorf("completing a deleted flow: %v", err)
	}
}

// testFlowStepConcurrent races replaces and deletes of one handle: exactly
// one wins.
func testFlowStepConcurrent(t *testing.T, s myaccount.Store) {
	sc, ctx := newScope(), ctxFor(t)
	f := sc.flow("alice", time.Minute)
	mustCreateFlow(t, s, f)
	const n = 16
	var wins sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wins.Go(func() {
			if i%4 == 0 {
				results <- s.DeleteConnectFlow(ctx, f.Handle)
				return
			}
			next := *f
			next.Handle = hexHandle()
			results <- s.ReplaceConnectFlow(ctx, f.Handle, &next)
		})
	}
	wins.Wait()
	close(results)
	ok := 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, myaccount.ErrSessionUsed):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent steps of one handle succeeded, want 1", ok)
	}
}

func testFlowExpires(t *testing.T, s myaccount.Store) {
	sc, ctx := newScope(), ctxFor(t)
	f := sc.flow("alice", 50*time.Millisecond)
	mustCreateFlow(t, s, f)
	time.Sleep(100 * time.Millisecond)
	if _, err := s.ConnectFlow(ctx, f.Handle); !errors.Is(err, myaccount.ErrNotFound) {
		t.Errorf("expired flow: %v", err)
	}
	next := *f
	next.Handle = hexHandle()
	if err := s.ReplaceConnectFlow(ctx, f.Handle, &next); !errors.Is(err, myaccount.ErrSessionUsed) {
		t.Errorf("replacing an expired flow: %v", err)
	}
	if _, err := s.CompleteConnectFlow(ctx, f.Handle, sc.account("alice", "c", "s"), 20); !errors.Is(err, myaccount.ErrSessionUsed) {
		t.Errorf("completing an expired flow: %v", err)
	}
	if got, _ := s.ListConnectedAccounts(ctx, sc.issuer, "alice"); len(got) != 0 {
		t.Errorf("an expired flow stored an account")
	}
}

func testCompleteAddsThenUpdates(t *testing.T, s myaccount.Store) {
	sc, ctx := newScope(), ctxFor(t)
	first := sc.account("alice", "google", "g-1")
	first.ExpiresAt = time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	stored := mustLink(t, s, sc, first, 20)
	if stored.ID != first.ID || !bytes.Equal(stored.Tokens, first.Tokens) || !stored.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("stored %+v", stored)
	}
	// The same connection and subject again: the account is updated.
	again := sc.account("alice", "google", "g-1")
	again.Scopes = []string{"openid"}
	updated := mustLink(t, s, sc, again, 20)
	if updated.ID != first.ID || !updated.CreatedAt.Equal(first.CreatedAt) || !bytes.Equal(updated.Tokens, again.Tokens) ||
		!slices.Equal(updated.Scopes, again.Scopes) || updated.Version != stored.Version+1 || !updated.ExpiresAt.IsZero() {
		t.Fatalf("reconnected %+v, first %+v", updated, stored)
	}
	// Another subject or connection: another account.
	mustLink(t, s, sc, sc.account("alice", "google", "g-2"), 20)
	mustLink(t, s, sc, sc.account("alice", "github", "g-1"), 20)
	list, err := s.ListConnectedAccounts(ctx, sc.issuer, "alice")
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %d, %v", len(list), err)
	}
	// At the limit a new account is refused and the flow left; the same
	// account again is still updated.
	f := sc.flow("alice", time.Minute)
	mustCreateFlow(t, s, f)
	if _, err := s.CompleteConnectFlow(ctx, f.Handle, sc.account("alice", "google", "g-3"), 3); !errors.Is(err, myaccount.ErrLimitReached) {
		t.Fatalf("a 4th account with limit 3: %v", err)
	}
	if got, err := s.CompleteConnectFlow(ctx, f.Handle, sc.account("alice", "google", "g-2"), 3); err != nil || got.Subject != "g-2" {
		t.Fatalf("updating at the limit: %v", err)
	}
	// A revoked account connected again is no longer revoked.
	if ok, err := s.SwapConnectedAccountTokens(ctx, sc.issuer, "alice", first.ID, updated.Version, updated.Tokens, true, time.Now()); !ok || err != nil {
		t.Fatalf("swap: %v %v", ok, err)
	}
	if got := mustLink(t, s, sc, sc.account("alice", "google", "g-1"), 20); got.Revoked {
		t.Errorf("reconnected account is still revoked")
	}
}

func testCompleteConcurrent(t *testing.T, s myaccount.Store) {
	sc, ctx := newScope(), ctxFor(t)
	f := sc.flow("alice", time.Minute)
	mustCreateFlow(t, s, f)
	const n = 12
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.CompleteConnectFlow(ctx, f.Handle, sc.account("alice", "google", fmt.Sprint("s", i)), 20)
			results <- err
		})
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, myaccount.ErrSessionUsed):
			t.Errorf("unexpected error: %v", err)
		}
	}
	list, _ := s.ListConnectedAccounts(ctx, sc.issuer, "alice")
	if ok != 1 || len(list) != 1 {
		t.Errorf("%d completes of one flow succeeded and %d accounts stored, want 1 and 1", ok, len(list))
	}
}

func testAccountLimitConcurrent(t *testing.T, s myaccount.Store) {
	sc, ctx := newScope(), ctxFor(t)
	const n, limit = 12, 5
	flows := make([]*myaccount.ConnectFlow, n)
	for i := range flows {
		flows[i] = sc.flow("alice", time.Minute)
		mustCreateFlow(t, s, flows[i])
	}
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i, f := range flows {
		wg.Go(func() {
			_, err := s.CompleteConnectFlow(ctx, f.Handle, sc.account("alice", "google", fmt.Sprint("s", i)), limit)
			results <- err
		})
	}
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil && !errors.Is(err, myaccount.ErrLimitReached) {
			t.Errorf("unexpected error: %v", err)
		}
	}
	if list, _ := s.ListConnectedAccounts(ctx, sc.issuer, "alice"); len(list) != limit {
		t.Errorf("%d accounts stored with limit %d", len(list), limit)
	}
}

func testAccountsScoped(t *testing.T, s myaccount.Store) {
	sc, ctx := newScope(), ctxFor(t)
	a := sc.account("alice", "google", "g")
	a.CreatedAt = a.CreatedAt.Add(time.Second)
	b := sc.account("alice", "github", "h")
	mustLink(t, s, sc, a, 20)
	mustLink(t, s, sc, b, 20)
	list, err := s.ListConnectedAccounts(ctx, sc.issuer, "alice")
	if err != nil || len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
		t.Fatalf("list is not oldest first: %v", err)
	}
	other := newScope()
	for _, who := range []struct{ issuer, user string }{{sc.issuer, "bob"}, {other.issuer, "alice"}} {
		if _, err := s.GetConnectedAccount(ctx, who.issuer, who.user, a.ID); !errors.Is(err, myaccount.ErrNotFound) {
			t.Errorf("another user gets the account: %v", err)
		}
		if err := s.DeleteConnectedAccount(ctx, who.issuer, who.user, a.ID); !errors.Is(err, myaccount.ErrNotFound) {
			t.Errorf("another user deletes the account: %v", err)
		}
		if _, err := s.SwapConnectedAccountTokens(ctx, who.issuer, who.user, a.ID, 0, nil, false, time.Time{}); !errors.Is(err, myaccount.ErrNotFound) {
			t.Errorf("another user swaps the tokens: %v", err)
		}
		if got, err := s.ListConnectedAccounts(ctx, who.issuer, who.user); err != nil || got == nil || len(got) != 0 {
			t.Errorf("another user's list: %v, %v", got, err)
		}
	}
	if err := s.DeleteConnectedAccount(ctx, sc.issuer, "alice", a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetConnectedAccount(ctx, sc.issuer, "alice", a.ID); !errors.Is(err, myaccount.ErrNotFound) {
		t.Errorf("deleted account: %v", err)
	}
	if err := s.DeleteConnectedAccount(ctx, sc.issuer, "alice", a.ID); !errors.Is(err, myaccount.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

// testSwapTokensConcurrent races swaps from one version: exactly one wins,
// and its tokens are the ones stored.
func testSwapTokensConcurrent(t *testing.T, s myaccount.Store) {
	sc, ctx := newScope(), ctxFor(t)
	a := mustLink(t, s, sc, sc.account("alice", "google", "g"), 20)
	const n = 16
	tokens := make([][]byte, n)
	swapped := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		tokens[i] = randomBytes(100)
		wg.Go(func() {
			ok, err := s.SwapConnectedAccountTokens(ctx, sc.issuer, "alice", a.ID, a.Version, tokens[i], false, time.Time{})
			if err != nil {
				t.Errorf("swap: %v", err)
			}
			swapped[i] = ok
		})
	}
	wg.Wait()
	winner := -1
	for i, ok := range swapped {
		if ok {
			if winner >= 0 {
				t.Fatalf("swaps %d and %d both won", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no swap won")
	}
	got, err := s.GetConnectedAccount(ctx, sc.issuer, "alice", a.ID)
	if err != nil || !bytes.Equal(got.Tokens, tokens[winner]) || got.Version != a.Version+1 || got.Revoked {
		t.Fatalf("after the race: %+v, %v", got, err)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	if ok, err := s.SwapConnectedAccountTokens(ctx, sc.issuer, "alice", a.ID, got.Version, got.Tokens, true, at); !ok || err != nil {
		t.Fatalf("marking revoked: %v %v", ok, err)
	}
	if got, _ = s.GetConnectedAccount(ctx, sc.issuer, "alice", a.ID); !got.Revoked || !got.ExpiresAt.Equal(at) {
		t.Errorf("revoked account %+v", got)
	}
}

func testAccountsReturnCopies(t *testing.T, s myaccount.Store) {
	sc, ctx := newScope(), ctxFor(t)
	a := sc.account("alice", "google", "g")
	want := slices.Clone(a.Tokens)
	got := mustLink(t, s, sc, a, 20)
	a.Tokens[0] ^= 1
	got.Tokens[0] ^= 1
	got.Scopes[0] = "changed"
	list, _ := s.ListConnectedAccounts(ctx, sc.issuer, "alice")
	list[0].Tokens[1] ^= 1
	stored, err := s.GetConnectedAccount(ctx, sc.issuer, "alice", a.ID)
	if err != nil || !bytes.Equal(stored.Tokens, want) || stored.Scopes[0] != "openid" {
		t.Errorf("the store aliases what it returns or was given: %+v, %v", stored, err)
	}
}

func testConnectedCanceled(t *testing.T, s myaccount.Store) {
	sc := newScope()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := s.CreateConnectFlow(ctx, sc.flow("alice", time.Minute)); err == nil {
		t.Error("CreateConnectFlow with a cancelled context succeeded")
	}
	if _, err := s.ListConnectedAccounts(ctx, sc.issuer, "alice"); err == nil {
		t.Error("ListConnectedAccounts with a cancelled context succeeded")
	}
	if time.Since(start) > promptly {
		t.Errorf("cancelled calls took %v", time.Since(start))
	}
}
