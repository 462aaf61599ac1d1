package myaccount_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// fastArgon2 keeps the tests quick; the parameters travel in every hash, so
// the code paths are the production ones.
var fastArgon2 = myaccount.Argon2Options{Memory: 64, Time: 1, Threads: 1}

// newPasswords returns the built-in backend with policy (nil: the default)
// and fast parameters.
func newPasswords(t *testing.T, policy *myaccount.PasswordPolicy, bound int) *myaccount.Argon2Passwords {
	t.Helper()
	p, err := myaccount.NewArgon2Passwords(myaccount.Argon2Options{Policy: policy, Memory: fastArgon2.Memory, Time: fastArgon2.Time, Threads: fastArgon2.Threads, MaxConcurrentHashes: bound})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// passwordHarness is a harness offering password through backend on store,
// logging into logs.
func passwordHarness(t *testing.T, backend myaccount.PasswordBackend, store myaccount.Store, logs *bytes.Buffer) *harness {
	t.Helper()
	return newHarness(t, func(c *myaccount.Config) {
		c.Passwords.Backend = backend
		c.Store = store
		c.SecretKeys = testKeys
		if logs != nil {
			c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	})
}

// setPassword runs one password enrollment (or change) and returns the
// verify's response and the 202's id.
func (h *harness) setPassword(token, password string) (*response, string) {
	h.t.Helper()
	e := h.start(token, map[string]any{"type": "password"})
	id := e["id"].(string)
	return h.finish(token, id, map[string]any{"auth_session": e["auth_session"], "new_password": password}), id
}

// wantReasons checks a 400 lists exactly n validation errors, all at
// /new_password, the first containing detail.
func wantReasons(t *testing.T, r *response, n int, detail string) {
	t.Helper()
	body := wantError(t, r, 400, "A0E-400-0003")
	errs, _ := body["validation_errors"].([]any)
	if len(errs) != n {
		t.Fatalf("%d validation errors, want %d: %s", len(errs), n, r.body)
	}
	for _, e := range errs {
		if e.(map[string]any)["pointer"] != "/new_password" {
			t.Errorf("validation error not at /new_password: %s", r.body)
		}
	}
	if d, _ := errs[0].(map[string]any)["detail"].(string); !strings.Contains(d, detail) {
		t.Errorf("detail %q, want it to contain %q", d, detail)
	}
}

func TestPasswordNotOfferedWithoutBackend(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	r := h.do("GET", "/me/v1/factors", alice, nil)
	wantStatus(t, r, 200)
	if bytes.Contains(r.body, []byte(`"password"`)) {
		t.Errorf("password offered with no backend: %s", r.body)
	}
	wantPointer(t, h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "password"}), "/type")
}

