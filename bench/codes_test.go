package bench

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/bench/internal/floor"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/pquerna/otp/totp"
)

// codeEnrollment is a 202 of a totp or email enrollment.
type codeEnrollment struct {
	ID          string `json:"id"`
	AuthSession string `json:"auth_session"`
	Secret      string `json:"manual_input_code"`
}

// BenchmarkVerifyCode is the verify step of a TOTP and of an email
// enrollment through the handler (token check on a cached token, rate limits,
// the sealed session opened, the attempt counted, the code checked, the
// method stored and written), each beside its floor: a bare net/http handler
// that reads the same body with encoding/json, makes the same library call to
// check the code and writes the same 201 JSON. Both build their request in
// the loop; the handler's first steps, and the deletions that let the next
// ones enroll again, are made in batches outside the timer (codeVerifies).
func BenchmarkVerifyCode(b *testing.B) {
	for _, kind := range codeKinds {
		b.Run("type="+kind.name+"/impl=net-http-floor", func(b *testing.B) {
			floor := newCodeFloor(b, kind)
			b.ReportAllocs()
			for b.Loop() {
				floor()
			}
		})
		b.Run("type="+kind.name+"/impl=myaccount-handler", func(b *testing.B) {
			verifies := newCodeVerifies(b, kind)
			b.ReportAllocs()
			for b.Loop() {
				if verifies.empty() {
					b.StopTimer()
					verifies.refill()
					b.StartTimer()
				}
				verifies.serve(verifies.pop())
			}
		})
	}
}

// BenchmarkVerifyCodePaired runs a code's floor and the handler's verify in
// turns within each iteration, each timed alone, and reports handler/floor:
// both see the same load of a shared machine, which moves the two
// benchmarks above by more than their difference.
func BenchmarkVerifyCodePaired(b *testing.B) {
	for _, kind := range codeKinds {
		b.Run("type="+kind.name, func(b *testing.B) {
			floor, verifies := newCodeFloor(b, kind), newCodeVerifies(b, kind)
			benchPaired(b, floor, func() func() {
				if verifies.empty() {
					verifies.refill()
				}
				p := verifies.pop()
				return func() { verifies.serve(p) }
			})
		})
	}
}

// benchPaired times floor and the cycles that next prepares (untimed) in
// turns, the one going first alternating so neither always follows the
// other's garbage, and reports the ratio of their times and each per cycle.
func benchPaired(b *testing.B, floor func(), next func() func()) {
	var floorTime, handlerTime time.Duration
	timed := func(f func()) time.Duration { start := time.Now(); f(); return time.Since(start) }
	n := 0
	for i := 0; b.Loop(); i++ {
		cycle := next()
		if i%2 == 0 {
			floorTime += timed(floor)
			handlerTime += timed(cycle)
		} else {
			handlerTime += timed(cycle)
			floorTime += timed(floor)
		}
		n++
	}
	b.ReportMetric(float64(handlerTime)/float64(floorTime), "handler/floor")
	b.ReportMetric(float64(floorTime.Nanoseconds())/float64(n), "floor-ns/op")
	b.ReportMetric(float64(handlerTime.Nanoseconds())/float64(n), "handler-ns/op")
}

// codeKind is a code method as the verify benchmarks enroll it.
type codeKind struct {
	name, begin string
	// code is the code to send for the enrollment e, given where the API
	// sends codes; sent says the API sends them (email) rather than the
	// authenticator app computing them (totp).
	code func(sender *floor.LastCode, e codeEnrollment) string
	sent bool
}

var codeKinds = []codeKind{
	{name: "totp", begin: `{"type":"totp"}`, code: func(_ *floor.LastCode, e codeEnrollment) string {
		code, _ := totp.GenerateCode(e.Secret, time.Now())
		return code
	}},
	{name: "email", begin: `{"type":"email","email":"bench@example.com"}`, sent: true, code: func(s *floor.LastCode, _ codeEnrollment) string { return s.Last() }},
}

// newCodeFloor returns one verify through kind's fair floor, its request
// built as the handler's are.
func newCodeFloor(b *testing.B, kind codeKind) func() {
	sender := &floor.LastCode{}
	e, created := codeResponses(b, kind.begin, sender, func(e codeEnrollment) string { return kind.code(sender, e) })
	path := "/me/v1/authentication-methods/" + url.PathEscape(e.ID) + "/verify"
	valid, code := floor.EmailCode()
	if !kind.sent {
		totpValid, totpCode, err := floor.TOTP()
		if err != nil {
			b.Fatal(err)
		}
		valid, code = totpValid, totpCode() // the benchmark is over before the code is
	}
	h := floor.CodeVerify(created, valid)
	body := `{"auth_session":"` + e.AuthSession + `","otp_code":"` + code + `"}`
	return func() { serve(b, h, post(path, "floor", body), http.StatusCreated) }
}

