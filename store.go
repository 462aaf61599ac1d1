package myaccount

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Method is one authentication method of a user, as a [Store] keeps it: one
// record for every type, with the fields each type uses.
type Method struct {
	ID     string // "{type}|dev_" + 16 alphanumerics
	Issuer string // the token issuer: methods are scoped to issuer and user
	UserID string // the token subject
	Type   string // one of the Type constants, such as [typePasskey]
	// Name is the user's label for the method; empty when never set.
	Name           string
	IdentityUserID string
	CreatedAt      time.Time
	// WebAuthn holds the credential of a passkey, webauthn-platform or
	// webauthn-roaming method.
	WebAuthn WebAuthnCredential
	// Secret is what a method keeps to check the user later, never in plain
	// text: a TOTP seed sealed under [Config.SecretKeys], the SHA-256 of a
	// recovery code, or what the [PasswordBackend] returned for a password
	// (an argon2id hash from [Argon2Passwords]; empty when the password
	// lives elsewhere). Empty for the other types.
	Secret []byte
	// Destination is where an email or phone method sends codes: an email
	// address, or a phone number in E.164 form. For a push-notification
	// method it is the [PushProvider]'s handle of the device (at most 1024
	// bytes).
	Destination string
	// PreferredChannel is how a phone method sends codes: "sms" or "voice".
	PreferredChannel string
	// SecretHistory holds the secrets a password method had before its
	// current one, newest first, for the password policy's history rule
	// ([Store.SetSecret] keeps it). Empty for the other types.
	SecretHistory [][]byte
	// SecretSetAt is when a password was last set: the method's
	// last_password_reset. Zero for the other types.
	SecretSetAt time.Time
	// LastTOTPStep is the last RFC 6238 time step (Unix time / 30 s) whose
	// code a totp method accepted: the step that verified its enrollment,
	// then the latest [API.CheckTOTP] accepted. A code of that step or an
	// earlier one is refused ([Store.AdvanceTOTPStep]). Zero for the other
	// types.
	LastTOTPStep int64
}

