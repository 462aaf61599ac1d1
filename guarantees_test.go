package myaccount_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"golang.org/x/text/unicode/norm"
)

// respell returns other spellings of an auth_session that a lenient base64url
// decoder reads as the same bytes (or as bytes differing only in unused
// trailing bits), as the review sent them.
func respell(s string) []string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	spellings := []string{"\r" + s, "\r\r" + s, "\n" + s, s[:len(s)/2] + "\n" + s[len(s)/2:], s + "\r\n", " " + s, s + "=",
		s[:len(s)-1] + string(alphabet[last^1])} // the lowest bit of the last character: unused when len%4 != 0
	for i := 1; i <= 20; i++ {
		spellings = append(spellings, strings.Repeat("\n", i)+s)
	}
	return spellings
}

// TestAuthSessionHasOneSpelling replays the review's attack on M1: after five
// wrong email codes, respelt sessions are refused as invalid sessions (400 at
// /auth_session), never evaluated as new ones; and the right code sent with a
// respelling never gives a second method.
func TestAuthSessionHasOneSpelling(t *testing.T) {
	box := &outbox{}
	h := newHarness(t, withOutbox(box))
	alice := h.token("auth0|alice")
	verify := func(e map[string]any, session, code string) *response {
		return h.finish(alice, e["id"].(string), map[string]any{"auth_session": session, "otp_code": code})
	}

	e := h.start(alice, map[string]any{"type": "email", "email": "alice@example.com"})
	session, right := e["auth_session"].(string), box.last(t).Code
	wrong := fmt.Sprintf("%06d", (atoi(right)+1)%1000000)
	for range 5 {
		wantPointer(t, verify(e, session, wrong), "/otp_code")
	}
	for _, s := range respell(session) {
		r := verify(e, s, wrong)
		wantPointer(t, r, "/auth_session")
		wantPointer(t, verify(e, s, right), "/auth_session")
	}
	wantPointer(t, verify(e, session, right), "/auth_session")

	// A fresh session: its respellings are refused before and after the
	// right code is accepted once under its one spelling.
	e = h.start(alice, map[string]any{"type": "email", "email": "alice@example.com"})
	session, right = e["auth_session"].(string), box.last(t).Code
	for _, s := range respell(session) {
		wantPointer(t, verify(e, s, right), "/auth_session")
	}
	wantStatus(t, verify(e, session, right), http.StatusCreated)
	for _, s := range append(respell(session), session) {
		if r := verify(e, s, right); r.status == http.StatusCreated {
			t.Fatalf("a second 201 with %q", s)
		}
	}
	if n := len(h.list(alice, "email")); n != 1 {
		t.Errorf("%d email methods, want 1", n)
	}
}

// storeThatMustNotBeAsked fails the test on any call.
type storeThatMustNotBeAsked struct {
	myaccount.Store
	t *testing.T
}

func (s storeThatMustNotBeAsked) fail(what string) { s.t.Errorf("the store was asked: %s", what) }

func (s storeThatMustNotBeAsked) CreateMethod(context.Context, *myaccount.Method, int, myaccount.SessionRef) error {
	s.fail("CreateMethod")
	return myaccount.ErrNotFound
}

func (s storeThatMustNotBeAsked) ListMethods(context.Context, string, string, string) ([]*myaccount.Method, error) {
	s.fail("ListMethods")
	return nil, nil
}

func (s storeThatMustNotBeAsked) GetMethod(_ context.Context, _, _, id string) (*myaccount.Method, error) {
	s.fail("GetMethod " + strconv.Quote(id))
	return nil, myaccount.ErrNotFound
}

func (s storeThatMustNotBeAsked) UpdateMethod(_ context.Context, _, _, id string, _ myaccount.MethodUpdate) (*myaccount.Method, error) {
	s.fail("UpdateMethod " + strconv.Quote(id))
	return nil, myaccount.ErrNotFound
}

func (s storeThatMustNotBeAsked) DeleteMethod(_ context.Context, _, _, id string, _ func(*myaccount.Method, []*myaccount.Method) error) error {
	s.fail("DeleteMethod " + strconv.Quote(id))
	return myaccount.ErrNotFound
}

func (s storeThatMustNotBeAsked) AdvanceTOTPStep(_ context.Context, _, _, id string, _ int64) (bool, error) {
	s.fail("AdvanceTOTPStep " + strconv.Quote(id))
	return false, myaccount.ErrNotFound
}

