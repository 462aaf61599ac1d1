package myaccount_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/pquerna/otp/totp"
)

// outbox is a Sender that keeps what it is asked to send, for tests to read
// the codes; fail makes it refuse.
type outbox struct {
	mu   sync.Mutex
	sent []myaccount.Message
	fail bool
}

func (o *outbox) Send(_ context.Context, m myaccount.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail {
		return errors.New("provider said no (secret internals)")
	}
	o.sent = append(o.sent, m)
	return nil
}

func (o *outbox) last(t *testing.T) myaccount.Message {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.sent) == 0 {
		t.Fatal("nothing was sent")
	}
	return o.sent[len(o.sent)-1]
}

// withOutbox offers email and phone through a fresh outbox.
func withOutbox(o *outbox) func(*myaccount.Config) {
	return func(c *myaccount.Config) { c.Messages.Sender = o }
}

// start posts an enrollment body and returns the 202's body; it checks what
// every type's 202 must have: the id and a Location that names it.
func (h *harness) start(token string, body map[string]any) map[string]any {
	h.t.Helper()
	r := h.do("POST", "/me/v1/authentication-methods", token, body)
	if r.status != http.StatusAccepted {
		h.t.Fatalf("enroll %v: status %d: %s", body, r.status, r.body)
	}
	m := r.json(h.t)
	id, _ := m["id"].(string)
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(body["type"].(string)) + `\|dev_[A-Za-z0-9]{16}$`).MatchString(id) {
		h.t.Errorf("202 id %q", id)
	}
	if loc := r.header.Get("Location"); loc != h.server.URL+"/me/v1/authentication-methods/"+url.PathEscape(id) {
		h.t.Errorf("Location %q for id %q", loc, id)
	}
	return m
}

// finish verifies an enrollment of id with body.
func (h *harness) finish(token, id string, body map[string]any) *response {
	h.t.Helper()
	return h.do("POST", "/me/v1/authentication-methods/"+url.PathEscape(id)+"/verify", token, body)
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// wantPointer checks a 400 names the JSON pointer.
func wantPointer(t *testing.T, r *response, pointer string) {
	t.Helper()
	body := wantError(t, r, 400, "A0E-400-0003")
	if !hasPointer(body, pointer) {
		t.Errorf("no validation error at %s: %s", pointer, r.body)
	}
}

func (h *harness) list(token, typ string) []any {
	h.t.Helper()
	r := h.do("GET", "/me/v1/authentication-methods?type="+typ, token, nil)
	wantStatus(h.t, r, http.StatusOK)
	return r.json(h.t)["authentication_methods"].([]any)
}

func TestTOTPLifecycle(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, func(c *myaccount.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.WebAuthn.RPName = "Example"
	})
	alice := h.token("auth0|alice")
	e := h.start(alice, map[string]any{"type": "totp"})
	secret := e["manual_input_code"].(string)
	uri, err := url.Parse(e["barcode_uri"].(string))
	if err != nil || uri.Scheme != "otpauth" || uri.Host != "totp" {
		t.Fatalf("barcode_uri %v", e["barcode_uri"])
	}
	q := uri.Query()
	if q.Get("secret") != secret || q.Get("issuer") != "Example" || q.Get("algorithm") != "SHA1" ||
		q.Get("digits") != "6" || q.Get("period") != "30" || len(secret) != 32 {
		t.Errorf("barcode_uri %s, manual_input_code %s", uri, secret)
	}
	id := e["id"].(string)
	session := e["auth_session"].(string)

	// A wrong code and a code of the wrong form are refused at /otp_code.
	wrong := fmt.Sprintf("%06d", (atoi(totpCode(t, secret, time.Now()))+1)%1000000)
	wantPointer(t, h.finish(alice, id, map[string]any{"auth_session": session, "otp_code": wrong}), "/otp_code")
	wantPointer(t, h.finish(alice, id, map[string]any{"auth_session": session, "otp_code": "12345a"}), "/otp_code")
	wantPointer(t, h.finish(alice, id, map[string]any{"auth_session": session}), "/otp_code")
	if n := len(h.list(alice, "totp")); n != 0 {
		t.Fatalf("%d totp methods before verification", n)
	}

	// The previous step's code is still good.
	r := h.finish(alice, id, map[string]any{"auth_session": session, "otp_code": totpCode(t, secret, time.Now().Add(-30*time.Second))})
	wantStatus(t, r, http.StatusCreated)
	m := r.json(t)
	if m["id"] != id || m["type"] != "totp" || m["confirmed"] != true || fmt.Sprint(m["usage"]) != "[secondary]" {
		t.Errorf("method %s", r.body)
	}
	if loc := r.header.Get("Location"); loc != h.server.URL+"/me/v1/authentication-methods/"+url.PathEscape(id) {
		t.Errorf("Location %q", loc)
	}
	// Replayed, the session is refused.
	wantPointer(t, h.finish(alice, id, map[string]any{"auth_session": session, "otp_code": totpCode(t, secret, time.Now())}), "/auth_session")

	// One per user.
	wantError(t, h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "totp"}), 409, "A0E-409-0001")

	// The secret never shows again: not in the list, the method, a rename, or a log line.
	for _, r := range []*response{
		h.do("GET", "/me/v1/authentication-methods", alice, nil),
		h.do("GET", "/me/v1/authentication-methods/"+url.PathEscape(id), alice, nil),
		h.do("PATCH", "/me/v1/authentication-methods/"+url.PathEscape(id), alice, map[string]any{"name": "Phone app"}),
	} {
		wantStatus(t, r, http.StatusOK)
		if strings.Contains(string(r.body), secret) {
			t.Errorf("secret in a later response: %s", r.body)
		}
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("secret in the logs")
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestTOTPStepWindow(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		offset time.Duration
		ok     bool
	}{{-30 * time.Second, true}, {0, true}, {30 * time.Second, true}, {-90 * time.Second, false}, {90 * time.Second, false}} {
		user := h.token("auth0|" + strings.ReplaceAll(c.offset.String(), "-", "m"))
		e := h.start(user, map[string]any{"type": "totp"})
		r := h.finish(user, e["id"].(string), map[string]any{
			"auth_session": e["auth_session"], "otp_code": totpCode(t, e["manual_input_code"].(string), time.Now().Add(c.offset)),
		})
		if got := r.status == http.StatusCreated; got != c.ok {
			t.Errorf("code of %v: status %d", c.offset, r.status)
		}
	}
}

