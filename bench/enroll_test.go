package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

const (
	origin  = "https://localhost"
	subject = "auth0|bench"
)

// benchSessionTTL is short so that the used sessions a store remembers expire
// while the loop runs, rather than reach its bound per user.
const benchSessionTTL = 200 * time.Millisecond

// newAPI is an API on store (nil: a memory store) whose rate limits never
// trip but still run, with the defaults' bursts, and the issuer's JWKS served
// on 127.0.0.1.
func newAPI(tb testing.TB, iss *myaccounttest.Issuer, store myaccount.Store) *myaccount.API {
	tb.Helper()
	return newAPIWithTTL(tb, iss, store, benchSessionTTL)
}

// newAPIWithTTL is newAPI with auth_sessions that live for ttl.
func newAPIWithTTL(tb testing.TB, iss *myaccounttest.Issuer, store myaccount.Store, ttl time.Duration) *myaccount.API {
	tb.Helper()
	api, err := myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL()},
		WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{origin}}, Store: store, SecretKeys: benchKeys, SessionTTL: ttl,
		Logger:     slog.New(slog.DiscardHandler),
		RateLimits: myaccount.RateLimitConfig{Tenant: myaccount.RateLimit{Rate: 1e9, Burst: 25}, User: myaccount.RateLimit{Rate: 1e9, Burst: 10}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(api.Close)
	return api
}

// benchKeys seal the auth_sessions of every API the benchmarks make.
var benchKeys = [][]byte{[]byte("0123456789abcdef0123456789abcdef")}

// recordingStore remembers the last method created, so the benchmark can
// delete it and every cycle starts from the same state.
type recordingStore struct {
	myaccount.Store
	mu             sync.Mutex
	last, lastUser string
	created        [][2]string // user and id of each method created since deleteAll
}

func (s *recordingStore) CreateMethod(ctx context.Context, m *myaccount.Method, limit int, session myaccount.SessionRef) error {
	err := s.Store.CreateMethod(ctx, m, limit, session)
	if err == nil {
		s.mu.Lock()
		s.last, s.lastUser = m.ID, m.UserID
		s.created = append(s.created, [2]string{m.UserID, m.ID})
		s.mu.Unlock()
	}
	return err
}

// MethodsAndUserHandle passes the wrapped store's on (the memory store and
// pgstore both have it), so that the API reads in one call as it does
// without the wrapper.
func (s *recordingStore) MethodsAndUserHandle(ctx context.Context, issuer, userID, typ string, candidate []byte) ([]*myaccount.Method, []byte, error) {
	return s.Store.(myaccount.MethodsAndHandleReader).MethodsAndUserHandle(ctx, issuer, userID, typ, candidate)
}

// deleteLast deletes the method created last.
func (s *recordingStore) deleteLast(tb testing.TB, issuer string) {
	tb.Helper()
	if err := s.DeleteMethod(context.Background(), issuer, s.lastUser, s.last, nil); err != nil {
		tb.Fatal(err)
	}
	s.created = s.created[:0]
}

// deleteAll deletes every method created since the last deleteAll.
func (s *recordingStore) deleteAll(tb testing.TB, issuer string) {
	tb.Helper()
	for _, c := range s.created {
		if err := s.DeleteMethod(context.Background(), issuer, c[0], c[1], nil); err != nil {
			tb.Fatal(err)
		}
	}
	s.created = s.created[:0]
}

// benchUsers take turns enrolling, each with a token the API has verified
// before. One user would soon hold more session records than a store keeps
// for one user (the memory store's bound is 1000 per session lifetime), which
// no person comes near.
type benchUsers struct {
	tokens []string
	next   int
}

// newBenchUsers mints tokens with every scope for n users of iss, and warms
// the API's token cache with each through the first request of use.
func newBenchUsers(tb testing.TB, iss *myaccounttest.Issuer, n int) *benchUsers {
	tb.Helper()
	u := &benchUsers{}
	for i := range n {
		sub := subject
		if i > 0 {
			sub = fmt.Sprintf("%s-%d", subject, i)
		}
		u.tokens = append(u.tokens, iss.Token(tb, sub, myaccount.AllScopes()...))
	}
	return u
}