func (s storeThatMustNotBeAsked) UserHandle(context.Context, string, string, []byte) ([]byte, error) {
	s.fail("UserHandle")
	return nil, myaccount.ErrNotFound
}

func (s storeThatMustNotBeAsked) SpendSession(context.Context, myaccount.SessionRef) error {
	s.fail("SpendSession")
	return nil
}

func (s storeThatMustNotBeAsked) CountAttempt(context.Context, myaccount.SessionRef, int) error {
	s.fail("CountAttempt")
	return nil
}

func (s storeThatMustNotBeAsked) SetSecret(context.Context, string, string, string, []byte, time.Time, int, myaccount.SessionRef) (*myaccount.Method, error) {
	s.fail("SetSecret")
	return nil, myaccount.ErrNotFound
}

// offGrammarIDs are escaped path segments that are no method's id: the
// review's NUL, invalid UTF-8 and overlong encoding, and near misses of the
// grammar.
var offGrammarIDs = []string{
	"x%00y", "x%FFy", "x%C0%80", "totp%7Cdev_AAAAAAAA%00AAAAAAA", "passkey%7Cdev_AAAAAAAAAAAAAAA%FF",
	"totp%7Cdev_AAAAAAAAAAAAAAA", "totp%7Cdev_AAAAAAAAAAAAAAAAA", "TOTP%7Cdev_AAAAAAAAAAAAAAAA",
	"fax%7Cdev_AAAAAAAAAAAAAAAA", "totp%7Cnew", "passkey%7Cnew%00", "%E2%80%AEtotp%7Cdev_AAAAAAAAAAAAAAAA",
	"totp%7Cdev_AAAAAAAAAAAAAAA%C3%A9", "totp%7Cdev_AAAAAAAA-AAAAAAA", "totp%7Cdev%5FAAAAAAAAAAAAAAAA%20",
}

// TestMethodIDOffGrammarIs404BeforeStore proves L1: an id off the grammar is
// 404 on GET, PATCH, DELETE and verify, and no store method is called.
func TestMethodIDOffGrammarIs404BeforeStore(t *testing.T) {
	h := newHarness(t, withOutbox(&outbox{}), func(c *myaccount.Config) {
		c.Store, c.SecretKeys = storeThatMustNotBeAsked{myaccount.NewMemoryStore(), t}, testKeys
	})
	alice := h.token("auth0|alice")
	for _, id := range offGrammarIDs {
		path := "/me/v1/authentication-methods/" + id
		wantError(t, h.do("GET", path, alice, nil), 404, "A0E-404-0001")
		wantError(t, h.do("PATCH", path, alice, map[string]any{"name": "x"}), 404, "A0E-404-0001")
		wantError(t, h.do("DELETE", path, alice, nil), 404, "A0E-404-0001")
		wantError(t, h.do("POST", path+"/verify", alice, map[string]any{"auth_session": "AAAA", "otp_code": "123456"}), 404, "A0E-404-0001")
	}
}

// TestTextHoldsNoControlOrFormatCharacters proves L2: an email address or a
// name with a control, format (bidi, zero-width), line or paragraph separator
// character is 400 at its pointer, and nothing is sent or stored; a user
// agent is stored with them removed.
func TestTextHoldsNoControlOrFormatCharacters(t *testing.T) {
	box := &outbox{}
	h := newHarness(t, withOutbox(box))
	alice := h.token("auth0|alice")
	for _, email := range []string{"support\u202e@moc.elgoog.com", "alice\u200b@example.com", "alice@exa\u200dmple.com",
		"alice@example.com\u2028", "\ufeffalice@example.com", "alice@example.com\u2029", "al\u0085ice@example.com"} {
		wantPointer(t, h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "email", "email": email}), "/email")
	}
	if len(box.sent) != 0 {
		t.Errorf("%d codes sent to refused addresses", len(box.sent))
	}

	auth := myaccounttest.NewAuthenticator()
	e := h.begin(alice)
	body, _ := json.Marshal(map[string]any{"auth_session": e.AuthSession, "authn_response": attest(t, auth, e)})
	req, _ := http.NewRequest("POST", h.server.URL+"/me/v1/authentication-methods/passkey%7Cnew/verify", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("User-Agent", "Mozilla/5.0 \u202e(evil)\u200b \u2028Safari\u2029\ufeff")
	r := h.send(req)
	wantStatus(t, r, http.StatusCreated)
	m := r.json(t)
	if ua := m["user_agent"]; ua != "Mozilla/5.0 (evil) Safari" {
		t.Errorf("user_agent stored as %q", ua)
	}
	path := "/me/v1/authentication-methods/" + url.PathEscape(m["id"].(string))
	for _, name := range []string{"Laptop \u202egpj.exe", "Work\u200blaptop", "a\u2028b", "a\u0007b", "\u2066key"} {
		wantPointer(t, h.do("PATCH", path, alice, map[string]any{"name": name}), "/name")
	}
	if got := h.do("GET", path, alice, nil).json(t)["name"]; got != nil {
		t.Errorf("a refused name was stored: %q", got)
	}
}