// A session takes five wrong codes; after them it is spent, whatever the code.
func TestFiveWrongCodesSpendTheSession(t *testing.T) {
	box := &outbox{}
	h := newHarness(t, withOutbox(box))
	alice := h.token("auth0|alice")
	for _, typ := range []string{"totp", "email", "phone"} {
		t.Run(typ, func(t *testing.T) {
			body := map[string]any{"type": typ}
			switch typ {
			case "email":
				body["email"] = "alice@example.com"
			case "phone":
				body["phone_number"] = "+14155550123"
			}
			e := h.start(alice, body)
			right := func() string {
				if typ == "totp" {
					return totpCode(t, e["manual_input_code"].(string), time.Now())
				}
				return box.last(t).Code
			}
			wrong := fmt.Sprintf("%06d", (atoi(right())+500000)%1000000)
			for range 5 {
				wantPointer(t, h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "otp_code": wrong}), "/otp_code")
			}
			wantPointer(t, h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "otp_code": right()}), "/auth_session")
			if n := len(h.list(alice, typ)); n != 0 {
				t.Errorf("%d methods after a spent session", n)
			}
		})
	}
}

func TestCodeSessionsAreBound(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) { c.SessionTTL = 300 * time.Millisecond })
	alice, bob := h.token("auth0|alice"), h.token("auth0|bob")
	e := h.start(alice, map[string]any{"type": "totp"})
	other := h.start(h.token("auth0|carol"), map[string]any{"type": "totp"})
	code := totpCode(t, e["manual_input_code"].(string), time.Now())
	id := e["id"].(string)
	// Under another id of the same type, another type's id, or passkey|new.
	wantPointer(t, h.finish(alice, other["id"].(string), map[string]any{"auth_session": e["auth_session"], "otp_code": code}), "/auth_session")
	wantPointer(t, h.finish(alice, "recovery-code|dev_AAAAAAAAAAAAAAAA", map[string]any{"auth_session": e["auth_session"]}), "/auth_session")
	// Another user's session, or a forged one.
	wantPointer(t, h.finish(bob, id, map[string]any{"auth_session": e["auth_session"], "otp_code": code}), "/auth_session")
	forged := []byte(e["auth_session"].(string))
	forged[len(forged)/2] ^= 1
	wantPointer(t, h.finish(alice, id, map[string]any{"auth_session": string(forged), "otp_code": code}), "/auth_session")
	wantPointer(t, h.finish(alice, id, map[string]any{"auth_session": strings.Repeat("A", 5000), "otp_code": code}), "/auth_session")
	// None of that spent it; time does.
	late := h.start(alice, map[string]any{"type": "totp"})
	wantStatus(t, h.finish(alice, id, map[string]any{"auth_session": e["auth_session"], "otp_code": code}), http.StatusCreated)
	time.Sleep(400 * time.Millisecond)
	wantPointer(t, h.finish(alice, late["id"].(string), map[string]any{
		"auth_session": late["auth_session"], "otp_code": totpCode(t, late["manual_input_code"].(string), time.Now()),
	}), "/auth_session")
}