// codeResponses enrolls one method begun with body through the API, and
// returns its 202 (for a verify body of the same size) and the 201 body.
func codeResponses(b *testing.B, body string, sender myaccount.Sender, code func(codeEnrollment) string) (codeEnrollment, []byte) {
	iss := myaccounttest.NewIssuer(b)
	api, err := myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL()}, WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{origin}},
		SecretKeys: benchKeys, Messages: myaccount.MessageConfig{Sender: sender}, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(api.Close)
	token := iss.Token(b, subject, "create:me:authentication_methods")
	var e codeEnrollment
	rec := serve(b, api, post("/me/v1/authentication-methods", token, body), http.StatusAccepted)
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		b.Fatal(err)
	}
	verify := `{"auth_session":"` + e.AuthSession + `","otp_code":"` + code(e) + `"}`
	rec = serve(b, api, post("/me/v1/authentication-methods/"+url.PathEscape(e.ID)+"/verify", token, verify), http.StatusCreated)
	return e, rec.Body.Bytes()
}

// codeVerifies are verifies through an API of kind's enrollments, begun in
// batches, one for each of verifyBatch users: a user may hold one TOTP
// method, and stopping a benchmark's timer, which reads the runtime's memory
// statistics and so stops the world, twice a verify would charge each verify
// with the scheduler's wake-ups that follow.
type codeVerifies struct {
	b       *testing.B
	api     http.Handler
	store   *recordingStore
	issuer  string
	kind    codeKind
	sender  *floor.LastCode
	users   *benchUsers
	pending []pendingVerify
}

// pendingVerify is a verify request ready to be built and served.
type pendingVerify struct{ path, token, body string }

func newCodeVerifies(b *testing.B, kind codeKind) *codeVerifies {
	iss := myaccounttest.NewIssuer(b)
	v := &codeVerifies{b: b, store: &recordingStore{Store: myaccount.NewMemoryStore()}, issuer: iss.Issuer, kind: kind, sender: &floor.LastCode{}}
	api, err := myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL()}, WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{origin}},
		Store: v.store, SecretKeys: benchKeys, SessionTTL: benchSessionTTL, Logger: slog.New(slog.DiscardHandler),
		// The send quotas apply to the first step, which is not timed; on, they would end the loop.
		Messages:   myaccount.MessageConfig{Sender: v.sender, PerDestination: myaccount.SendQuota{Disabled: true}, PerUser: myaccount.SendQuota{Disabled: true}},
		RateLimits: myaccount.RateLimitConfig{Tenant: myaccount.RateLimit{Rate: 1e9, Burst: 25}, User: myaccount.RateLimit{Rate: 1e9, Burst: 10}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(api.Close)
	v.api, v.users = api, newBenchUsers(b, iss, verifyBatch)
	v.refill() // warms the token cache with every user's token
	for !v.empty() {
		v.serve(v.pop())
	}
	return v
}

// verifyBatch is how many enrollments codeVerifies begins at a time.
const verifyBatch = 64

func (v *codeVerifies) empty() bool { return len(v.pending) == 0 }

// refill deletes the methods the last batch created and begins a new batch.
func (v *codeVerifies) refill() {
	v.store.deleteAll(v.b, v.issuer)
	for _, token := range v.users.tokens {
		var e codeEnrollment
		rec := serve(v.b, v.api, post("/me/v1/authentication-methods", token, v.kind.begin), http.StatusAccepted)
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			v.b.Fatal(err)
		}
		v.pending = append(v.pending, pendingVerify{
			path: "/me/v1/authentication-methods/" + url.PathEscape(e.ID) + "/verify", token: token,
			body: `{"auth_session":"` + e.AuthSession + `","otp_code":"` + v.kind.code(v.sender, e) + `"}`,
		})
	}
}

// pop takes the next pending verify.
func (v *codeVerifies) pop() pendingVerify {
	p := v.pending[0]
	v.pending = v.pending[1:]
	return p
}

// serve builds p's request and serves it through the API.
func (v *codeVerifies) serve(p pendingVerify) {
	serve(v.b, v.api, post(p.path, p.token, p.body), http.StatusCreated)
}