// TestPasswordIsNFKCBeforeEveryRuleAndHash proves L4: the full-width form of
// a common password is that common password, the NFD form of the current
// password is the current password, a password's length is counted in its
// NFKC form, and the password set in one form signs in typed in another.
func TestPasswordIsNFKCBeforeEveryRuleAndHash(t *testing.T) {
	passwords := newPasswords(t, nil, 0)
	store := myaccount.NewMemoryStore()
	h := passwordHarness(t, passwords, store, nil)
	alice := h.token("auth0|alice")

	r, _ := h.setPassword(alice, "Ｐａｓｓｗｏｒｄ１２３!")
	wantReasons(t, r, 1, "too common")
	// Six characters written as ten code points: E, n, u and A each with a
	// combining mark, then "1!".
	r, _ = h.setPassword(alice, "E\u0301n\u0303u\u0308A\u030a1!")
	wantReasons(t, r, 1, "at least 8 characters")

	const composed = "Crème brûlée 42!"
	decomposed := norm.NFD.String(composed)
	if decomposed == composed {
		t.Fatal("the test needs a password whose NFD form differs")
	}
	r, id := h.setPassword(alice, composed)
	wantStatus(t, r, http.StatusCreated)
	r, _ = h.setPassword(alice, decomposed)
	wantReasons(t, r, 1, "last 5 passwords")
	r, _ = h.setPassword(alice, "Ｃｒèｍｅ ｂｒûｌéｅ ４２！")
	wantReasons(t, r, 1, "last 5 passwords")

	m, err := store.GetMethod(context.Background(), h.issuer.Issuer, "auth0|alice", id)
	if err != nil {
		t.Fatal(err)
	}
	for _, typed := range []string{composed, decomposed} {
		if ok, err := passwords.CheckPassword(context.Background(), m, typed); !ok || err != nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want a match", typed, ok, err)
		}
	}
}

// TestRefusedPasswordVerifiesSpendTheSession proves the first half of L5: a
// verify whose password the policy or the history refuses is one of the
// session's 5 attempts; the sixth is refused before any hash runs.
func TestRefusedPasswordVerifiesSpendTheSession(t *testing.T) {
	passwords := newPasswords(t, nil, 0)
	var hashes atomic.Int64
	myaccount.SetHashHook(passwords, func(start bool) {
		if start {
			hashes.Add(1)
		}
	})
	h := passwordHarness(t, passwords, nil, nil)
	alice := h.token("auth0|alice")
	const current = "Correct-Horse-7"
	r, _ := h.setPassword(alice, current)
	wantStatus(t, r, http.StatusCreated)

	e := h.start(alice, map[string]any{"type": "password"})
	verify := func(password string) *response {
		return h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "new_password": password})
	}
	for i := range 5 {
		if i%2 == 0 {
			wantReasons(t, verify(current), 1, "last 5 passwords") // the history
		} else {
			wantReasons(t, verify("password"), 2, "three of") // the policy
		}
	}
	before := hashes.Load()
	wantPointer(t, verify("Another-Horse-8"), "/auth_session")
	if n := hashes.Load() - before; n != 0 {
		t.Errorf("%d hashes for a verify past the session's attempts", n)
	}
	if r, _ := h.setPassword(alice, "Another-Horse-8"); r.status != http.StatusCreated {
		t.Errorf("a new session: %d %s", r.status, r.body)
	}
}