func TestConcurrentCodeVerifies(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	send := func(e map[string]any, code string) map[string]int {
		var mu sync.Mutex
		counts := map[string]int{}
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() {
				r := h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "otp_code": code})
				key := fmt.Sprint(r.status)
				if r.status == 400 {
					key = r.json(t)["validation_errors"].([]any)[0].(map[string]any)["pointer"].(string)
				}
				mu.Lock()
				counts[key]++
				mu.Unlock()
			})
		}
		wg.Wait()
		return counts
	}
	e := h.start(alice, map[string]any{"type": "totp"})
	right := totpCode(t, e["manual_input_code"].(string), time.Now())
	wrong := fmt.Sprintf("%06d", (atoi(right)+500000)%1000000)
	if counts := send(e, wrong); counts["/otp_code"] > 5 || counts["/otp_code"]+counts["/auth_session"] != 30 {
		t.Errorf("30 wrong codes at once: %v; want at most 5 tried", counts)
	}
	e = h.start(h.token("auth0|alice"), map[string]any{"type": "totp"})
	right = totpCode(t, e["manual_input_code"].(string), time.Now())
	if counts := send(e, right); counts["201"] != 1 {
		t.Errorf("30 right codes at once: %v; want one 201", counts)
	}
	if n := len(h.list(alice, "totp")); n != 1 {
		t.Errorf("%d totp methods", n)
	}
}

func TestRecoveryCodeLifecycle(t *testing.T) {
	var logs bytes.Buffer
	store := myaccount.NewMemoryStore()
	h := newHarness(t, func(c *myaccount.Config) {
		c.Store = store
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	alice := h.token("auth0|alice")
	e := h.start(alice, map[string]any{"type": "recovery-code"})
	code := e["recovery_code"].(string)
	if !regexp.MustCompile(`^[A-HJKMNP-Z2-9]{24}$`).MatchString(code) {
		t.Errorf("recovery code %q", code)
	}
	r := h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"]})
	wantStatus(t, r, http.StatusCreated)
	if m := r.json(t); m["type"] != "recovery-code" || m["confirmed"] != true {
		t.Errorf("method %s", r.body)
	}
	wantError(t, h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "recovery-code"}), 409, "A0E-409-0001")
	for _, r := range []*response{h.do("GET", "/me/v1/authentication-methods", alice, nil), r} {
		if strings.Contains(string(r.body), code) {
			t.Errorf("code in a later response: %s", r.body)
		}
	}
	stored, err := store.ListMethods(context.Background(), h.issuer.Issuer, "auth0|alice", "recovery-code")
	if err != nil || len(stored) != 1 {
		t.Fatal(stored, err)
	}
	if bytes.Contains(stored[0].Secret, []byte(code)) || !myaccount.CheckRecoveryCode(stored[0], strings.ToLower(code[:12])+"-"+code[12:]) ||
		myaccount.CheckRecoveryCode(stored[0], code[1:]+"A") {
		t.Errorf("stored secret %x does not check the code as it should", stored[0].Secret)
	}
	if strings.Contains(logs.String(), code) {
		t.Errorf("code in the logs")
	}
	// Deleting it and enrolling again gives a new code.
	wantStatus(t, h.do("DELETE", "/me/v1/authentication-methods/"+url.PathEscape(e["id"].(string)), alice, nil), http.StatusNoContent)
	if again := h.start(alice, map[string]any{"type": "recovery-code"}); again["recovery_code"] == code {
		t.Errorf("the same code twice")
	}
}