func TestPasswordLifecycle(t *testing.T) {
	var logs bytes.Buffer
	store := myaccount.NewMemoryStore()
	backend := newPasswords(t, nil, 0)
	h := passwordHarness(t, backend, store, &logs)
	alice := h.token("auth0|alice")
	var seen [][]byte // every response body, to look for hashes in
	keep := func(r *response) *response { seen = append(seen, r.body); return r }

	r := keep(h.do("GET", "/me/v1/factors", alice, nil))
	if !bytes.Contains(r.body, []byte(`{"type":"password","usage":["primary"]}`)) {
		t.Errorf("factors: %s", r.body)
	}

	e := h.start(alice, map[string]any{"type": "password", "connection": "Username-Password-Authentication"})
	policy, _ := e["policy"].(map[string]any)
	for _, part := range []string{"complexity", "profile_data", "history", "dictionary"} {
		if _, ok := policy[part].(map[string]any); !ok {
			t.Errorf("policy has no %s: %v", part, e)
		}
	}
	if c := policy["complexity"].(map[string]any); c["min_length"] != float64(8) || c["character_type_rule"] != "three_of_four" {
		t.Errorf("complexity %v", c)
	}
	id := e["id"].(string)
	before := time.Now().UTC().Truncate(time.Millisecond)
	r = keep(h.finish(alice, id, map[string]any{"auth_session": e["auth_session"], "new_password": "Correct-Horse-7"}))
	wantStatus(t, r, http.StatusCreated)
	m := r.json(t)
	if m["id"] != id || m["type"] != "password" || m["identity_user_id"] != "alice" ||
		!slices.Equal(m["usage"].([]any), []any{"primary"}) || m["last_password_reset"] != m["created_at"] {
		t.Errorf("method %s", r.body)
	}
	if len(m) != 6 {
		t.Errorf("method has members beyond id, type, identity_user_id, last_password_reset, created_at, usage: %s", r.body)
	}
	// The session is used.
	wantPointer(t, keep(h.finish(alice, id, map[string]any{"auth_session": e["auth_session"], "new_password": "Correct-Horse-8"})), "/auth_session")

	stored, err := store.GetMethod(context.Background(), h.issuer.Issuer, "auth0|alice", id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(stored.Secret, []byte("$argon2id$v=19$m=64,t=1,p=1$")) || stored.SecretSetAt.Before(before) {
		t.Fatalf("stored secret %q set at %v", stored.Secret, stored.SecretSetAt)
	}
	firstHash := slices.Clone(stored.Secret)
	if ok, err := backend.CheckPassword(context.Background(), stored, "Correct-Horse-7"); !ok || err != nil {
		t.Errorf("CheckPassword of the password set: %v %v", ok, err)
	}
	if ok, _ := backend.CheckPassword(context.Background(), stored, "Correct-Horse-8"); ok {
		t.Error("CheckPassword accepts another password")
	}

	// A second POST names the same method, and its verify changes the password.
	time.Sleep(2 * time.Millisecond)
	e = h.start(alice, map[string]any{"type": "password"})
	if e["id"] != id {
		t.Fatalf("second enrollment id %v, want the existing %s", e["id"], id)
	}
	r = keep(h.finish(alice, id, map[string]any{"auth_session": e["auth_session"], "new_password": "Battery-Staple-9"}))
	wantStatus(t, r, http.StatusCreated)
	changed := r.json(t)
	if changed["created_at"] != m["created_at"] || changed["last_password_reset"] == m["last_password_reset"] {
		t.Errorf("after a change: %s (before: created %v, reset %v)", r.body, m["created_at"], m["last_password_reset"])
	}
	list := h.list(alice, "password")
	if len(list) != 1 || list[0].(map[string]any)["last_password_reset"] != changed["last_password_reset"] {
		t.Fatalf("list after a change: %v", list)
	}
	stored, _ = store.GetMethod(context.Background(), h.issuer.Issuer, "auth0|alice", id)
	if ok, _ := backend.CheckPassword(context.Background(), stored, "Battery-Staple-9"); !ok {
		t.Error("the new password does not check")
	}
	if ok, _ := backend.CheckPassword(context.Background(), stored, "Correct-Horse-7"); ok {
		t.Error("the old password still checks")
	}
	if len(stored.SecretHistory) != 1 || !bytes.Equal(stored.SecretHistory[0], firstHash) {
		t.Errorf("history %q", stored.SecretHistory)
	}

	// Neither a hash nor a password shows in any response or log line.
	keep(h.do("GET", "/me/v1/authentication-methods/"+id, alice, nil))
	secrets := [][]byte{firstHash, stored.Secret, []byte("Correct-Horse-7"), []byte("Battery-Staple-9"), []byte("argon2")}
	for _, body := range append(seen, logs.Bytes()) {
		for _, s := range secrets {
			if bytes.Contains(body, s) {
				t.Errorf("%q appears in %s", s, body)
			}
		}
	}
}

// strictPolicy turns every rule on, so that each test password breaks one.
func strictPolicy() *myaccount.PasswordPolicy {
	p := myaccount.DefaultPasswordPolicy()
	p.Complexity.MinLength, p.Complexity.CharacterTypeRule = 10, "all"
	p.Complexity.CharacterTypes = []string{"uppercase", "lowercase", "number", "special"}
	p.Complexity.SequentialCharacters = "block"
	p.History.Size = 3
	return &p
}

func TestPasswordRules(t *testing.T) {
	h := passwordHarness(t, newPasswords(t, strictPolicy(), 0), nil, nil)
	token := h.issuer.TokenWith(t, "auth0|mary", allScopes, myaccounttest.WithClaim("name", "Mary Liddell"),
		myaccounttest.WithClaim("email", "alice.w@example.com"), myaccounttest.WithClaim("nickname", "wonder"))

	const good = "Vq7#mZp2!kR" // breaks no rule
	for _, tc := range []struct{ password, detail string }{
		{"Vq7#mZp2!", "at least 10 characters"},
		{"vq7#mzp2!kr", "an uppercase letter"},
		{"VQ7#MZP2!KR", "a lowercase letter"},
		{"Vqx#mZpy!kR", "a number"},
		{"Vq7xmZp2ykR", "a special character"},
		{"Vq7#mZp2!kRRR", "3 identical characters"},
		{"Vq7#mZp2!kR789", "3 consecutive"},
		{"Vq7#mZp2!kR-zyx", "3 consecutive"},
		{"Vq7#Liddell2!", "your name"},
		{"Vq7#Alice.W2!", "your email"},
		{"Vq7#Wonder2!x", "your nickname"},
		{"Sunshine2024!", "too common"},
		{"P@ssw0rd1940!", "too common"},
	} {
		r, _ := h.setPassword(token, tc.password)
		wantReasons(t, r, 1, tc.detail)
	}
	// Several rules broken give one entry each.
	r, _ := h.setPassword(token, "bbb")
	wantReasons(t, r, 5, "at least 10 characters") // length, uppercase, number, special, identical
	// A rule broken leaves the session usable: the user fixes the password.
	e := h.start(token, map[string]any{"type": "password"})
	id := e["id"].(string)
	wantReasons(t, h.finish(token, id, map[string]any{"auth_session": e["auth_session"], "new_password": "short"}), 4, "at least")
	wantStatus(t, h.finish(token, id, map[string]any{"auth_session": e["auth_session"], "new_password": good}), http.StatusCreated)

	// The schema's own limits come first, at /new_password too.
	for _, bad := range []any{"", strings.Repeat("Aa1!", 64) + "x", "Vq7#mZp2!k\n", 12345} {
		e := h.start(token, map[string]any{"type": "password"})
		wantPointer(t, h.finish(token, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "new_password": bad}), "/new_password")
	}
}