// TestOneUsersPasswordHashesRunOneAtATime proves the second half of L5: one
// user's password sets hash one at a time however many slots are free, a set
// that waits past MaxUserWait is 503, another user's set meanwhile goes
// through at once, and no turn is left behind.
func TestOneUsersPasswordHashesRunOneAtATime(t *testing.T) {
	passwords, err := myaccount.NewArgon2Passwords(myaccount.Argon2Options{
		Memory: fastArgon2.Memory, Time: fastArgon2.Time, Threads: fastArgon2.Threads, MaxConcurrentHashes: 8, MaxUserWait: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	var running, most atomic.Int64
	block := make(chan struct{})
	var blocking atomic.Bool
	myaccount.SetHashHook(passwords, func(start bool) {
		if !start {
			running.Add(-1)
			return
		}
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if blocking.Load() {
			<-block
		}
		time.Sleep(2 * time.Millisecond) // so that hashes run at once would overlap
	})
	h := passwordHarness(t, passwords, nil, nil)
	alice := h.token("auth0|alice")
	sessions := make([]map[string]any, 8)
	for i := range sessions {
		sessions[i] = h.start(alice, map[string]any{"type": "password"})
	}
	var wg sync.WaitGroup
	for i, e := range sessions {
		wg.Go(func() {
			r := h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "new_password": fmt.Sprintf("Correct-Horse-%d", i)})
			if r.status != http.StatusCreated && r.status != http.StatusConflict && r.status != http.StatusBadRequest {
				t.Errorf("set %d: %d %s", i, r.status, r.body)
			}
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("one user's hashes: %d at once, want 1", most.Load())
	}

	// Alice's turn held by a hash that does not end: her next set waits
	// MaxUserWait and gets 503, while Bob's is served.
	blocking.Store(true)
	held := make(chan *response, 1)
	go func() { r, _ := h.setPassword(alice, "Held-Horse-9"); held <- r }()
	for running.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	blocking.Store(false)
	start := time.Now()
	r, _ := h.setPassword(alice, "Waiting-Horse-9")
	wantError(t, r, http.StatusServiceUnavailable, "A0E-503-0001")
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("503 after %v, before MaxUserWait", waited)
	}
	r, _ = h.setPassword(h.token("auth0|bob"), "Bobs-Horse-9")
	wantStatus(t, r, http.StatusCreated)
	close(block)
	if r := <-held; r.status != http.StatusCreated {
		t.Errorf("the held set: %d %s", r.status, r.body)
	}
	if n := myaccount.HashTurns(passwords); n != 0 {
		t.Errorf("%d users still hold hashing turns", n)
	}
}

// TestRoutesAnswerPreflightForEveryCORSOrigin proves L8: Routes registers the
// OPTIONS routes from the same merged origins the handler answers, so that a
// preflight through a router is answered for CORS.Origins.
func TestRoutesAnswerPreflightForEveryCORSOrigin(t *testing.T) {
	for name, cfg := range map[string]myaccount.Config{
		"CORS.Origins": {CORS: myaccount.CORSConfig{Origins: []string{"https://app.example"}}},
	} {
		t.Run(name, func(t *testing.T) {
			iss := myaccounttest.NewIssuer(t)
			cfg.Issuer = iss.Issuer
			api, err := myaccount.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer api.Close()
			mux := http.NewServeMux()
			for _, r := range api.Routes() {
				mux.Handle(r.Method+" "+r.Pattern, r.Handler)
			}
			for _, path := range []string{"/me/v1/authentication-methods", "/me/authentication-methods/passkey%7Cdev_AAAAAAAAAAAAAAAA"} {
				req := httptest.NewRequest("OPTIONS", path, nil)
				req.Header.Set("Origin", "https://app.example")
				req.Header.Set("Access-Control-Request-Method", "PATCH")
				req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				if rec.Code >= 300 || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example" {
					t.Errorf("preflight of %s: %d %v", path, rec.Code, rec.Header())
				}
			}
		})
	}
}