func TestEmailAndPhoneLifecycle(t *testing.T) {
	box := &outbox{}
	h := newHarness(t, withOutbox(box))
	alice := h.token("auth0|alice")
	r := h.do("GET", "/me/v1/factors", alice, nil)
	if !strings.Contains(string(r.body), `{"type":"phone","usage":["secondary"]},{"type":"email","usage":["secondary"]}`) {
		t.Errorf("factors with a sender: %s", r.body)
	}

	e := h.start(alice, map[string]any{"type": "email", "email": "alice@example.com"})
	if len(e) != 2 {
		t.Errorf("an email challenge is exactly {id, auth_session}: %v", e)
	}
	msg := box.last(t)
	if msg.Channel != "email" || msg.To != "alice@example.com" || !regexp.MustCompile(`^\d{6}$`).MatchString(msg.Code) || msg.Claims.Subject != "auth0|alice" {
		t.Errorf("message %+v", msg)
	}
	r = h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "otp_code": msg.Code})
	wantStatus(t, r, http.StatusCreated)
	if m := r.json(t); m["email"] != "alice@example.com" || m["confirmed"] != true || m["type"] != "email" {
		t.Errorf("email method %s", r.body)
	}

	p := h.start(alice, map[string]any{"type": "phone", "phone_number": "+447700900123", "preferred_authentication_method": "voice"})
	if msg := box.last(t); msg.Channel != "voice" || msg.To != "+447700900123" {
		t.Errorf("message %+v", msg)
	}
	r = h.finish(alice, p["id"].(string), map[string]any{"auth_session": p["auth_session"], "otp_code": box.last(t).Code})
	wantStatus(t, r, http.StatusCreated)
	phone := r.json(t)
	if phone["phone_number"] != "+447700900123" || phone["preferred_authentication_method"] != "voice" {
		t.Errorf("phone method %s", r.body)
	}
	path := "/me/v1/authentication-methods/" + url.PathEscape(p["id"].(string))
	r = h.do("PATCH", path, alice, map[string]any{"preferred_authentication_method": "sms"})
	wantStatus(t, r, http.StatusOK)
	if r.json(t)["preferred_authentication_method"] != "sms" {
		t.Errorf("after PATCH: %s", r.body)
	}
	wantPointer(t, h.do("PATCH", path, alice, map[string]any{"preferred_authentication_method": "fax"}), "/preferred_authentication_method")
	wantPointer(t, h.do("PATCH", "/me/v1/authentication-methods/"+url.PathEscape(e["id"].(string)), alice,
		map[string]any{"preferred_authentication_method": "sms"}), "/preferred_authentication_method")
	if n := len(h.list(alice, "")); n != 2 {
		t.Errorf("%d methods, want 2", n)
	}
	// The phone's default channel is sms.
	h.start(h.token("auth0|bob"), map[string]any{"type": "phone", "phone_number": "+14155550123"})
	if msg := box.last(t); msg.Channel != "sms" {
		t.Errorf("default channel %q", msg.Channel)
	}
}

