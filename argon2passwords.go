package myaccount

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// argon2Params are the argon2id parameters of a hash, which it keeps in its
// PHC string.
type argon2Params struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

// Argon2Options configures [NewArgon2Passwords]; the zero value is ready to
// use.
type Argon2Options struct {
	// Policy is what new passwords must meet; an active dictionary must be
	// en_10k, the list this package has. Default: [DefaultPasswordPolicy].
	Policy *PasswordPolicy
	// Memory is the memory one hash uses, in KiB. Default: 19456 (19 MiB),
	// OWASP's first recommended setting. The parameters travel in every
	// hash, so they can change without breaking old ones.
	Memory uint32
	// Time is the number of passes over the memory. Default: 2.
	Time uint32
	// Threads is the parallelism of one hash. Default: 1.
	Threads uint8
	// MaxConcurrentHashes bounds the hashes computed at once, across password
	// sets and [Argon2Passwords.CheckPassword], so that a burst of requests
	// needs at most this many times Memory. A request that cannot get
	// a turn before its context ends fails with [ErrUnavailable] (503).
	// Default: runtime.NumCPU().
	MaxConcurrentHashes int
	// MaxUserWait bounds how long a password set or check waits for its
	// user's turn: one user's hashes run one at a time, so that one account
	// cannot take every hashing slot from the others. A request that waits
	// longer fails with [ErrUnavailable] (503). Default: 3 seconds.
	MaxUserWait time.Duration
}

// Argon2Passwords is the built-in [PasswordBackend]: passwords are kept as
// argon2id hashes in the method's Secret, in the PHC string form
// "$argon2id$v=19$m=...,t=...,p=...$salt$hash", with the last hashes in its
// SecretHistory for the policy's history rule. It is safe for concurrent use.
type Argon2Passwords struct {
	policy PasswordPolicy
	params argon2Params
	slots  chan struct{} // one token per hash that may run
	users  userTurns     // one turn per user: a user's hashes run one at a time
	// onHash, when set, is called as a hash starts (true) and ends (false);
	// tests count the hashes running at once with it.
	onHash func(start bool)
}

const (
	argon2SaltLength = 16
	argon2KeyLength  = 32
)

// NewArgon2Passwords returns the built-in password backend. Errors wrap
// [ErrConfig].
func NewArgon2Passwords(opts Argon2Options) (*Argon2Passwords, error) {
	p := &Argon2Passwords{policy: DefaultPasswordPolicy(), params: argon2Params{memory: opts.Memory, time: opts.Time, threads: opts.Threads}}
	if opts.Policy != nil {
		p.policy = *opts.Policy
	}
	if err := p.policy.check(); err != nil {
		return nil, fmt.Errorf("%w: password policy: %v", ErrConfig, err)
	}
	if p.policy.Dictionary.Active && p.policy.Dictionary.Default != "en_10k" {
		return nil, fmt.Errorf("%w: password policy: dictionary %q: the built-in backend has the en_10k list only", ErrConfig, p.policy.Dictionary.Default)
	}
	if p.params.memory == 0 {
		p.params.memory = 19456
	}
	if p.params.time == 0 {
		p.params.time = 2
	}
	if p.params.threads == 0 {
		p.params.threads = 1
	}
	if p.params.memory < 8*uint32(p.params.threads) {
		return nil, fmt.Errorf("%w: Argon2 Memory must be at least 8 KiB per thread", ErrConfig)
	}
	n := opts.MaxConcurrentHashes
	if n < 0 {
		return nil, fmt.Errorf("%w: MaxConcurrentHashes must not be negative", ErrConfig)
	}
	if n == 0 {
		n = runtime.NumCPU()
	}
	p.slots = make(chan struct{}, n)
	if opts.MaxUserWait < 0 {
		return nil, fmt.Errorf("%w: MaxUserWait must not be negative", ErrConfig)
	}
	p.users = userTurns{wait: cmp.Or(opts.MaxUserWait, 3*time.Second), turns: make(map[userKey]*userTurn)}
	return p, nil
}

// Policy implements [PasswordBackend]: the same policy for every user.
func (p *Argon2Passwords) Policy(context.Context, PasswordUser) (PasswordPolicy, error) {
	return p.policy, nil
}

// SetPassword implements [PasswordBackend]: it refuses a password that matches
// one of the last ones the history rule covers, then returns the new hash.
// Both see the password's NFKC form, as [Argon2Passwords.CheckPassword] does,
// so a password typed in another Unicode form is the same password.
func (p *Argon2Passwords) SetPassword(ctx context.Context, user PasswordUser, password string, current *Method) ([]byte, error) {
	password = normalizePassword(password)
	var key userKey
	if user.Claims != nil {
		key = userKey{user.Claims.Issuer, user.Claims.Subject}
	} else if current != nil {
		key = userKey{current.Issuer, current.UserID}
	}
	release, err := p.users.acquire(ctx, key)
	if err != nil {
		return nil, err
	}
	defer release()
	if p.policy.History.Active && current != nil {
		last := append([][]byte{current.Secret}, current.SecretHistory...)
		last = last[:min(len(last), p.policy.History.Size)]
		for _, old := range last {
			match, err := p.matches(ctx, old, password)
			if err != nil {
				return nil, err
			}
			if match {
				return nil, &PasswordRejectedError{Reasons: []string{
					"must not be one of your last " + strconv.Itoa(p.policy.History.Size) + " passwords"}}
			}
		}
	}
	return p.hash(ctx, password)
}