// WebAuthnCredential is the credential of a WebAuthn method ([Method.WebAuthn]),
// which a Store keeps and gives back as it got it.
type WebAuthnCredential struct {
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

// MethodUpdate is what [Store.UpdateMethod] changes, for a Store of your
// own: nil fields are left alone.
type MethodUpdate struct {
	Name             *string
	PreferredChannel *string // phone methods only
}

// MethodsAndHandleReader is an optional interface of a [Store] whose calls are
// round trips to a database: it reads what a WebAuthn enrollment's first step
// needs, the user's methods of a type and the user's WebAuthn user handle, in
// one call. The API uses it, when the Store has it, instead of ListMethods
// then UserHandle; the results must be the same as theirs. A wrapper that
// embeds such a store and changes ListMethods or UserHandle must change this
// method too, or hide it.
type MethodsAndHandleReader interface {
	MethodsAndUserHandle(ctx context.Context, issuer, userID, typ string, candidate []byte) ([]*Method, []byte, error)
}

// SessionRef names an auth_session to a [Store]. The session's state travels
// sealed inside the auth_session itself; a store keeps only what makes it
// single use: whether it was used, and how many codes were tried with it.
type SessionRef struct {
	// ID is the SHA-256 of the auth_session's decoded bytes, hex encoded: one
	// session has one ID, as the API reads it in one spelling only.
	ID     string
	Issuer string
	UserID string
	// ExpiresAt is when the session ends; a store may forget it afterwards.
	ExpiresAt time.Time
}

// Store keeps authentication methods, user handles and what makes each
// auth_session single use. Every method is safe for concurrent use and returns
// ctx.Err() promptly once ctx is done. Backends wrap connection failures with
// [ErrUnavailable]. Returned values are the caller's to keep: a store never
// aliases them. A store may bound the sessions it tracks per user, and answer
// [ErrRateLimited] for a new one past that bound.
type Store interface {
	// CreateMethod stores m and marks session used, as one atomic step: of
	// concurrent creates with one session, at most one succeeds, and the others
	// get [ErrSessionUsed]; a session used or spent before gives [ErrSessionUsed]
	// too. It gives [ErrLimitReached] when the user (m.Issuer, m.UserID) already
	// has limit methods of m.Type (counted in the same step, so concurrent
	// creates never exceed it), and [ErrCredentialExists] when m is a WebAuthn
	// method whose credential id is already registered for its relying party,
	// by any user and under any WebAuthn type. On error nothing is stored and
	// the session is left as it was.
	CreateMethod(ctx context.Context, m *Method, limit int, session SessionRef) error
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
	// When check is not nil, the store calls it once, in the same atomic step
	// as the delete (under the lock or in the transaction that holds the
	// user's methods still), with the method and the user's other methods,
	// oldest first; an error from it is returned as it is, and nothing is
	// deleted. So of concurrent deletes whose check refuses to leave the user
	// without some kind of method, at most one succeeds. check must not call
	// the store. A missing method gives [ErrNotFound] without calling check.
	// The API builds check from [UserConfig.DeletePolicy].
	DeleteMethod(ctx context.Context, issuer, userID, id string, check func(m *Method, others []*Method) error) error
	// AdvanceTOTPStep sets the LastTOTPStep of the user's method id to step
	// if step is greater, as one atomic step, and reports whether it did: of
	// concurrent calls with one step, exactly one gets true, so a TOTP code
	// is accepted at most once (RFC 6238 §5.2). A method that does not exist
	// for the user gives [ErrNotFound].
	AdvanceTOTPStep(ctx context.Context, issuer, userID, id string, step int64) (bool, error)
	// UserHandle returns the user's WebAuthn user handle. The first call for a user
	// stores candidate and returns it; later calls, concurrent ones included,
	// return the handle stored first.
	UserHandle(ctx context.Context, issuer, userID string, candidate []byte) ([]byte, error)
	// SpendSession marks a session used without creating a method (its
	// verification failed). A session used before gives [ErrSessionUsed].
	SpendSession(ctx context.Context, session SessionRef) error
	// CountAttempt records one try of a code with the session. It gives
	// [ErrSessionUsed], recording nothing, when the session was used, or when
	// max tries were recorded already (the session is then spent); of
	// concurrent callers, at most max get through in all.
	CountAttempt(ctx context.Context, session SessionRef, max int) error
	// SetSecret replaces the Secret of the user's method id and marks session
	// used, as one atomic step; this is how a password is changed. The old
	// Secret, when not empty, goes to the front of SecretHistory, which is
	// then cut to its first keepHistory entries (0 empties it); SecretSetAt
	// becomes setAt. It returns the method as stored afterwards. A session
	// used or spent before gives [ErrSessionUsed], a method that does not
	// exist for the user [ErrNotFound]; on error nothing changes and the
	// session is left as it was. Of concurrent calls with one session, at
	// most one succeeds.
	SetSecret(ctx context.Context, issuer, userID, id string, secret []byte, setAt time.Time, keepHistory int, session SessionRef) (*Method, error)

	// Connected accounts, and the single-use state of the flows that link
	// them:

	// CreateConnectFlow stores a new flow. It may give [ErrRateLimited] when
	// the user has too many flows that have not expired.
	CreateConnectFlow(ctx context.Context, f *ConnectFlow) error
	// ConnectFlow returns the flow whose Handle is handle, or [ErrNotFound]
	// when there is none or it has expired.
	ConnectFlow(ctx context.Context, handle string) (*ConnectFlow, error)
	// ReplaceConnectFlow replaces the flow next.ID, if its Handle is still
	// handle and it has not expired, with next, as one atomic step: of
	// concurrent calls with one handle at most one succeeds; the others, and
	// any call once the handle was replaced or deleted, get [ErrSessionUsed].
	ReplaceConnectFlow(ctx context.Context, handle string, next *ConnectFlow) error
	// DeleteConnectFlow deletes the flow whose Handle is handle, spending
	// it; [ErrSessionUsed] when there is none.
	DeleteConnectFlow(ctx context.Context, handle string) error
	// CompleteConnectFlow deletes the flow whose Handle is handle and stores
	// a, as one atomic step, and returns the account as stored. When the
	// user (a.Issuer, a.UserID) has an account of a.Connection and
	// a.Subject already, that account takes a's Scopes, ExpiresAt and
	// Tokens, is no longer Revoked, and its Version grows by one; its ID and
	// CreatedAt stay. Otherwise a is added, unless the user has limit
	// accounts already: [ErrLimitReached]. A flow that is gone or expired
	// gives [ErrSessionUsed]. On error nothing changes.
	CompleteConnectFlow(ctx context.Context, handle string, a *ConnectedAccount, limit int) (*ConnectedAccount, error)
	// ListConnectedAccounts returns the user's accounts, oldest first (ties
	// by ID); none is an empty slice and no error.
	ListConnectedAccounts(ctx context.Context, issuer, userID string) ([]*ConnectedAccount, error)
	// GetConnectedAccount returns one account of the user, or [ErrNotFound]
	// (also when the id belongs to another user or issuer).
	GetConnectedAccount(ctx context.Context, issuer, userID, id string) (*ConnectedAccount, error)
	// DeleteConnectedAccount removes one account of the user, or gives
	// [ErrNotFound].
	DeleteConnectedAccount(ctx context.Context, issuer, userID, id string) error
	// SwapConnectedAccountTokens sets the account's Tokens and Revoked (and
	// ExpiresAt, unless expiresAt is zero) if its Version is still version,
	// raising Version by one, as one atomic step; swapped is false, and
	// nothing changes, when the Version moved on. Of concurrent swaps from
	// one version exactly one succeeds. [ErrNotFound] as for
	// GetConnectedAccount.
	SwapConnectedAccountTokens(ctx context.Context, issuer, userID, id string, version int64, tokens []byte, revoked bool, expiresAt time.Time) (swapped bool, err error)
}

// memoryStore is the in-memory [Store], the default. Its state lives as long as the
// process; expired session records are dropped as new ones arrive, with no goroutine.
//
// A stored Method is never changed once stored: an update stores a changed
// copy in its place. So a method read under the lock can be read after it
// is released (appendMethodList does), while only copies leave the store.
type memoryStore struct {
	mu          sync.Mutex
	methods     map[userKey][]*Method // per user, oldest first (ties by ID)
	wire        map[*Method][]byte    // the list's JSON of stored methods, once a list wrote it (memlist.go)
	credentials map[string]bool       // relying party + "\x00" + credential id
	handles     map[userKey][]byte
	sessions    map[userKey]*userSessions
	// sessionCount is the number of records in sessions, and sweepAt the count
	// at which expired ones are swept; doubling it after each sweep keeps the
	// sweep's cost amortised O(1) per record.
	sessionCount, sweepAt int
	// connected holds connected accounts and their flows (memconnected.go).
	connected memoryConnected
}

// maxSessionsPerUser bounds the session records a [memoryStore] keeps for one
// user. A record appears only when a session is verified or a code tried, so a
// person never comes near it; a client trying codes on thousands of
// enrollments at once does, and gets [ErrRateLimited].
const maxSessionsPerUser = 10000

// userSessions are one user's session records. firstExpiry is no later than
// the earliest of their expiries, so a user at the bound is refused without a
// scan until one of them can have expired.
type userSessions struct {
	records     map[string]*sessionRecord
	firstExpiry time.Time
}

type sessionRecord struct {
	expiresAt time.Time
	attempts  int
	used      bool
}

type userKey struct{ issuer, userID string }

// NewMemoryStore returns an empty in-memory [Store], the default: for tests,
// and for one process whose methods may die with it. It also implements
// [MethodsAndHandleReader].
func NewMemoryStore() Store { return newMemoryStore() }

func newMemoryStore() *memoryStore {
	return &memoryStore{
		methods:     make(map[userKey][]*Method),
		wire:        make(map[*Method][]byte),
		credentials: make(map[string]bool),
		handles:     make(map[userKey][]byte),
		sessions:    make(map[userKey]*userSessions),
		sweepAt:     64,
	}
}

func credentialKey(rpID string, credentialID []byte) string {
	return rpID + "\x00" + string(credentialID)
}

// CreateMethod implements [Store].
func (s *memoryStore) CreateMethod(ctx context.Context, m *Method, limit int, session SessionRef) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec := s.findRecord(session); rec != nil && rec.used {
		return ErrSessionUsed
	}
	key := userKey{m.Issuer, m.UserID}
	count := 0
	for _, existing := range s.methods[key] {
		if existing.ID == m.ID {
			return ErrMethodExists
		}
		if existing.Type == m.Type {
			count++
		}
	}
	if count >= limit {
		return ErrLimitReached
	}
	var credKey string
	if len(m.WebAuthn.CredentialID) > 0 {
		credKey = credentialKey(m.WebAuthn.RelyingPartyID, m.WebAuthn.CredentialID)
		if s.credentials[credKey] {
			return ErrCredentialExists
		}
	}
	rec, err := s.record(session) // only now: a refused create leaves the session as it was
	if err != nil {
		return err
	}
	rec.used = true
	if credKey != "" {
		s.credentials[credKey] = true
	}
	// Kept in list order, which is not creation order when concurrent
	// creates interleave, so that a list need not sort.
	list := s.methods[key]
	at, _ := slices.BinarySearchFunc(list, m, compareMethods)
	s.methods[key] = slices.Insert(list, at, cloneMethod(m))
	return nil
}

