package myaccount

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Method is one authentication method of a user, as a [Store] keeps it.
type Method struct {
	ID     string // "passkey|dev_" + 16 alphanumerics
	Issuer string // the token issuer: methods are scoped to issuer and user
	UserID string // the token subject
	Type   string // "passkey"
	// Name is the user's label for the method; empty when never set.
	Name           string
	IdentityUserID string
	CreatedAt      time.Time
	// Passkey holds the credential when Type is "passkey".
	Passkey Passkey
}

// Passkey is the WebAuthn credential of a passkey method.
type Passkey struct {
	CredentialID      []byte
	PublicKey         []byte // COSE_Key
	AAGUID            []byte // 16 bytes
	SignCount         uint32
	BackupEligible    bool
	BackedUp          bool
	Transports        []string
	AttestationFormat string
	UserAgent         string
	RelyingPartyID    string
	UserHandle        []byte
}

// MethodUpdate names the fields an update changes; nil fields are left alone.
type MethodUpdate struct {
	Name *string
}

// Session is a pending enrollment: the server-side half of an auth_session.
type Session struct {
	// ID is the SHA-256 of the auth_session the client holds, hex encoded, so a
	// store leak does not hand out usable sessions.
	ID        string
	Issuer    string
	UserID    string
	Type      string // the method type being enrolled
	ExpiresAt time.Time
	// Data is the type-specific state (for passkeys, the WebAuthn ceremony), opaque to the store.
	Data []byte
}

// Store keeps authentication methods, user handles and enrollment sessions. Every
// method is safe for concurrent use and returns ctx.Err() promptly once ctx is done.
// Backends wrap connection failures with [ErrUnavailable]. Returned values are the
// caller's to keep: a store never aliases them.
type Store interface {
	// CreateMethod stores m unless the user (m.Issuer, m.UserID) already has max
	// methods of m.Type, which gives [ErrLimitReached]; the count and the insert are
	// one atomic step, so concurrent creates never exceed max. A passkey whose
	// credential id is already registered for the same relying party, by any user,
	// gives [ErrCredentialExists]. On error nothing is stored.
	CreateMethod(ctx context.Context, m *Method, max int) error
	// ListMethods returns the user's methods, oldest first (ties by ID); typ filters
	// by type unless empty. No methods is an empty slice and no error.
	ListMethods(ctx context.Context, issuer, userID, typ string) ([]*Method, error)
	// GetMethod returns one method of the user, or [ErrNotFound] (also when the id
	// belongs to another user or issuer).
	GetMethod(ctx context.Context, issuer, userID, id string) (*Method, error)
	// UpdateMethod changes only the fields set in u and returns the method as
	// stored afterwards; concurrent updates of different fields both survive.
	// [ErrNotFound] as for GetMethod.
	UpdateMethod(ctx context.Context, issuer, userID, id string, u MethodUpdate) (*Method, error)
	// DeleteMethod removes one method of the user, or returns [ErrNotFound].
	DeleteMethod(ctx context.Context, issuer, userID, id string) error
	// UserHandle returns the user's WebAuthn user handle. The first call for a user
	// stores candidate and returns it; later calls, concurrent ones included,
	// return the handle stored first.
	UserHandle(ctx context.Context, issuer, userID string, candidate []byte) ([]byte, error)
	// PutSession stores s until s.ExpiresAt.
	PutSession(ctx context.Context, s *Session) error
	// TakeSession atomically gets and deletes the session with this id if it
	// belongs to issuer and userID and has not expired; of concurrent callers at
	// most one gets it. Anything else is [ErrNotFound], and a session of another
	// user is left in place.
	TakeSession(ctx context.Context, issuer, userID, id string) (*Session, error)
}

// MemoryStore is the in-memory [Store], the default. Its state lives as long as the
// process; expired sessions are dropped as new ones arrive, with no goroutine.
type MemoryStore struct {
	mu          sync.Mutex
	methods     map[userKey][]*Method // per user, in creation order
	credentials map[string]bool       // relying party + "\x00" + credential id
	handles     map[userKey][]byte
	sessions    map[string]*Session
	// sessionSweepAt is the session count at which expired sessions are swept;
	// doubling it after each sweep keeps the sweep's cost amortised O(1) per put.
	sessionSweepAt int
}

type userKey struct{ issuer, userID string }

// NewMemoryStore returns an empty [MemoryStore].
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		methods:        make(map[userKey][]*Method),
		credentials:    make(map[string]bool),
		handles:        make(map[userKey][]byte),
		sessions:       make(map[string]*Session),
		sessionSweepAt: 64,
	}
}

func credentialKey(rpID string, credentialID []byte) string {
	return rpID + "\x00" + string(credentialID)
}