func TestBadAddressesAreRefusedAndSendNothing(t *testing.T) {
	box := &outbox{}
	h := newHarness(t, withOutbox(box))
	alice := h.token("auth0|alice")
	for _, c := range []struct {
		body    map[string]any
		pointer string
	}{
		{map[string]any{"type": "email"}, "/email"},
		{map[string]any{"type": "email", "email": ""}, "/email"},
		{map[string]any{"type": "email", "email": "not an address"}, "/email"},
		{map[string]any{"type": "email", "email": "Alice <alice@example.com>"}, "/email"},
		{map[string]any{"type": "email", "email": "a@example.com, b@example.com"}, "/email"},
		{map[string]any{"type": "email", "email": "alice@localhost"}, "/email"},
		{map[string]any{"type": "email", "email": strings.Repeat("a", 250) + "@example.com"}, "/email"},
		{map[string]any{"type": "email", "email": 5}, "/email"},
		{map[string]any{"type": "phone"}, "/phone_number"},
		{map[string]any{"type": "phone", "phone_number": "4155550123"}, "/phone_number"},
		{map[string]any{"type": "phone", "phone_number": "+0123456789"}, "/phone_number"},
		{map[string]any{"type": "phone", "phone_number": "+1 415 555 0123"}, "/phone_number"},
		{map[string]any{"type": "phone", "phone_number": "+1234567890123456"}, "/phone_number"},
		{map[string]any{"type": "phone", "phone_number": "+14155550123", "preferred_authentication_method": "fax"}, "/preferred_authentication_method"},
		{map[string]any{"type": "email", "email": "alice@example.com", "phone_number": "+14155550123"}, "/phone_number"},
	} {
		wantPointer(t, h.do("POST", "/me/v1/authentication-methods", alice, c.body), c.pointer)
	}
	if len(box.sent) != 0 {
		t.Errorf("sent %d messages for bad requests", len(box.sent))
	}
}

func TestFailingSenderIs503AndStoresNothing(t *testing.T) {
	var logs bytes.Buffer
	box := &outbox{fail: true}
	h := newHarness(t, withOutbox(box), func(c *myaccount.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	alice := h.token("auth0|alice")
	r := h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "email", "email": "alice@example.com"})
	wantError(t, r, 503, "A0E-503-0001")
	if strings.Contains(string(r.body), "secret internals") || r.header.Get("Location") != "" {
		t.Errorf("503 leaks: %s %v", r.body, r.header)
	}
	if n := len(h.list(alice, "")); n != 0 {
		t.Errorf("%d methods", n)
	}
	// A retry, once the provider is back, starts a new session and works.
	box.fail = false
	e := h.start(alice, map[string]any{"type": "email", "email": "alice@example.com"})
	wantStatus(t, h.finish(alice, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "otp_code": box.last(t).Code}), http.StatusCreated)
	if strings.Contains(logs.String(), box.last(t).Code) {
		t.Errorf("code in the logs")
	}
}

func TestTypesNotOfferedAreRefused(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) {
		c.TOTP.Disabled, c.RecoveryCodes.Disabled = true, true
		c.WebAuthn.DisableRoaming, c.WebAuthn.DisablePlatform = true, true
	})
	alice := h.token("auth0|alice")
	if r := h.do("GET", "/me/v1/factors", alice, nil); string(r.body) != `{"factors":[{"type":"passkey","usage":["primary"]}]}` {
		t.Errorf("factors: %s", r.body)
	}
	for _, typ := range []string{"totp", "recovery-code", "email", "phone", "password", "push-notification", "webauthn-roaming", "webauthn-platform", "sms"} {
		r := h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": typ})
		wantPointer(t, r, "/type")
		if !strings.Contains(string(r.body), "must be one of: passkey") {
			t.Errorf("%s: %s", typ, r.body)
		}
	}
	wantError(t, h.finish(alice, "totp|dev_AAAAAAAAAAAAAAAA", map[string]any{"auth_session": "x", "otp_code": "123456"}), 404, "A0E-404-0001")
	// Every type of the contract filters a list.
	for _, typ := range []string{"password", "passkey", "webauthn-platform", "webauthn-roaming", "totp", "phone", "email", "push-notification", "recovery-code"} {
		wantStatus(t, h.do("GET", "/me/v1/authentication-methods?type="+typ, alice, nil), http.StatusOK)
	}
}

