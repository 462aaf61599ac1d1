package myaccount

import (
	"context"
	"slices"
	"strings"
	"time"
)

// memoryConnected is the part of a [memoryStore] that keeps connected
// accounts and their flows, under the store's mutex. Its maps are made on
// first use, so the zero value is ready.
type memoryConnected struct {
	accounts map[userKey][]*ConnectedAccount
	flows    map[string]*ConnectFlow // by Handle
	// flowCount counts each user's flows, so that one user cannot fill the
	// process; sweepAt is the number of flows at which expired ones are
	// dropped, doubled after each sweep to keep its cost amortised O(1).
	flowCount map[userKey]int
	sweepAt   int
}

// maxFlowsPerUser bounds the unexpired connect flows of one user in a
// [memoryStore]; a person starts a handful.
const maxFlowsPerUser = 100

func (c *memoryConnected) init() {
	if c.flows == nil {
		c.accounts = make(map[userKey][]*ConnectedAccount)
		c.flows = make(map[string]*ConnectFlow)
		c.flowCount = make(map[userKey]int)
		c.sweepAt = 64
	}
}

// sweep drops expired flows; the caller holds the store's mutex.
func (c *memoryConnected) sweep(now time.Time) {
	for h, f := range c.flows {
		if !now.Before(f.ExpiresAt) {
			c.dropFlow(h, f)
		}
	}
	c.sweepAt = max(64, 2*len(c.flows))
}

func (c *memoryConnected) dropFlow(handle string, f *ConnectFlow) {
	delete(c.flows, handle)
	key := userKey{f.Issuer, f.UserID}
	if c.flowCount[key]--; c.flowCount[key] <= 0 {
		delete(c.flowCount, key)
	}
}

// liveFlow returns the unexpired flow of handle, or nil.
func (c *memoryConnected) liveFlow(handle string) *ConnectFlow {
	f := c.flows[handle]
	if f == nil || !time.Now().Before(f.ExpiresAt) {
		return nil
	}
	return f
}

func cloneFlow(f *ConnectFlow) *ConnectFlow {
	out := *f
	out.Sealed = slices.Clone(f.Sealed)
	return &out
}

func cloneAccount(a *ConnectedAccount) *ConnectedAccount {
	out := *a
	out.Scopes = slices.Clone(a.Scopes)
	out.Tokens = slices.Clone(a.Tokens)
	return &out
}

// CreateConnectFlow implements [Store].
func (s *memoryStore) CreateConnectFlow(ctx context.Context, f *ConnectFlow) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.connected
	c.init()
	key := userKey{f.Issuer, f.UserID}
	if len(c.flows) >= c.sweepAt || c.flowCount[key] >= maxFlowsPerUser {
		c.sweep(time.Now())
	}
	if c.flowCount[key] >= maxFlowsPerUser {
		return ErrRateLimited
	}
	c.flows[f.Handle] = cloneFlow(f)
	c.flowCount[key]++
	return nil
}

// ConnectFlow implements [Store].
func (s *memoryStore) ConnectFlow(ctx context.Context, handle string) (*ConnectFlow, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connected.init()
	f := s.connected.liveFlow(handle)
	if f == nil {
		return nil, ErrNotFound
	}
	return cloneFlow(f), nil
}

// ReplaceConnectFlow implements [Store].
func (s *memoryStore) ReplaceConnectFlow(ctx context.Context, handle string, next *ConnectFlow) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.connected
	c.init()
	f := c.liveFlow(handle)
	if f == nil || f.ID != next.ID {
		return ErrSessionUsed
	}
	delete(c.flows, handle)
	n := cloneFlow(next)
	n.Issuer, n.UserID = f.Issuer, f.UserID // a flow stays its user's
	c.flows[n.Handle] = n
	return nil
}

// DeleteConnectFlow implements [Store].
func (s *memoryStore) DeleteConnectFlow(ctx context.Context, handle string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.connected
	c.init()
	f := c.flows[handle]
	if f == nil {
		return ErrSessionUsed
	}
	c.dropFlow(handle, f)
	return nil
}

// CompleteConnectFlow implements [Store].
func (s *memoryStore) CompleteConnectFlow(ctx context.Context, handle string, a *ConnectedAccount, limit int) (*ConnectedAccount, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.connected
	c.init()
	f := c.liveFlow(handle)
	if f == nil {
		return nil, ErrSessionUsed
	}
	key := userKey{a.Issuer, a.UserID}
	accounts := c.accounts[key]
	for _, existing := range accounts {
		if existing.Connection == a.Connection && existing.Subject == a.Subject {
			existing.Scopes = slices.Clone(a.Scopes)
			existing.ExpiresAt = a.ExpiresAt
			existing.Tokens = slices.Clone(a.Tokens)
			existing.Revoked = false
			existing.Version++
			c.dropFlow(handle, f)
			return cloneAccount(existing), nil
		}
	}
	if len(accounts) >= limit {
		return nil, ErrLimitReached
	}
	c.accounts[key] = append(accounts, cloneAccount(a))
	c.dropFlow(handle, f)
	return cloneAccount(a), nil
}

// ListConnectedAccounts implements [Store].
func (s *memoryStore) ListConnectedAccounts(ctx context.Context, issuer, userID string) ([]*ConnectedAccount, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connected.init()
	stored := s.connected.accounts[userKey{issuer, userID}]
	out := make([]*ConnectedAccount, len(stored))
	for i, a := range stored {
		out[i] = cloneAccount(a)
	}
	slices.SortStableFunc(out, func(a, b *ConnectedAccount) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// findAccount returns the index and the stored account; the caller holds s.mu.
func (s *memoryStore) findAccount(issuer, userID, id string) (int, *ConnectedAccount) {
	s.connected.init()
	for i, a := range s.connected.accounts[userKey{issuer, userID}] {
		if a.ID == id {
			return i, a
		}
	}
	return -1, nil
}

// GetConnectedAccount implements [Store].
func (s *memoryStore) GetConnectedAccount(ctx context.Context, issuer, userID, id string) (*ConnectedAccount, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, a := s.findAccount(issuer, userID, id)
	if a == nil {
		return nil, ErrNotFound
	}
	return cloneAccount(a), nil
}

// DeleteConnectedAccount implements [Store].
func (s *memoryStore) DeleteConnectedAccount(ctx context.Context, issuer, userID, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, a := s.findAccount(issuer, userID, id)
	if a == nil {
		return ErrNotFound
	}
	key := userKey{issuer, userID}
	s.connected.accounts[key] = slices.Delete(s.connected.accounts[key], i, i+1)
	if len(s.connected.accounts[key]) == 0 {
		delete(s.connected.accounts, key)
	}
	return nil
}

// SwapConnectedAccountTokens implements [Store].
func (s *memoryStore) SwapConnectedAccountTokens(ctx context.Context, issuer, userID, id string, version int64, tokens []byte, revoked bool, expiresAt time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, a := s.findAccount(issuer, userID, id)
	if a == nil {
		return false, ErrNotFound
	}
	if a.Version != version {
		return false, nil
	}
	a.Tokens, a.Revoked, a.Version = slices.Clone(tokens), revoked, a.Version+1
	if !expiresAt.IsZero() {
		a.ExpiresAt = expiresAt
	}
	return true, nil
}
