// Package proptest checks the guarantees of the contract's section
// "Guarantees, and one spelling of every input" with property tests: random
// sequences of calls over HTTP through the API, drawn and shrunk by
// pgregory.net/rapid, against a [myaccount.Store]. The core package runs it on
// the memory store, pgstore on PostgreSQL. Only tests import it.
//
// After every call it checks: at most one 201 per auth_session, none after a
// refused passkey verify spent it; at most 5 code evaluations per
// auth_session (counted over HTTP and in the store); method ids unique; with
// [myaccount.KeepLastPrimary], a user who had a primary method keeps one; a
// TOTP time step accepted once at most, the enrollment's included; another
// spelling of an auth_session is refused and never evaluated, another
// spelling of a method id is 404; no 500 ever.
package proptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/pquerna/otp/totp"
	"pgregory.net/rapid"
)

// origin is the page the software authenticator answers for.
const origin = "https://localhost"

// maxEvaluations is how many codes one auth_session may have checked.
const maxEvaluations = 5

// Server is an API on a test HTTP server, configured with every method type
// the tests drive and [myaccount.KeepLastPrimary], over a store that counts
// the code attempts it lets through.
type Server struct {
	API    *myaccount.API
	HTTP   *httptest.Server
	Issuer *myaccounttest.Issuer
	Store  myaccount.Store // what the API was given: the counting wrapper
	outbox *outbox
	counts *countingStore
}

// NewServer starts a Server on store, stopped at cleanup.
func NewServer(t testing.TB, store myaccount.Store) *Server {
	t.Helper()
	iss := myaccounttest.NewIssuer(t)
	counts := &countingStore{Store: store, perUser: map[string]int{}}
	passwords, err := myaccount.NewArgon2Passwords(myaccount.Argon2Options{
		Memory: 64, Time: 1, Threads: 1, // quick: the rules are under test, not the hash
	})
	if err != nil {
		t.Fatal(err)
	}
	box := &outbox{codes: map[string]string{}}
	api, err := myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL()},
		WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{origin}},
		Store:    counts, SecretKeys: [][]byte{[]byte("proptest-key-0123456789abcdefghi")},
		Users:     myaccount.UserConfig{DeletePolicy: myaccount.KeepLastPrimary},
		Messages:  myaccount.MessageConfig{Sender: box},
		Passwords: myaccount.PasswordConfig{Backend: passwords},
		Logger:    slog.New(slog.DiscardHandler),
		RateLimits: myaccount.RateLimitConfig{
			Tenant: myaccount.RateLimit{Rate: 1e6, Burst: 1e6},
			User:   myaccount.RateLimit{Rate: 1e6, Burst: 1e6},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &Server{API: api, HTTP: srv, Issuer: iss, Store: counts, outbox: box, counts: counts}
}

// outbox is a Sender that keeps the last code sent to each destination.
type outbox struct {
	mu    sync.Mutex
	codes map[string]string
}

func (o *outbox) Send(_ context.Context, m myaccount.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.codes[m.To] = m.Code
	return nil
}

func (o *outbox) code(to string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.codes[to]
}

// countingStore counts, per user, the code attempts the store let through:
// each is one evaluation of a code.
type countingStore struct {
	myaccount.Store
	mu      sync.Mutex
	perUser map[string]int
}

func (s *countingStore) CountAttempt(ctx context.Context, session myaccount.SessionRef, max int) error {
	err := s.Store.CountAttempt(ctx, session, max)
	if err == nil {
		s.mu.Lock()
		s.perUser[session.Issuer+"\x00"+session.UserID]++
		s.mu.Unlock()
	}
	return err
}

func (s *countingStore) attempts(issuer, user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perUser[issuer+"\x00"+user]
}

// Response is one answer of the API.
type Response struct {
	Status int
	Body   []byte
}

// Do sends a request with token and a JSON body (none when nil) and reads the
// answer; it is safe to call from any goroutine.
func (s *Server) Do(method, path, token string, body any) (Response, error) {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return Response{}, err
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.HTTP.URL+"/me/v1/authentication-methods"+path, reader)
	if err != nil {
		return Response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.HTTP.Client().Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Body: data}, err
}

// DoAll sends the requests at once and returns their answers in order.
func (s *Server) DoAll(reqs []Request) ([]Response, []error) {
	out, errs := make([]Response, len(reqs)), make([]error, len(reqs))
	var start, done sync.WaitGroup
	start.Add(1)
	for i, r := range reqs {
		done.Go(func() {
			start.Wait()
			out[i], errs[i] = s.Do(r.Method, r.Path, r.Token, r.Body)
		})
	}
	start.Done()
	done.Wait()
	return out, errs
}