// CheckPassword reports whether password is the password of method m (a
// password method from the Store that this backend set); an app calls it
// when the user signs in. It waits for a hashing turn as SetPassword does, and
// gives [ErrUnavailable] when ctx ends first. A Secret it cannot read is an
// error, never a match. The password is compared in its NFKC form, the form
// SetPassword hashed.
func (p *Argon2Passwords) CheckPassword(ctx context.Context, m *Method, password string) (bool, error) {
	if m.Type != typePassword {
		return false, fmt.Errorf("myaccount: CheckPassword of a %s method", m.Type)
	}
	release, err := p.users.acquire(ctx, userKey{m.Issuer, m.UserID})
	if err != nil {
		return false, err
	}
	defer release()
	return p.matches(ctx, m.Secret, normalizePassword(password))
}

// hash returns the encoded argon2id hash of password with a fresh salt.
func (p *Argon2Passwords) hash(ctx context.Context, password string) ([]byte, error) {
	salt := randomBytes(argon2SaltLength)
	key, err := p.compute(ctx, password, salt, p.params, argon2KeyLength)
	if err != nil {
		return nil, err
	}
	b64 := base64.RawStdEncoding
	out := fmt.Appendf(nil, "$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, p.params.memory, p.params.time, p.params.threads)
	out = b64.AppendEncode(out, salt)
	out = append(out, '$')
	return b64.AppendEncode(out, key), nil
}

// errBadHash means a stored Secret is not an argon2id hash this backend reads.
var errBadHash = errors.New("myaccount: stored password hash is not an argon2id PHC string")

// matches reports whether encoded is the hash of password, in constant time.
func (p *Argon2Passwords) matches(ctx context.Context, encoded []byte, password string) (bool, error) {
	params, salt, key, err := decodeArgon2(string(encoded))
	if err != nil {
		return false, err
	}
	got, err := p.compute(ctx, password, salt, params, uint32(len(key)))
	if err != nil {
		return false, err
	}
	return equalSecret(got, key), nil
}

// compute runs one argon2id hash once a slot is free.
func (p *Argon2Passwords) compute(ctx context.Context, password string, salt []byte, params argon2Params, keyLen uint32) ([]byte, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: no password hashing turn before the request ended", ErrUnavailable)
	}
	defer func() { <-p.slots }()
	if p.onHash != nil {
		p.onHash(true)
		defer p.onHash(false)
	}
	return argon2.IDKey([]byte(password), salt, params.time, params.memory, params.threads, keyLen), nil
}

// maxArgon2Memory bounds the memory a stored hash may ask for (4 GiB), so a
// corrupt Secret cannot make a check allocate without limit.
const maxArgon2Memory = 4 << 20

// decodeArgon2 reads "$argon2id$v=19$m=M,t=T,p=P$salt$key".
func decodeArgon2(s string) (params argon2Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return params, nil, nil, errBadHash
	}
	var m, t, threads uint64
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &threads); err != nil ||
		m == 0 || m > maxArgon2Memory || t == 0 || t > 1<<10 || threads == 0 || threads > 255 || m < 8*threads {
		return params, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return params, nil, nil, errBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return params, nil, nil, errBadHash
	}
	return argon2Params{memory: uint32(m), time: uint32(t), threads: uint8(threads)}, salt, key, nil
}

// userTurns gives each user one hashing turn at a time, waiting at most wait
// for it. A user has an entry only while one of their hashes runs or waits,
// so the table holds at most as many entries as there are requests in
// flight, however many users and tenants come and go.
type userTurns struct {
	wait  time.Duration
	mu    sync.Mutex
	turns map[userKey]*userTurn
}

// userTurn is one user's turn: a token in turn while a hash runs, and the
// number of requests holding or waiting for it.
type userTurn struct {
	turn  chan struct{}
	users int
}

// acquire waits for key's turn, at most u.wait and no longer than ctx, and
// returns the function that hands the turn on.
func (u *userTurns) acquire(ctx context.Context, key userKey) (release func(), err error) {
	u.mu.Lock()
	t := u.turns[key]
	if t == nil {
		t = &userTurn{turn: make(chan struct{}, 1)}
		u.turns[key] = t
	}
	t.users++
	u.mu.Unlock()
	leave := func() {
		u.mu.Lock()
		if t.users--; t.users == 0 {
			delete(u.turns, key)
		}
		u.mu.Unlock()
	}
	timer := time.NewTimer(u.wait)
	defer timer.Stop()
	select {
	case t.turn <- struct{}{}:
		return func() { <-t.turn; leave() }, nil
	case <-timer.C:
		err = fmt.Errorf("%w: another password of this user is being hashed", ErrUnavailable)
	case <-ctx.Done():
		err = fmt.Errorf("%w: no password hashing turn before the request ended", ErrUnavailable)
	}
	leave()
	return nil, err
}

// len reports how many users hold or wait for a hashing turn.
func (u *userTurns) len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.turns)
}