func TestSecretKeyRotation(t *testing.T) {
	keyA, keyB := bytes.Repeat([]byte{'a'}, 32), bytes.Repeat([]byte{'b'}, 32)
	store := myaccount.NewMemoryStore()
	iss := myaccounttest.NewIssuer(t)
	newAPI := func(keys ...[]byte) *myaccount.API {
		api, err := myaccount.New(myaccount.Config{
			Issuer: iss.Issuer, WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{testOrigin}}, Store: store, SecretKeys: keys,
			Logger: slog.New(slog.DiscardHandler), RateLimits: myaccount.RateLimitConfig{User: myaccount.RateLimit{Disabled: true}},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(api.Close)
		return api
	}
	enrollTOTP := func(api *myaccount.API, user string) (*myaccount.Method, string) {
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		h := &harness{t: t, api: api, issuer: iss, server: srv}
		tok := h.token(user)
		e := h.start(tok, map[string]any{"type": "totp"})
		secret := e["manual_input_code"].(string)
		wantStatus(t, h.finish(tok, e["id"].(string), map[string]any{"auth_session": e["auth_session"], "otp_code": totpCode(t, secret, time.Now())}), 201)
		ms, _ := store.ListMethods(context.Background(), iss.Issuer, user, "totp")
		return ms[0], secret
	}
	keyID := func(k []byte) []byte { sum := sha256.Sum256(k); return sum[:4] }

	m, secret := enrollTOTP(newAPI(keyA), "auth0|alice")
	if !bytes.HasPrefix(m.Secret, keyID(keyA)) || bytes.Contains(m.Secret, []byte(secret)) {
		t.Errorf("sealed secret %x", m.Secret)
	}
	rotated := newAPI(keyB, keyA)
	next := time.Now().Add(30 * time.Second) // the enrollment accepted the current step
	if ok, err := rotated.CheckTOTP(context.Background(), m, totpCode(t, secret, next), next); !ok || err != nil {
		t.Errorf("after rotation, the old secret does not check: %v %v", ok, err)
	}
	m2, secret2 := enrollTOTP(rotated, "auth0|bob")
	if !bytes.HasPrefix(m2.Secret, keyID(keyB)) {
		t.Errorf("new secret not sealed under the new key: %x", m2.Secret)
	}
	if _, err := newAPI(keyA).CheckTOTP(context.Background(), m2, totpCode(t, secret2, next), next); err == nil {
		t.Errorf("a ring without key B opens what B sealed")
	}
	// A sealed secret moved to another method does not open.
	moved := *m
	moved.ID = "totp|dev_BBBBBBBBBBBBBBBB"
	if _, err := rotated.CheckTOTP(context.Background(), &moved, "000000", time.Now()); err == nil {
		t.Errorf("a sealed secret opens under another method id")
	}
}

func TestSecretKeysAreChecked(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	for name, cfg := range map[string]myaccount.Config{
		"short key":           {Issuer: iss.Issuer, WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost"}, SecretKeys: [][]byte{[]byte("short")}},
		"repeated key":        {Issuer: iss.Issuer, WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost"}, SecretKeys: [][]byte{testKeys[0], testKeys[0]}},
		"shared store no key": {Issuer: iss.Issuer, WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost"}, Store: struct{ myaccount.Store }{myaccount.NewMemoryStore()}},
	} {
		if _, err := myaccount.New(cfg); !errors.Is(err, myaccount.ErrConfig) {
			t.Errorf("%s: New gave %v", name, err)
		}
	}
}

func TestKeepLastPrimary(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) { c.Users.DeletePolicy = myaccount.KeepLastPrimary })
	alice := h.token("auth0|alice")
	first := h.enroll(alice, myaccounttest.NewAuthenticator())["id"].(string)
	rc := h.start(alice, map[string]any{"type": "recovery-code"})
	wantStatus(t, h.finish(alice, rc["id"].(string), map[string]any{"auth_session": rc["auth_session"]}), 201)
	path := func(id string) string { return "/me/v1/authentication-methods/" + url.PathEscape(id) }
	wantError(t, h.do("DELETE", path(first), alice, nil), 409, "A0E-409-0003")
	second := h.enroll(alice, myaccounttest.NewAuthenticator())["id"].(string)
	wantStatus(t, h.do("DELETE", path(first), alice, nil), http.StatusNoContent)
	wantError(t, h.do("DELETE", path(second), alice, nil), 409, "A0E-409-0003")
	// Secondary methods go freely, and unknown ids are still 404.
	wantStatus(t, h.do("DELETE", path(rc["id"].(string)), alice, nil), http.StatusNoContent)
	wantError(t, h.do("DELETE", path("passkey|dev_AAAAAAAAAAAAAAAA"), alice, nil), 404, "A0E-404-0001")
}