// Request is one request for [Server.DoAll].
type Request struct {
	Method, Path, Token string
	Body                any
}

// PathOf is the path of a method id under /authentication-methods.
func PathOf(id string) string { return "/" + url.PathEscape(id) }

// Run checks the guarantees on srv with random sequences of calls, each
// sequence by a new user.
func Run(t *testing.T, srv *Server) {
	rapid.Check(t, func(rt *rapid.T) {
		m := newMachine(rt, srv)
		rt.Repeat(map[string]func(*rapid.T){
			"begin":            m.begin,
			"verify":           m.verify,
			"verifyInParallel": m.verifyInParallel,
			"deleteAtOnce":     m.deleteAtOnce,
			"rename":           m.rename,
			"respelledID":      m.respelledID,
			"checkTOTP":        m.checkTOTP,
			"":                 m.check,
		})
	})
}

// begun is one enrollment the machine started.
type begun struct {
	typ, id, session string
	options          json.RawMessage  // a passkey's creation options
	secret           string           // a totp's
	steps            map[string]int64 // a totp's codes sent, by the time step they are of
	to               string           // an email's or phone's destination
	failed           bool             // a passkey verify was refused, spending the session
	created          int              // 201s
	evaluated        int              // codes checked: wrong ones and 201s
}

// machine is one user's sequence of calls.
type machine struct {
	srv        *Server
	user       string
	token      string
	begun      []*begun
	codeBegins int            // begins whose verify tries a code or password
	created    map[string]int // 201s by method id, passwords aside (a change answers 201 with the same id)
	hadPrimary bool
	// totp holds the user's TOTP methods by id: their secret, and the time
	// steps they accepted, at enrollment and in API.CheckTOTP.
	totp  map[string]*totpMethod
	sends int
}

func newMachine(rt *rapid.T, srv *Server) *machine {
	user := "auth0|prop-" + rand.Text()[:16]
	token, err := srv.Issuer.Mint(user, myaccount.AllScopes())
	if err != nil {
		rt.Fatal(err)
	}
	return &machine{srv: srv, user: user, token: token, created: map[string]int{}, totp: map[string]*totpMethod{}}
}

// types are the method types the machine enrolls.
var types = []string{
	"passkey", "totp", "email", "phone",
	"recovery-code", "password",
}

func (m *machine) do(rt *rapid.T, method, path string, body any) Response {
	rt.Helper()
	r, err := m.srv.Do(method, path, m.token, body)
	if err != nil {
		rt.Fatalf("%s %s: %v", method, path, err)
	}
	noServerError(rt, method, path, r)
	return r
}

func noServerError(rt *rapid.T, method, path string, r Response) {
	rt.Helper()
	if r.Status >= 500 {
		rt.Fatalf("%s %s answered %d: %s", method, path, r.Status, r.Body)
	}
}

func (m *machine) begin(rt *rapid.T) {
	typ := rapid.SampledFrom(types).Draw(rt, "type")
	body := map[string]any{"type": typ}
	m.sends++
	to := ""
	switch typ {
	case "email":
		to = fmt.Sprintf("p%d.%s@example.com", m.sends, strings.ToLower(m.user[len(m.user)-8:]))
		body["email"] = to
	case "phone":
		to = fmt.Sprintf("+1415%07d", m.sends*7919%10_000_000)
		body["phone_number"] = to
	}
	r := m.do(rt, "POST", "", body)
	switch r.Status {
	case http.StatusAccepted:
	case http.StatusConflict, http.StatusTooManyRequests: // the type's limit, or a send quota
		return
	default:
		rt.Fatalf("POST %v answered %d: %s", body, r.Status, r.Body)
	}
	var reply struct {
		ID          string          `json:"id"`
		AuthSession string          `json:"auth_session"`
		Options     json.RawMessage `json:"authn_params_public_key"`
		Secret      string          `json:"manual_input_code"`
	}
	if err := json.Unmarshal(r.Body, &reply); err != nil || reply.AuthSession == "" {
		rt.Fatalf("202 body %s: %v", r.Body, err)
	}
	if typ == "passkey" {
		reply.ID = "passkey|new"
	}
	b := &begun{typ: typ, id: reply.ID, session: reply.AuthSession, options: reply.Options, secret: reply.Secret, to: to, steps: map[string]int64{}}
	if triesCodes(typ) {
		m.codeBegins++
	}
	m.begun = append(m.begun, b)
}

