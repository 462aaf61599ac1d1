// Package floor holds the fair floors the benchmarks and the load command
// measure the API's code verify against: what a service might write by hand
// for the same request, with no token, session or store; and LastCode, which
// hands them the codes the API sends.
package floor

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/pquerna/otp/totp"
)

// CodeVerify is a code's verify written by hand: the body read with
// encoding/json, the code checked by valid, and created (the 201 body the API
// writes for such a method) written as bytes it has.
func CodeVerify(created []byte, valid func(code string) bool) http.Handler {
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

// TOTP is the library call of a TOTP verify, pquerna/otp's Validate, for a
// new secret; code gives a code of the current step, which Validate accepts
// for at least the next 30 seconds (until the step after).
func TOTP() (valid func(code string) bool, code func() string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "localhost", AccountName: "floor"})
	if err != nil {
		return nil, nil, err
	}
	secret := key.Secret()
	valid = func(code string) bool { return totp.Validate(code, secret) }
	code = func() string {
		c, _ := totp.GenerateCode(secret, time.Now())
		return c
	}
	return valid, code, nil
}

// EmailCode is the check of an email or phone code: HMAC-SHA-256 of the code
// under a salt compared in constant time with the one kept, and a code it
// accepts.
func EmailCode() (valid func(code string) bool, code string) {
	salt, code := make([]byte, 16), "123456"
	_, _ = rand.Read(salt)
	want := hmacSHA256(salt, []byte(code))
	return func(code string) bool { return subtle.ConstantTimeCompare(hmacSHA256(salt, []byte(code)), want) == 1 }, code
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

// LastCode is a myaccount.Sender that keeps the last code it was asked to
// send, for a benchmark to verify the enrollment it just began.
type LastCode struct {
	mu   sync.Mutex
	code string
}

// Send implements myaccount.Sender.
func (s *LastCode) Send(_ context.Context, m myaccount.Message) error {
	s.mu.Lock()
	s.code = m.Code
	s.mu.Unlock()
	return nil
}

// Last is the last code sent.
func (s *LastCode) Last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code
}