// CreateMethod implements [Store].
func (s *MemoryStore) CreateMethod(ctx context.Context, m *Method, max int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := userKey{m.Issuer, m.UserID}
	count := 0
	for _, existing := range s.methods[key] {
		if existing.Type == m.Type {
			count++
		}
	}
	if count >= max {
		return ErrLimitReached
	}
	var credKey string
	if m.Type == TypePasskey {
		credKey = credentialKey(m.Passkey.RelyingPartyID, m.Passkey.CredentialID)
		if s.credentials[credKey] {
			return ErrCredentialExists
		}
		s.credentials[credKey] = true
	}
	s.methods[key] = append(s.methods[key], cloneMethod(m))
	return nil
}

// ListMethods implements [Store].
func (s *MemoryStore) ListMethods(ctx context.Context, issuer, userID, typ string) ([]*Method, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.methods[userKey{issuer, userID}]
	selected := make([]*Method, 0, len(all))
	for _, m := range all {
		if typ == "" || m.Type == typ {
			selected = append(selected, m)
		}
	}
	// Creation order is not CreatedAt order when concurrent creates interleave.
	slices.SortStableFunc(selected, func(a, b *Method) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out := copyMethods(selected)
	return out, nil
}

// GetMethod implements [Store].
func (s *MemoryStore) GetMethod(ctx context.Context, issuer, userID, id string) (*Method, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.find(issuer, userID, id)
	if m == nil {
		return nil, ErrNotFound
	}
	return cloneMethod(m), nil
}

// UpdateMethod implements [Store].
func (s *MemoryStore) UpdateMethod(ctx context.Context, issuer, userID, id string, u MethodUpdate) (*Method, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.find(issuer, userID, id)
	if m == nil {
		return nil, ErrNotFound
	}
	if u.Name != nil {
		m.Name = *u.Name
	}
	return cloneMethod(m), nil
}

// DeleteMethod implements [Store].
func (s *MemoryStore) DeleteMethod(ctx context.Context, issuer, userID, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, m := s.find(issuer, userID, id)
	if m == nil {
		return ErrNotFound
	}
	key := userKey{issuer, userID}
	s.methods[key] = slices.Delete(s.methods[key], i, i+1)
	if len(s.methods[key]) == 0 {
		delete(s.methods, key)
	}
	if m.Type == TypePasskey {
		delete(s.credentials, credentialKey(m.Passkey.RelyingPartyID, m.Passkey.CredentialID))
	}
	return nil
}

// find returns the index and the stored method; the caller holds s.mu.
func (s *MemoryStore) find(issuer, userID, id string) (int, *Method) {
	for i, m := range s.methods[userKey{issuer, userID}] {
		if m.ID == id {
			return i, m
		}
	}
	return -1, nil
}

// UserHandle implements [Store].
func (s *MemoryStore) UserHandle(ctx context.Context, issuer, userID string, candidate []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := userKey{issuer, userID}
	if h, ok := s.handles[key]; ok {
		return slices.Clone(h), nil
	}
	s.handles[key] = slices.Clone(candidate)
	return slices.Clone(candidate), nil
}

// PutSession implements [Store].
func (s *MemoryStore) PutSession(ctx context.Context, sess *Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) >= s.sessionSweepAt {
		now := time.Now()
		for id, old := range s.sessions {
			if !now.Before(old.ExpiresAt) {
				delete(s.sessions, id)
			}
		}
		s.sessionSweepAt = max(64, 2*len(s.sessions))
	}
	c := *sess
	c.Data = slices.Clone(sess.Data)
	s.sessions[sess.ID] = &c
	return nil
}

// TakeSession implements [Store].
func (s *MemoryStore) TakeSession(ctx context.Context, issuer, userID, id string) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok || sess.Issuer != issuer || sess.UserID != userID {
		return nil, ErrNotFound
	}
	delete(s.sessions, id)
	if !time.Now().Before(sess.ExpiresAt) {
		return nil, ErrNotFound
	}
	return sess, nil
}

func cloneMethod(m *Method) *Method {
	return copyMethods([]*Method{m})[0]
}

// copyMethods deep-copies methods in four allocations whatever their number: the
// methods in one array, their bytes in one slab and their transports in another.
// Each copied slice is capped at its length, so appending to one never writes
// into its neighbour.
func copyMethods(src []*Method) []*Method {
	var byteCount, transportCount int
	for _, m := range src {
		p := &m.Passkey
		byteCount += len(p.CredentialID) + len(p.PublicKey) + len(p.AAGUID) + len(p.UserHandle)
		transportCount += len(p.Transports)
	}
	methods := make([]Method, len(src))
	out := make([]*Method, len(src))
	slab := make([]byte, 0, byteCount)
	transports := make([]string, 0, transportCount)
	carve := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(slab)
		slab = append(slab, b...)
		return slab[start:len(slab):len(slab)]
	}
	for i, m := range src {
		methods[i] = *m
		p := &methods[i].Passkey
		p.CredentialID, p.PublicKey = carve(p.CredentialID), carve(p.PublicKey)
		p.AAGUID, p.UserHandle = carve(p.AAGUID), carve(p.UserHandle)
		if p.Transports != nil {
			start := len(transports)
			transports = append(transports, p.Transports...)
			p.Transports = transports[start:len(transports):len(transports)]
		}
		out[i] = &methods[i]
	}
	return out
}