// triesCodes reports whether a type's verify checks a code or a password,
// one of the session's attempts each time.
func triesCodes(typ string) bool {
	switch typ {
	case "totp", "email", "phone", "password":
		return true
	}
	return false
}

// pick draws one of the enrollments begun, or skips the action when none.
func (m *machine) pick(rt *rapid.T) *begun {
	if len(m.begun) == 0 {
		rt.Skip("nothing begun")
	}
	return m.begun[rapid.IntRange(0, len(m.begun)-1).Draw(rt, "begun")]
}

// verifyBody is the verify body of b: with the right code, or a wrong one.
func (m *machine) verifyBody(rt *rapid.T, b *begun, session string, right bool) map[string]any {
	body := map[string]any{"auth_session": session}
	switch b.typ {
	case "passkey":
		options := b.options
		if !right {
			options = otherChallenge(rt, options)
		}
		resp, err := myaccounttest.NewAuthenticator().Create(options, origin)
		if err != nil {
			rt.Fatalf("authenticator: %v", err)
		}
		body["authn_response"] = json.RawMessage(resp)
	case "totp":
		step := time.Now().Unix() / 30
		code, err := totp.GenerateCode(b.secret, time.Unix(step*30, 0))
		if err != nil {
			rt.Fatal(err)
		}
		b.steps[code] = step
		body["otp_code"] = wrongUnless(right, code)
	case "email", "phone":
		body["otp_code"] = wrongUnless(right, m.srv.outbox.code(b.to))
	case "password":
		body["new_password"] = "password" // too common, too simple: refused
		if right {
			body["new_password"] = "Qx7!" + rand.Text()[:12]
		}
	}
	return body
}

// otherChallenge returns creation options with another challenge, which the
// API refuses in the attestation (and spends the session).
func otherChallenge(rt *rapid.T, options json.RawMessage) json.RawMessage {
	var o map[string]any
	if err := json.Unmarshal(options, &o); err != nil {
		rt.Fatalf("options %s: %v", options, err)
	}
	o["challenge"] = base64.RawURLEncoding.EncodeToString([]byte(rand.Text()))
	out, err := json.Marshal(o)
	if err != nil {
		rt.Fatal(err)
	}
	return out
}

// wrongUnless returns code, or when !right another 6 digits.
func wrongUnless(right bool, code string) string {
	if right {
		return code
	}
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%06d", (n+1)%1_000_000)
}

// verifyPath is where b is verified.
func verifyPath(b *begun) string { return PathOf(b.id) + "/verify" }

func (m *machine) verify(rt *rapid.T) {
	b := m.pick(rt)
	right := rapid.Bool().Draw(rt, "right")
	session := respellSession(rt, b.session)
	body := m.verifyBody(rt, b, session, right)
	failedBefore := b.failed
	r := m.do(rt, "POST", verifyPath(b), body)
	m.record(rt, b, session, r, body, failedBefore)
}

func (m *machine) verifyInParallel(rt *rapid.T) {
	b := m.pick(rt)
	n := rapid.IntRange(2, 6).Draw(rt, "n")
	reqs := make([]Request, n)
	sessions := make([]string, n)
	for i := range reqs {
		sessions[i] = respellSession(rt, b.session)
		right := rapid.Bool().Draw(rt, "right")
		reqs[i] = Request{Method: "POST", Path: verifyPath(b), Token: m.token, Body: m.verifyBody(rt, b, sessions[i], right)}
	}
	failedBefore := b.failed
	answers, errs := m.srv.DoAll(reqs)
	for i, r := range answers {
		if errs[i] != nil {
			rt.Fatalf("verify %d: %v", i, errs[i])
		}
		noServerError(rt, "POST", reqs[i].Path, r)
		m.record(rt, b, sessions[i], r, reqs[i].Body.(map[string]any), failedBefore)
	}
}

// record takes in the answer to a verify of b sent with session and body;
// failedBefore is whether a passkey verify of b had been refused before it
// was sent, which spends the session.
func (m *machine) record(rt *rapid.T, b *begun, session string, r Response, body map[string]any, failedBefore bool) {
	respelled := session != b.session
	evaluated := r.Status == http.StatusCreated || wrongCode(r)
	if respelled && (evaluated || r.Status != http.StatusBadRequest) {
		rt.Fatalf("verify of %s with the auth_session spelt %q (issued %q) answered %d: %s", b.typ, session, b.session, r.Status, r.Body)
	}
	if r.Status == http.StatusCreated && failedBefore {
		rt.Fatalf("a passkey auth_session gave 201 after a refused verify spent it: %s", r.Body)
	}
	if !respelled && b.typ == "passkey" && r.Status == http.StatusBadRequest {
		b.failed = true
	}
	if evaluated && triesCodes(b.typ) {
		b.evaluated++
	}
	if r.Status != http.StatusCreated {
		return
	}
	b.created++
	var method struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(r.Body, &method); err != nil {
		rt.Fatalf("201 body %s: %v", r.Body, err)
	}
	if method.Type != "password" {
		m.created[method.ID]++
	}
	if method.Type == "passkey" || method.Type == "password" {
		m.hadPrimary = true
	}
	if method.Type == "totp" {
		code, _ := body["otp_code"].(string)
		m.totp[method.ID] = &totpMethod{secret: b.secret, accepted: map[int64]bool{b.steps[code]: true}}
	}
}