func TestPasswordHistory(t *testing.T) {
	store := myaccount.NewMemoryStore()
	h := passwordHarness(t, newPasswords(t, strictPolicy(), 0), store, nil)
	alice := h.token("auth0|alice")
	passwords := []string{"Vq7#mZp2!kR", "Wp8$nXq3@jS", "Xr9%oYr4#hT", "Ys6^pWs5$gU"}
	set := func(p string) *response { r, _ := h.setPassword(alice, p); return r }

	wantStatus(t, set(passwords[0]), http.StatusCreated)
	wantReasons(t, set(passwords[0]), 1, "last 3 passwords") // the current one
	wantStatus(t, set(passwords[1]), http.StatusCreated)
	wantStatus(t, set(passwords[2]), http.StatusCreated)
	wantReasons(t, set(passwords[0]), 1, "last 3 passwords") // two changes back
	wantStatus(t, set(passwords[3]), http.StatusCreated)
	// Three newer passwords push the first out of the history.
	wantStatus(t, set(passwords[0]), http.StatusCreated)
	list := h.list(alice, "password")
	if len(list) != 1 {
		t.Fatalf("%d password methods after changes, want 1", len(list))
	}
	// The store keeps no more than the policy needs: the 2 before the current one.
	m, err := store.GetMethod(context.Background(), h.issuer.Issuer, "auth0|alice", list[0].(map[string]any)["id"].(string))
	if err != nil || len(m.SecretHistory) != 2 {
		t.Errorf("stored history of %d hashes (%v), want 2", len(m.SecretHistory), err)
	}
}

// One password per identity: two first enrollments verified at once store one.
func TestPasswordOnePerIdentity(t *testing.T) {
	h := passwordHarness(t, newPasswords(t, nil, 0), nil, nil)
	alice := h.token("auth0|alice")
	starts := []map[string]any{h.start(alice, map[string]any{"type": "password"}), h.start(alice, map[string]any{"type": "password"})}
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i, e := range starts {
		wg.Go(func() {
			r := h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "new_password": fmt.Sprintf("Correct-Horse-%d", i)})
			statuses[i] = r.status
		})
	}
	wg.Wait()
	slices.Sort(statuses)
	if !slices.Equal(statuses, []int{http.StatusCreated, http.StatusConflict}) {
		t.Errorf("statuses %v, want one 201 and one 409", statuses)
	}
	if n := len(h.list(alice, "password")); n != 1 {
		t.Errorf("%d password methods, want 1", n)
	}
}