// compareMethods orders methods as lists show them: oldest first, ties by ID.
func compareMethods(a, b *Method) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// ListMethods implements [Store].
func (s *memoryStore) ListMethods(ctx context.Context, issuer, userID, typ string) ([]*Method, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyMethods(s.ofType(userKey{issuer, userID}, typ)), nil
}

// ofType returns the user's stored methods of typ (every type when empty),
// in list order (creates keep it); the caller holds s.mu.
func (s *memoryStore) ofType(key userKey, typ string) []*Method {
	all := s.methods[key]
	selected := make([]*Method, 0, len(all))
	for _, m := range all {
		if typ == "" || m.Type == typ {
			selected = append(selected, m)
		}
	}
	return selected
}

// MethodsAndUserHandle implements [MethodsAndHandleReader].
func (s *memoryStore) MethodsAndUserHandle(ctx context.Context, issuer, userID, typ string, candidate []byte) ([]*Method, []byte, error) {
	methods, err := s.ListMethods(ctx, issuer, userID, typ)
	if err != nil {
		return nil, nil, err
	}
	handle, err := s.UserHandle(ctx, issuer, userID, candidate)
	return methods, handle, err
}

// GetMethod implements [Store].
func (s *memoryStore) GetMethod(ctx context.Context, issuer, userID, id string) (*Method, error) {
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
func (s *memoryStore) UpdateMethod(ctx context.Context, issuer, userID, id string, u MethodUpdate) (*Method, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.replace(issuer, userID, id)
	if m == nil {
		return nil, ErrNotFound
	}
	if u.Name != nil {
		m.Name = *u.Name
	}
	if u.PreferredChannel != nil {
		m.PreferredChannel = *u.PreferredChannel
	}
	return cloneMethod(m), nil
}

// DeleteMethod implements [Store]: check runs under the store's lock.
func (s *memoryStore) DeleteMethod(ctx context.Context, issuer, userID, id string, check func(m *Method, others []*Method) error) error {
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
	if check != nil {
		if err := check(splitMethods(copyMethods(s.ofType(key, "")), id)); err != nil {
			return err
		}
	}
	s.methods[key] = slices.Delete(s.methods[key], i, i+1)
	delete(s.wire, m)
	if len(s.methods[key]) == 0 {
		delete(s.methods, key)
	}
	if len(m.WebAuthn.CredentialID) > 0 {
		delete(s.credentials, credentialKey(m.WebAuthn.RelyingPartyID, m.WebAuthn.CredentialID))
	}
	return nil
}

// SetSecret implements [Store].
func (s *memoryStore) SetSecret(ctx context.Context, issuer, userID, id string, secret []byte, setAt time.Time, keepHistory int, session SessionRef) (*Method, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec := s.findRecord(session); rec != nil && rec.used {
		return nil, ErrSessionUsed
	}
	if _, m := s.find(issuer, userID, id); m == nil {
		return nil, ErrNotFound
	}
	rec, err := s.record(session) // only now: a refused set leaves the session as it was
	if err != nil {
		return nil, err
	}
	m := s.replace(issuer, userID, id)
	history := m.SecretHistory
	if len(m.Secret) > 0 {
		history = append([][]byte{m.Secret}, history...)
	}
	m.SecretHistory = history[:min(len(history), max(keepHistory, 0))]
	m.Secret = slices.Clone(secret)
	m.SecretSetAt = setAt
	rec.used = true
	return cloneMethod(m), nil
}

// splitMethods returns the method of all with id, and the others in order.
func splitMethods(all []*Method, id string) (m *Method, others []*Method) {
	others = make([]*Method, 0, len(all))
	for _, o := range all {
		if o.ID == id {
			m = o
		} else {
			others = append(others, o)
		}
	}
	return m, others
}

// AdvanceTOTPStep implements [Store].
func (s *memoryStore) AdvanceTOTPStep(ctx context.Context, issuer, userID, id string, step int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m := s.find(issuer, userID, id)
	if m == nil {
		return false, ErrNotFound
	}
	if step <= m.LastTOTPStep {
		return false, nil
	}
	// A stored method never changes in place (a list reads it unlocked).
	s.replace(issuer, userID, id).LastTOTPStep = step
	return true, nil
}

// find returns the index and the stored method; the caller holds s.mu.
func (s *memoryStore) find(issuer, userID, id string) (int, *Method) {
	for i, m := range s.methods[userKey{issuer, userID}] {
		if m.ID == id {
			return i, m
		}
	}
	return -1, nil
}

// replace puts a copy of the user's method id in its place and returns the
// copy, for the caller to change, or nil when there is no such method. The
// caller holds s.mu.
func (s *memoryStore) replace(issuer, userID, id string) *Method {
	i, m := s.find(issuer, userID, id)
	if m == nil {
		return nil
	}
	delete(s.wire, m)
	m = cloneMethod(m)
	s.methods[userKey{issuer, userID}][i] = m
	return m
}

// UserHandle implements [Store].
func (s *memoryStore) UserHandle(ctx context.Context, issuer, userID string, candidate []byte) ([]byte, error) {
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

// SpendSession implements [Store].
func (s *memoryStore) SpendSession(ctx context.Context, session SessionRef) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.record(session)
	if err != nil {
		return err
	}
	if rec.used {
		return ErrSessionUsed
	}
	rec.used = true
	return nil
}

// CountAttempt implements [Store].
func (s *memoryStore) CountAttempt(ctx context.Context, session SessionRef, max int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.record(session)
	if err != nil {
		return err
	}
	if rec.used || rec.attempts >= max {
		rec.used = true
		return ErrSessionUsed
	}
	rec.attempts++
	return nil
}

// findRecord returns the session's record, or nil; the caller holds s.mu.
func (s *memoryStore) findRecord(session SessionRef) *sessionRecord {
	if user := s.sessions[userKey{session.Issuer, session.UserID}]; user != nil {
		return user.records[session.ID]
	}
	return nil
}

// record returns the session's record, adding a fresh one when there is none;
// the caller holds s.mu.
func (s *memoryStore) record(session SessionRef) (*sessionRecord, error) {
	if rec := s.findRecord(session); rec != nil {
		return rec, nil
	}
	key := userKey{session.Issuer, session.UserID}
	now := time.Now()
	if s.sessionCount >= s.sweepAt {
		for k := range s.sessions {
			s.sweep(k, now)
		}
		s.sweepAt = max(64, 2*s.sessionCount)
	}
	if user := s.sessions[key]; user != nil && len(user.records) >= maxSessionsPerUser {
		if now.Before(user.firstExpiry) {
			return nil, ErrRateLimited
		}
		if s.sweep(key, now); len(user.records) >= maxSessionsPerUser {
			return nil, ErrRateLimited
		}
	}
	user := s.sessions[key] // a sweep drops a user it empties
	if user == nil {
		user = &userSessions{records: make(map[string]*sessionRecord), firstExpiry: session.ExpiresAt}
		s.sessions[key] = user
	}
	rec := &sessionRecord{expiresAt: session.ExpiresAt}
	user.records[session.ID] = rec
	if rec.expiresAt.Before(user.firstExpiry) {
		user.firstExpiry = rec.expiresAt
	}
	s.sessionCount++
	return rec, nil
}

// sweep drops the user's expired session records; the caller holds s.mu.
func (s *memoryStore) sweep(key userKey, now time.Time) {
	user := s.sessions[key]
	first := time.Time{}
	for id, rec := range user.records {
		switch {
		case !now.Before(rec.expiresAt):
			delete(user.records, id)
			s.sessionCount--
		case first.IsZero() || rec.expiresAt.Before(first):
			first = rec.expiresAt
		}
	}
	user.firstExpiry = first
	if len(user.records) == 0 {
		delete(s.sessions, key)
	}
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
		p := &m.WebAuthn
		byteCount += len(p.CredentialID) + len(p.PublicKey) + len(p.AAGUID) + len(p.UserHandle) + len(m.Secret)
		transportCount += len(p.Transports)
		for _, h := range m.SecretHistory {
			byteCount += len(h)
		}
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
		p := &methods[i].WebAuthn
		p.CredentialID, p.PublicKey = carve(p.CredentialID), carve(p.PublicKey)
		p.AAGUID, p.UserHandle = carve(p.AAGUID), carve(p.UserHandle)
		methods[i].Secret = carve(methods[i].Secret)
		if m.SecretHistory != nil {
			// Only password methods have a history; its few entries are
			// carved from the slab too, under a slice of their own.
			history := make([][]byte, len(m.SecretHistory))
			for j, h := range m.SecretHistory {
				history[j] = carve(h)
			}
			methods[i].SecretHistory = history
		}
		if p.Transports != nil {
			start := len(transports)
			transports = append(transports, p.Transports...)
			p.Transports = transports[start:len(transports):len(transports)]
		}
		out[i] = &methods[i]
	}
	return out
}