// totpMethod is one of the user's TOTP methods as the machine knows it.
type totpMethod struct {
	secret   string
	accepted map[int64]bool
}

// checkTOTP signs in with the current code of one of the user's TOTP
// methods, a few times at once: a time step is accepted once at most, the
// enrollment's included.
func (m *machine) checkTOTP(rt *rapid.T) {
	ms := m.methods(rt)
	ms = slices.DeleteFunc(ms, func(x *myaccount.Method) bool { return m.totp[x.ID] == nil })
	if len(ms) == 0 {
		rt.Skip("no totp method")
	}
	method := ms[rapid.IntRange(0, len(ms)-1).Draw(rt, "totp")]
	known := m.totp[method.ID]
	now := time.Now()
	step := now.Unix() / 30
	code, err := totp.GenerateCode(known.secret, time.Unix(step*30, 0))
	if err != nil {
		rt.Fatal(err)
	}
	n := rapid.IntRange(1, 4).Draw(rt, "checks")
	oks, errs := make([]bool, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			oks[i], errs[i] = m.srv.API.CheckTOTP(ctx, method, code, now)
		})
	}
	wg.Wait()
	accepted := 0
	for i := range n {
		if errs[i] != nil {
			rt.Fatalf("CheckTOTP: %v", errs[i])
		}
		if oks[i] {
			accepted++
		}
	}
	if accepted > 1 || accepted == 1 && known.accepted[step] {
		rt.Fatalf("the code of step %d was accepted %d times now, and before: %v", step, accepted, known.accepted[step])
	}
	if accepted == 1 {
		known.accepted[step] = true
	}
}

// wrongCode reports whether r refuses a code or password it checked.
func wrongCode(r Response) bool {
	if r.Status != http.StatusBadRequest {
		return false
	}
	var body struct {
		Errors []struct {
			Pointer string `json:"pointer"`
			Detail  string `json:"detail"`
		} `json:"validation_errors"`
	}
	_ = json.Unmarshal(r.Body, &body)
	for _, e := range body.Errors {
		if (e.Pointer == "/otp_code" && strings.Contains(e.Detail, "not valid")) || e.Pointer == "/new_password" {
			return true
		}
	}
	return false
}

// respellings write an auth_session otherwise, each naming the same bytes
// to a lenient decoder, or other bytes: every one must be refused.
var respellings = []func(string) string{
	func(s string) string { return "\r" + s },
	func(s string) string { return "\n" + s },
	func(s string) string { return s + "\n" },
	func(s string) string { return " " + s },
	func(s string) string { return s + "=" },
	flipUnusedBits,
	func(s string) string { return strings.NewReplacer("-", "+", "_", "/").Replace(s) },
	func(s string) string { return strings.ToUpper(s[:1]) + s[1:] },
	func(s string) string { return s[:len(s)-1] },
}

// respellSession draws the session as issued (most often), or a respelling.
func respellSession(rt *rapid.T, s string) string {
	k := rapid.IntRange(-len(respellings), len(respellings)-1).Draw(rt, "respelling")
	if k < 0 {
		return s
	}
	return respellings[k](s)
}

const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// flipUnusedBits changes the last character of unpadded base64url in its
// lowest bit, which encodes no byte when the length is not a multiple of 4.
func flipUnusedBits(s string) string {
	i := strings.IndexByte(base64URL, s[len(s)-1])
	if len(s)%4 == 0 || i < 0 {
		return "\r" + s
	}
	return s[:len(s)-1] + string(base64URL[i^1])
}

// methods reads the user's methods from the store beneath the API.
func (m *machine) methods(rt *rapid.T) []*myaccount.Method {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ms, err := m.srv.Store.ListMethods(ctx, m.srv.Issuer.Issuer, m.user, "")
	if err != nil {
		rt.Fatalf("ListMethods: %v", err)
	}
	return ms
}