// 50 password sets at once never run more hashes at once than the bound.
func TestPasswordHashesBounded(t *testing.T) {
	const bound, users = 3, 50
	backend, err := myaccount.NewArgon2Passwords(myaccount.Argon2Options{
		Memory: 1024, Time: 1, Threads: 1, MaxConcurrentHashes: bound,
	})
	if err != nil {
		t.Fatal(err)
	}
	var running, most, total atomic.Int64
	myaccount.SetHashHook(backend, func(start bool) {
		if !start {
			running.Add(-1)
			return
		}
		total.Add(1)
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(2 * time.Millisecond) // so that unbounded hashes would overlap
	})
	h := passwordHarness(t, backend, nil, nil)
	var wg sync.WaitGroup
	for i := range users {
		token := h.token(fmt.Sprintf("auth0|user%d", i))
		e := h.start(token, map[string]any{"type": "password"})
		wg.Go(func() {
			r := h.finish(token, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "new_password": "Correct-Horse-7"})
			if r.status != http.StatusCreated {
				t.Errorf("set %d: %d %s", i, r.status, r.body)
			}
		})
	}
	wg.Wait()
	if most.Load() > bound || total.Load() != users {
		t.Errorf("%d hashes, at most %d at once; want %d, at most %d", total.Load(), most.Load(), users, bound)
	}
	t.Logf("%d hashes, at most %d at once", total.Load(), most.Load())
}

// A set that cannot get a hashing turn before its request's context ends is 503.
func TestPasswordHashWaitEnds(t *testing.T) {
	backend := newPasswords(t, nil, 1)
	started, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	myaccount.SetHashHook(backend, func(start bool) {
		if start && first.CompareAndSwap(false, true) {
			close(started)
			<-release
		}
	})
	h := passwordHarness(t, backend, nil, nil)
	// A second server on the same API whose requests end after 100ms, as an
	// app's timeout middleware would make them.
	timed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 100*time.Millisecond)
		defer cancel()
		h.api.ServeHTTP(w, r.WithContext(ctx))
	}))
	t.Cleanup(timed.Close)
	ht := *h // the same API, reached through the timed server
	ht.server = timed

	alice, bob := h.token("auth0|alice"), h.token("auth0|bob")
	holder := make(chan *response, 1)
	go func() { r, _ := h.setPassword(alice, "Correct-Horse-7"); holder <- r }()
	<-started
	r, _ := ht.setPassword(bob, "Correct-Horse-8")
	wantError(t, r, http.StatusServiceUnavailable, "A0E-503-0001")
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	close(release)
	wantStatus(t, <-holder, http.StatusCreated)
	if n := len(h.list(bob, "password")); n != 0 {
		t.Errorf("bob has %d passwords after a 503", n)
	}
}

// shelfBackend keeps passwords in a map of its own, as an app whose passwords
// live elsewhere would, with a policy of its own and a rule the API does not know.
type shelfBackend struct {
	mu        sync.Mutex
	passwords map[string]string // identity → password
}

func (b *shelfBackend) Policy(context.Context, myaccount.PasswordUser) (myaccount.PasswordPolicy, error) {
	var p myaccount.PasswordPolicy
	p.Complexity.MinLength, p.Complexity.CharacterTypeRule = 12, "all"
	p.Complexity.IdenticalCharacters, p.Complexity.SequentialCharacters, p.Complexity.MaxLengthExceeded = "allow", "allow", "truncate"
	p.Dictionary.Default = "en_100k"
	return p, nil
}

