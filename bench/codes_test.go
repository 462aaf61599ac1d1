package bench

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/pquerna/otp/totp"
)

// lastCode is a Sender that keeps the last code it was asked to send.
type lastCode struct {
	mu   sync.Mutex
	code string
}

func (s *lastCode) Send(_ context.Context, m myaccount.Message) error {
	s.mu.Lock()
	s.code = m.Code
	s.mu.Unlock()
	return nil
}

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
// check the code and writes the same 201 JSON. The handler's first step and
// the deletion that lets the next cycle enroll again are outside the timer.
func BenchmarkVerifyCode(b *testing.B) {
	b.Run("type=totp/impl=net-http-floor", func(b *testing.B) {
		key, err := totp.Generate(totp.GenerateOpts{Issuer: "localhost", AccountName: subject})
		if err != nil {
			b.Fatal(err)
		}
		e, created := codeResponses(b, `{"type":"totp"}`, nil, func(e codeEnrollment) string {
			code, _ := totp.GenerateCode(e.Secret, time.Now())
			return code
		})
		floor := floorHandler(created, func(code string) bool { return totp.Validate(code, key.Secret()) })
		code, codeAt := "", time.Time{}
		b.ReportAllocs()
		for b.Loop() {
			if time.Since(codeAt) > 10*time.Second { // a code lasts 30 s, and Validate takes the one before
				code, _ = totp.GenerateCode(key.Secret(), time.Now())
				codeAt = time.Now()
			}
			serve(b, floor, post("/me/v1/authentication-methods/"+url.PathEscape(e.ID)+"/verify", "floor",
				`{"auth_session":"`+e.AuthSession+`","otp_code":"`+code+`"}`), http.StatusCreated)
		}
	})
	b.Run("type=totp/impl=myaccount-handler", func(b *testing.B) {
		benchVerify(b, `{"type":"totp"}`, nil, func(e codeEnrollment) string {
			code, _ := totp.GenerateCode(e.Secret, time.Now())
			return code
		})
	})
	b.Run("type=email/impl=net-http-floor", func(b *testing.B) {
		sender := &lastCode{}
		e, created := codeResponses(b, `{"type":"email","email":"bench@example.com"}`, sender, func(codeEnrollment) string {
			sender.mu.Lock()
			defer sender.mu.Unlock()
			return sender.code
		})
		salt, code := make([]byte, 16), "123456"
		_, _ = rand.Read(salt)
		want := hmacSHA256(salt, []byte(code))
		floor := floorHandler(created, func(code string) bool {
			return subtle.ConstantTimeCompare(hmacSHA256(salt, []byte(code)), want) == 1
		})
		body := `{"auth_session":"` + e.AuthSession + `","otp_code":"` + code + `"}`
		b.ReportAllocs()
		for b.Loop() {
			serve(b, floor, post("/me/v1/authentication-methods/"+url.PathEscape(e.ID)+"/verify", "floor", body), http.StatusCreated)
		}
	})
	b.Run("type=email/impl=myaccount-handler", func(b *testing.B) {
		sender := &lastCode{}
		benchVerify(b, `{"type":"email","email":"bench@example.com"}`, sender, func(codeEnrollment) string {
			sender.mu.Lock()
			defer sender.mu.Unlock()
			return sender.code
		})
	})
}

// floorHandler is what a service might write by hand for a code's verify:
// the body read with encoding/json, the code checked by valid, and created
// (the 201 body the API writes for such a method) written as bytes it has.
func floorHandler(created []byte, valid func(code string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			AuthSession string `json:"auth_session"`
			OTPCode     string `json:"otp_code"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.AuthSession == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if !valid(body.OTPCode) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(created)
	})
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

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

// benchVerify times the verify of enrollments begun with body; code gives the
// code to send for each.
func benchVerify(b *testing.B, body string, sender myaccount.Sender, code func(codeEnrollment) string) {
	iss := myaccounttest.NewIssuer(b)
	store := &recordingStore{Store: myaccount.NewMemoryStore()}
	api, err := myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL()}, WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{origin}},
		Store: store, SecretKeys: benchKeys, SessionTTL: benchSessionTTL, Logger: slog.New(slog.DiscardHandler),
		// The send quotas apply to the first step, which is not timed; on, they would end the loop.
		Messages:   myaccount.MessageConfig{Sender: sender, PerDestination: myaccount.SendQuota{Disabled: true}, PerUser: myaccount.SendQuota{Disabled: true}},
		RateLimits: myaccount.RateLimitConfig{Tenant: myaccount.RateLimit{Rate: 1e9, Burst: 25}, User: myaccount.RateLimit{Rate: 1e9, Burst: 10}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(api.Close)
	token := iss.Token(b, subject, "create:me:authentication_methods")
	cycle := func(timed bool) {
		if timed {
			b.StopTimer()
		}
		var e codeEnrollment
		rec := serve(b, api, post("/me/v1/authentication-methods", token, body), 202)
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			b.Fatal(err)
		}
		verify := `{"auth_session":"` + e.AuthSession + `","otp_code":"` + code(e) + `"}`
		path := "/me/v1/authentication-methods/" + url.PathEscape(e.ID) + "/verify"
		if timed {
			b.StartTimer()
		}
		serve(b, api, post(path, token, verify), 201)
		if timed {
			b.StopTimer()
		}
		if err := store.DeleteMethod(context.Background(), iss.Issuer, subject, store.last, nil); err != nil {
			b.Fatal(err)
		}
		if timed {
			b.StartTimer()
		}
	}
	cycle(false) // warms the token cache
	b.ReportAllocs()
	for b.Loop() {
		cycle(true)
	}
}