// TestSendQuotasAreCheckedBeforeAnythingIsSent proves L6: by default at most
// 5 codes go to one destination per 15 minutes, whichever users ask, and 20
// per user per hour; past either the POST is 429 with Retry-After and nothing
// is sent. Two instances sharing a Limiter share the quotas.
func TestSendQuotasAreCheckedBeforeAnythingIsSent(t *testing.T) {
	box := &outbox{}
	limiter := myaccount.NewMemoryLimiter(0)
	h := newHarness(t, withOutbox(box), func(c *myaccount.Config) { c.RateLimits.Limiter = limiter })
	// A second instance of the same deployment, on the same Limiter.
	other, err := myaccount.New(myaccount.Config{
		Issuer: h.issuer.Issuer, Audience: h.issuer.Audience, Token: myaccount.TokenConfig{JWKSURL: h.issuer.JWKSURL()},
		WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{testOrigin}}, Messages: myaccount.MessageConfig{Sender: box},
		RateLimits: myaccount.RateLimitConfig{Limiter: limiter, Tenant: myaccount.RateLimit{Rate: 1e6, Burst: 1e6}, User: myaccount.RateLimit{Rate: 1e6, Burst: 1e6}},
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	h2 := *h
	h2.server = httptest.NewServer(other)
	t.Cleanup(h2.server.Close)

	sent := func() int { box.mu.Lock(); defer box.mu.Unlock(); return len(box.sent) }
	refused := func(r *response) {
		t.Helper()
		wantError(t, r, http.StatusTooManyRequests, "A0E-429-0001")
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
			t.Errorf("429 with Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	victim := map[string]any{"type": "phone", "phone_number": "+14155550123", "preferred_authentication_method": "voice"}
	alice, bob := h.token("auth0|alice"), h.token("auth0|bob")
	for i := range 5 {
		hh := h
		if i%2 == 1 {
			hh = &h2
		}
		hh.start(alice, victim)
	}
	before := sent()
	refused(h.do("POST", "/me/v1/authentication-methods", alice, victim))
	refused(h2.do("POST", "/me/v1/authentication-methods", bob, victim))
	if n := sent() - before; n != 0 {
		t.Errorf("%d codes sent past the destination quota", n)
	}

	// An address in other cases is the same destination.
	carol := h.token("auth0|carol")
	for _, email := range []string{"dora@example.com", "Dora@example.com", "DORA@example.com", "dora@EXAMPLE.com", "Dora@Example.Com"} {
		h.start(carol, map[string]any{"type": "email", "email": email})
	}
	refused(h2.do("POST", "/me/v1/authentication-methods", carol, map[string]any{"type": "email", "email": "dOrA@example.com"}))

	// One user's sends to 20 destinations spend the user's quota.
	erin := h.token("auth0|erin")
	for i := range 20 {
		h.start(erin, map[string]any{"type": "phone", "phone_number": fmt.Sprintf("+1415555%04d", 1000+i)})
	}
	before = sent()
	refused(h2.do("POST", "/me/v1/authentication-methods", erin, map[string]any{"type": "phone", "phone_number": "+14155559999"}))
	refused(h.do("POST", "/me/v1/authentication-methods", erin, map[string]any{"type": "email", "email": "erin@example.com"}))
	if n := sent() - before; n != 0 {
		t.Errorf("%d codes sent past the user quota", n)
	}
	// Another user still reaches a fresh destination.
	h.start(bob, map[string]any{"type": "phone", "phone_number": "+14155559999"})
}

// TestRefusedTokensAreAuditedAtABoundedRatePerAddress proves L7: 200 requests
// with a bad token from one address are one audit line, not 200; the next
// event of that address, an interval later, carries the count of the
// refusals in between; other addresses are counted apart.
func TestRefusedTokensAreAuditedAtABoundedRatePerAddress(t *testing.T) {
	var buf testenv.Buffer
	h := newHarness(t, func(c *myaccount.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
		c.TrustForwardedHeaders = true
		c.Audit.RefusedTokenInterval = 500 * time.Millisecond
	})
	refuse := func(addr string) {
		req, _ := http.NewRequest("GET", h.server.URL+"/me/v1/authentication-methods", nil)
		req.Header.Set("Authorization", "Bearer not.a.token")
		req.Header.Set("X-Forwarded-For", addr)
		wantStatus(t, h.send(req), http.StatusUnauthorized)
	}
	records := func() (counts map[string][]float64) {
		counts = map[string][]float64{}
		dec := json.NewDecoder(strings.NewReader(buf.String()))
		for {
			var rec map[string]any
			if dec.Decode(&rec) != nil {
				return counts
			}
			if rec["event"] == myaccount.AuditTokenRefused {
				addr, _ := rec["client_ip"].(string)
				n, _ := rec["count"].(float64)
				counts[addr] = append(counts[addr], n)
			}
		}
	}
	start := time.Now()
	for range 200 {
		refuse("198.51.100.7")
	}
	refuse("203.0.113.5")
	if time.Since(start) >= 500*time.Millisecond {
		t.Skip("the requests took longer than the interval; the counts would differ")
	}
	got := records()
	if len(got["198.51.100.7"]) != 1 || got["198.51.100.7"][0] != 1 || len(got["203.0.113.5"]) != 1 {
		t.Fatalf("events per address %v, want one each", got)
	}
	time.Sleep(500 * time.Millisecond)
	refuse("198.51.100.7")
	if got := records()["198.51.100.7"]; len(got) != 2 || got[1] != 200 {
		t.Errorf("counts %v, want [1 200]: the event an interval later counts the 199 refusals between and itself", got)
	}
}

// TestReplayCacheCannotBeFlushed replays the review's attack on M2, scaled
// down to a cache of 20: a victim's request is served, an attacker floods the
// API with proofs of their own token, and the victim's captured proof, sent
// again with another body, is still refused. Proofs refused for their rate
// are never recorded; a full cache refuses new proofs with 503 and
// Retry-After instead of forgetting one.
func TestReplayCacheCannotBeFlushed(t *testing.T) {
	cache := myaccount.NewMemoryReplayCache(20)
	h := newHarness(t, func(c *myaccount.Config) {
		c.Token.DPoP.ReplayCache = cache
		c.RateLimits.Tenant = myaccount.RateLimit{Rate: 5, Burst: 5}
		c.RateLimits.User = myaccount.RateLimit{Disabled: true}
	})
	victimKey, attackerKey := myaccounttest.NewTestDPoPKey(t), myaccounttest.NewTestDPoPKey(t)
	victim, attacker := h.boundToken("auth0|alice", victimKey), h.boundToken("auth0|mallory", attackerKey)
	send := func(method, path, token, proof string, body any) *response {
		req := h.request(method, path, body)
		req.Header.Set("Authorization", "DPoP "+token)
		req.Header.Set("DPoP", proof)
		return h.send(req)
	}
	proof := func(key *myaccounttest.DPoPKey, method, path, token string) string {
		p, err := key.Proof(method, h.server.URL+path, token)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	captured := proof(victimKey, "POST", "/me/v1/authentication-methods", victim)
	wantStatus(t, send("POST", "/me/v1/authentication-methods", victim, captured, map[string]any{"type": "passkey"}), http.StatusAccepted)
	statuses := map[int]int{}
	for range 300 {
		r := send("GET", "/me/v1/factors", attacker, proof(attackerKey, "GET", "/me/v1/factors", attacker), nil)
		statuses[r.status]++
		if r.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	}
	if n := myaccount.ReplayCacheLen(cache); n > 20 || n > 1+statuses[http.StatusOK] {
		t.Errorf("%d proofs recorded after %v: only served requests may record one", n, statuses)
	}
	time.Sleep(1100 * time.Millisecond) // the tenant bucket refills
	r := send("POST", "/me/v1/authentication-methods", victim, captured, map[string]any{"type": "totp"})
	wantChallenges(t, h, r, "DPoP", "invalid_dpop_proof")

	// Past its size the cache refuses new proofs, and still knows old ones.
	small := myaccount.NewMemoryReplayCache(5)
	h = newHarness(t, func(c *myaccount.Config) { c.Token.DPoP.ReplayCache = small })
	victim, attacker = h.boundToken("auth0|alice", victimKey), h.boundToken("auth0|mallory", attackerKey)
	captured = proof(victimKey, "POST", "/me/v1/authentication-methods", victim)
	wantStatus(t, send("POST", "/me/v1/authentication-methods", victim, captured, map[string]any{"type": "passkey"}), http.StatusAccepted)
	for i := range 10 {
		r := send("GET", "/me/v1/factors", attacker, proof(attackerKey, "GET", "/me/v1/factors", attacker), nil)
		if i < 4 {
			wantStatus(t, r, http.StatusOK)
			continue
		}
		wantError(t, r, http.StatusServiceUnavailable, "A0E-503-0001")
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 120 {
			t.Errorf("503 with Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	wantChallenges(t, h, send("POST", "/me/v1/authentication-methods", victim, captured, map[string]any{"type": "totp"}), "DPoP", "invalid_dpop_proof")
}