// pickMethod draws one of the user's methods' ids, or skips when none.
func (m *machine) pickMethod(rt *rapid.T, ms []*myaccount.Method) string {
	if len(ms) == 0 {
		rt.Skip("no method")
	}
	return ms[rapid.IntRange(0, len(ms)-1).Draw(rt, "method")].ID
}

func (m *machine) deleteAtOnce(rt *rapid.T) {
	ms := m.methods(rt)
	n := rapid.IntRange(1, 4).Draw(rt, "deletes")
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = Request{Method: "DELETE", Path: PathOf(m.pickMethod(rt, ms)), Token: m.token}
	}
	answers, errs := m.srv.DoAll(reqs)
	for i, r := range answers {
		if errs[i] != nil {
			rt.Fatalf("delete %d: %v", i, errs[i])
		}
		noServerError(rt, "DELETE", reqs[i].Path, r)
		if !slices.Contains([]int{http.StatusNoContent, http.StatusNotFound, http.StatusConflict}, r.Status) {
			rt.Fatalf("DELETE %s answered %d: %s", reqs[i].Path, r.Status, r.Body)
		}
	}
}

func (m *machine) rename(rt *rapid.T) {
	id := m.pickMethod(rt, m.methods(rt))
	name := rapid.StringN(0, 40, -1).Draw(rt, "name")
	r := m.do(rt, "PATCH", PathOf(id), map[string]any{"name": name})
	if r.Status != http.StatusOK && r.Status != http.StatusBadRequest && r.Status != http.StatusNotFound {
		rt.Fatalf("PATCH %s %q answered %d: %s", id, name, r.Status, r.Body)
	}
}

// idRespellings write a method id in a path otherwise: each names another
// id, or none the grammar allows.
var idRespellings = []func(string) string{
	strings.ToLower,
	strings.ToUpper,
	func(id string) string { return id + "%00" },
	func(id string) string { return strings.Replace(id, "_", "_%00", 1) },
	func(id string) string { return id + "%FF" },
	func(id string) string { return id + "%C0%80" },
	func(id string) string { return id + "%20" },
	func(id string) string { return "%20" + id },
	func(id string) string { return id[:len(id)-1] },
	func(id string) string { return id + "A" },
	func(id string) string { return strings.Replace(id, "|", "%257C", 1) },
	func(id string) string { return strings.Replace(id, "|", "|%E2%80%8B", 1) }, // a zero-width space
}

func (m *machine) respelledID(rt *rapid.T) {
	id := m.pickMethod(rt, m.methods(rt))
	escaped := url.PathEscape(id)
	spelt := rapid.SampledFrom(idRespellings).Draw(rt, "spelling")(escaped)
	if decoded, err := url.PathUnescape(spelt); err == nil && decoded == id {
		return // the same id after all
	}
	method := rapid.SampledFrom([]string{"GET", "PATCH", "DELETE"}).Draw(rt, "method")
	var body any
	if method == "PATCH" {
		body = map[string]any{"name": "renamed"}
	}
	r := m.do(rt, method, "/"+spelt, body)
	if r.Status != http.StatusNotFound {
		rt.Fatalf("%s of id %q spelt %q answered %d, want 404: %s", method, id, spelt, r.Status, r.Body)
	}
}

// check holds after every step.
func (m *machine) check(rt *rapid.T) {
	for _, b := range m.begun {
		if b.created > 1 {
			rt.Fatalf("one %s auth_session gave %d 201s", b.typ, b.created)
		}
		if b.evaluated > maxEvaluations {
			rt.Fatalf("one %s auth_session had %d codes checked, more than %d", b.typ, b.evaluated, maxEvaluations)
		}
	}
	if got, limit := m.srv.counts.attempts(m.srv.Issuer.Issuer, m.user), maxEvaluations*m.codeBegins; got > limit {
		rt.Fatalf("the store let %d code attempts through for %d enrollments that try codes, more than %d", got, m.codeBegins, limit)
	}
	for id, n := range m.created {
		if n > 1 {
			rt.Fatalf("method id %s was created %d times", id, n)
		}
	}
	ms := m.methods(rt)
	seen := map[string]bool{}
	primary := false
	for _, x := range ms {
		if seen[x.ID] {
			rt.Fatalf("the user holds two methods with id %s", x.ID)
		}
		seen[x.ID] = true
		primary = primary || x.Type == "passkey" || x.Type == "password"
	}
	if m.hadPrimary && !primary {
		rt.Fatalf("the user had a primary method and has none left under KeepLastPrimary")
	}
}
