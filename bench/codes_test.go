package bench

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
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
// method stored and written), each beside the floor of the library call that
// checks the code alone. The first step and the deletion that lets the next
// cycle enroll again are outside the timer.
func BenchmarkVerifyCode(b *testing.B) {
	b.Run("type=totp/impl=totp-validate-floor", func(b *testing.B) {
		key, err := totp.Generate(totp.GenerateOpts{Issuer: "localhost", AccountName: subject})
		if err != nil {
			b.Fatal(err)
		}
		code, _ := totp.GenerateCode(key.Secret(), time.Now())
		b.ReportAllocs()
		for b.Loop() {
			if !totp.Validate(code, key.Secret()) {
				b.Fatal("code refused")
			}
		}
	})
	b.Run("type=totp/impl=myaccount-handler", func(b *testing.B) {
		benchVerify(b, `{"type":"totp"}`, nil, func(e codeEnrollment) string {
			code, _ := totp.GenerateCode(e.Secret, time.Now())
			return code
		})
	})
	b.Run("type=email/impl=hash-compare-floor", func(b *testing.B) {
		salt, code := make([]byte, 16), []byte("123456")
		_, _ = rand.Read(salt)
		want := hmacSHA256(salt, code)
		b.ReportAllocs()
		for b.Loop() {
			if subtle.ConstantTimeCompare(hmacSHA256(salt, code), want) != 1 {
				b.Fatal("code refused")
			}
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
		Store: store, SecretKeys: benchKeys, SessionTTL: benchSessionTTL, Messages: myaccount.MessageConfig{Sender: sender}, Logger: slog.New(slog.DiscardHandler),
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