func (b *shelfBackend) SetPassword(_ context.Context, u myaccount.PasswordUser, password string, _ *myaccount.Method) ([]byte, error) {
	if strings.Contains(password, "shelf") {
		return nil, &myaccount.PasswordRejectedError{Reasons: []string{"must not name the shelf"}}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.passwords[u.IdentityUserID] = password
	return nil, nil
}

func TestPasswordOwnBackend(t *testing.T) {
	backend := &shelfBackend{passwords: map[string]string{}}
	store := myaccount.NewMemoryStore()
	h := passwordHarness(t, backend, store, nil)
	alice := h.token("auth0|alice")

	e := h.start(alice, map[string]any{"type": "password"})
	c := e["policy"].(map[string]any)["complexity"].(map[string]any)
	if c["min_length"] != float64(12) || c["max_length_exceeded"] != "truncate" || c["character_types"] == nil {
		t.Errorf("policy %v", e["policy"])
	}
	r, _ := h.setPassword(alice, "short")
	wantReasons(t, r, 1, "at least 12")
	r, _ = h.setPassword(alice, "put it on the shelf")
	wantReasons(t, r, 1, "must not name the shelf")
	r, _ = h.setPassword(alice, "password")
	wantReasons(t, r, 1, "at least 12") // dictionary off: only the length
	r, id := h.setPassword(alice, "correct horse battery")
	wantStatus(t, r, http.StatusCreated)
	if got := backend.passwords["alice"]; got != "correct horse battery" {
		t.Errorf("backend holds %q", got)
	}
	m, err := store.GetMethod(context.Background(), h.issuer.Issuer, "auth0|alice", id)
	if err != nil || len(m.Secret) != 0 || m.SecretSetAt.IsZero() {
		t.Errorf("stored %+v, %v: want no secret and a reset time", m, err)
	}
}

// Each identity of a user has its own password, and a POST names the one of
// the identity it is for.
func TestPasswordPerIdentity(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) {
		c.Passwords.Backend = newPasswords(t, nil, 0)
		c.Users.AllowIdentity = func(_ context.Context, _ *myaccount.Claims, identity, connection string) bool {
			return identity == "linked-42" && connection == "corporate"
		}
	})
	alice := h.token("auth0|alice")
	r, own := h.setPassword(alice, "Correct-Horse-7")
	wantStatus(t, r, http.StatusCreated)
	linked := map[string]any{"type": "password", "identity_user_id": "linked-42", "connection": "corporate"}
	e := h.start(alice, linked)
	if e["id"] == own {
		t.Fatal("the linked identity's enrollment names the own identity's password")
	}
	r = h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "new_password": "Battery-Staple-9"})
	wantStatus(t, r, http.StatusCreated)
	if got := r.json(t)["identity_user_id"]; got != "linked-42" {
		t.Errorf("identity_user_id %v", got)
	}
	if again := h.start(alice, linked); again["id"] != e["id"] {
		t.Errorf("second enrollment of the linked identity: id %v, want %v", again["id"], e["id"])
	}
	if again := h.start(alice, map[string]any{"type": "password"}); again["id"] != own {
		t.Errorf("second enrollment of the own identity: id %v, want %v", again["id"], own)
	}
	if n := len(h.list(alice, "password")); n != 2 {
		t.Errorf("%d password methods, want 2", n)
	}
	delete(linked, "connection")
	wantPointer(t, h.do("POST", "/me/v1/authentication-methods", alice, linked), "/identity_user_id")
}

// badPolicyBackend gives a policy the API cannot show.
type badPolicyBackend struct{ *shelfBackend }

func (badPolicyBackend) Policy(context.Context, myaccount.PasswordUser) (myaccount.PasswordPolicy, error) {
	var p myaccount.PasswordPolicy
	p.Complexity.CharacterTypeRule = "most"
	return p, nil
}

func TestPasswordBackendErrors(t *testing.T) {
	var logs bytes.Buffer
	h := passwordHarness(t, badPolicyBackend{&shelfBackend{}}, nil, &logs)
	r := h.do("POST", "/me/v1/authentication-methods", h.token("auth0|alice"), map[string]any{"type": "password"})
	wantError(t, r, http.StatusServiceUnavailable, "A0E-503-0001")
	if !strings.Contains(logs.String(), "character_type_rule") {
		t.Errorf("the policy's fault is not logged: %s", logs.String())
	}

	bad := strictPolicy()
	bad.History.Size = 0
	if _, err := myaccount.NewArgon2Passwords(myaccount.Argon2Options{Policy: bad}); !errors.Is(err, myaccount.ErrConfig) {
		t.Errorf("active history of size 0: %v, want ErrConfig", err)
	}
	if _, err := myaccount.NewArgon2Passwords(myaccount.Argon2Options{MaxConcurrentHashes: -1}); !errors.Is(err, myaccount.ErrConfig) {
		t.Errorf("MaxConcurrentHashes -1: %v, want ErrConfig", err)
	}
	backend := newPasswords(t, nil, 0)
	for _, secret := range []string{"", "junk", "$argon2id$v=19$m=99999999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"} {
		m := &myaccount.Method{Type: "password", Secret: []byte(secret)}
		if ok, err := backend.CheckPassword(context.Background(), m, "x"); ok || err == nil {
			t.Errorf("CheckPassword of Secret %q: %v, %v; want an error", secret, ok, err)
		}
	}
}