// token returns the next user's token.
func (u *benchUsers) token() string {
	t := u.tokens[u.next%len(u.tokens)]
	u.next++
	return t
}

// each runs fn with every user's token once.
func (u *benchUsers) each(fn func(token string)) {
	for _, t := range u.tokens {
		fn(t)
	}
}

// BenchmarkEnroll is one passkey enrollment: the creation options, the
// software authenticator's answer, and its verification.
func BenchmarkEnroll(b *testing.B) {
	benchEnroll(b, "passkey", myaccounttest.NewAuthenticator,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
}

// BenchmarkEnrollSecurityKey is one security key (webauthn-roaming)
// enrollment, as BenchmarkEnroll is for a passkey.
func BenchmarkEnrollSecurityKey(b *testing.B) {
	benchEnroll(b, "webauthn-roaming", myaccounttest.NewSecurityKey,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			AuthenticatorAttachment: protocol.CrossPlatform,
			ResidentKey:             protocol.ResidentKeyRequirementDiscouraged,
			UserVerification:        protocol.VerificationPreferred,
		}))
}

// benchEnroll times an enrollment of typ through the API handler beside
// go-webauthn doing the same ceremony alone with floorOptions: the floor.
// newAuth gives a new authenticator for each cycle, as one holding every
// credential so far would take longer to answer as the loop goes on.
func benchEnroll(b *testing.B, typ string, newAuth func() *myaccounttest.Authenticator, floorOptions webauthn.RegistrationOption) {
	b.Run("impl=go-webauthn-floor", func(b *testing.B) {
		cycle := floorEnroll(b, newAuth, floorOptions)
		b.ReportAllocs()
		for b.Loop() {
			cycle()
		}
	})
	b.Run("impl=myaccount-handler", func(b *testing.B) {
		enroll, cleanUp := handlerEnroll(b, typ, newAuth)
		b.ReportAllocs()
		before := cpuTime()
		for b.Loop() {
			enroll()
			cleanUp()
		}
		// CPU per cycle is steadier than wall time on a shared machine.
		b.ReportMetric(float64((cpuTime()-before).Microseconds())/float64(b.N), "cpu-µs/op")
	})
}

// BenchmarkEnrollPaired runs the floor's and the handler's enroll cycles of
// a passkey and of a security key in turns within each iteration, each timed
// alone, and reports handler/floor, which a shared machine's load moves far
// less than either benchmark of BenchmarkEnroll alone.
func BenchmarkEnrollPaired(b *testing.B) {
	b.Run("type=passkey", func(b *testing.B) {
		floor := floorEnroll(b, myaccounttest.NewAuthenticator,
			webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
		enroll, cleanUp := handlerEnroll(b, "passkey", myaccounttest.NewAuthenticator)
		benchPaired(b, floor, func() func() { cleanUp(); return enroll })
	})
	b.Run("type=webauthn-roaming", func(b *testing.B) {
		floor := floorEnroll(b, myaccounttest.NewSecurityKey, webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			AuthenticatorAttachment: protocol.CrossPlatform,
			ResidentKey:             protocol.ResidentKeyRequirementDiscouraged,
			UserVerification:        protocol.VerificationPreferred,
		}))
		enroll, cleanUp := handlerEnroll(b, "webauthn-roaming", myaccounttest.NewSecurityKey)
		benchPaired(b, floor, func() func() { cleanUp(); return enroll })
	})
}

// floorEnroll returns go-webauthn's ceremony alone: BeginRegistration, the
// options as JSON, the authenticator's answer, its parse and CreateCredential.
func floorEnroll(b *testing.B, newAuth func() *myaccounttest.Authenticator, options webauthn.RegistrationOption) func() {
	wa, err := webauthn.New(&webauthn.Config{RPID: "localhost", RPDisplayName: "localhost", RPOrigins: []string{origin}})
	if err != nil {
		b.Fatal(err)
	}
	user := &benchUser{id: []byte("0123456789abcdef0123456789abcdef")}
	return func() {
		creation, session, err := wa.BeginRegistration(user, options)
		if err != nil {
			b.Fatal(err)
		}
		encoded, err := json.Marshal(creation)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := newAuth().Create(encoded, origin)
		if err != nil {
			b.Fatal(err)
		}
		parsed, err := protocol.ParseCredentialCreationResponseBytes(resp)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := wa.CreateCredential(user, *session, parsed); err != nil {
			b.Fatal(err)
		}
	}
}

// handlerEnroll returns one enrollment of typ through an API handler (memory
// store), and cleanUp, which deletes what the enrollments so far created so
// that every one starts alike; the paired benchmark does not time it. The
// enrollments take turns among 32 users, each token seen once already.
func handlerEnroll(b *testing.B, typ string, newAuth func() *myaccounttest.Authenticator) (enroll, cleanUp func()) {
	iss := myaccounttest.NewIssuer(b)
	store := &recordingStore{Store: myaccount.NewMemoryStore()}
	api := newAPI(b, iss, store)
	users := newBenchUsers(b, iss, 32)
	cleanUp = func() { store.deleteAll(b, iss.Issuer) }
	users.each(func(token string) { // warms the token cache
		enrollType(b, api, token, typ, newAuth())
		cleanUp()
	})
	return func() { enrollType(b, api, users.token(), typ, newAuth()) }, cleanUp
}

// enroll runs a passkey's POST /authentication-methods and its verify through api.
func enroll(tb testing.TB, api http.Handler, token string, auth *myaccounttest.Authenticator) {
	tb.Helper()
	enrollType(tb, api, token, "passkey", auth)
}

// enrollType runs POST /authentication-methods of a WebAuthn type and its
// verify, under the 202's id (passkey|new for a passkey), through api.
func enrollType(tb testing.TB, api http.Handler, token, typ string, auth *myaccounttest.Authenticator) {
	tb.Helper()
	rec := serve(tb, api, post("/me/v1/authentication-methods", token, `{"type":"`+typ+`"}`), http.StatusAccepted)
	var begun struct {
		ID          string          `json:"id"`
		AuthSession string          `json:"auth_session"`
		Options     json.RawMessage `json:"authn_params_public_key"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &begun); err != nil {
		tb.Fatal(err)
	}
	resp, err := auth.Create(begun.Options, origin)
	if err != nil {
		tb.Fatal(err)
	}
	id := cmp.Or(begun.ID, "passkey"+"|new")
	body := `{"auth_session":"` + begun.AuthSession + `","authn_response":` + string(resp) + `}`
	serve(tb, api, post("/me/v1/authentication-methods/"+url.PathEscape(id)+"/verify", token, body), http.StatusCreated)
}

// post builds a request as a server hands it to its handler: a copy of a
// template with its own path and body, skipping httptest.NewRequest's parsing
// of a request line, which would cost more than some of what is measured.
// Templates are kept per token, not per path: a verify's path is new each time.
func post(path, token, body string) *http.Request {
	tmpl, ok := templates.Load(token)
	if !ok {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		tmpl, _ = templates.LoadOrStore(token, req)
	}
	req := *tmpl.(*http.Request)
	u, err := url.ParseRequestURI(path)
	if err != nil {
		panic(err)
	}
	req.URL, req.RequestURI = u, path
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	return &req
}

// templates holds a request per token for post.
var templates sync.Map

// benchUser is the webauthn.User of the floor.
type benchUser struct{ id []byte }

func (u *benchUser) WebAuthnID() []byte                         { return u.id }
func (u *benchUser) WebAuthnName() string                       { return subject }
func (u *benchUser) WebAuthnDisplayName() string                { return subject }
func (u *benchUser) WebAuthnCredentials() []webauthn.Credential { return nil }
