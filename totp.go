package myaccount

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTPConfig configures authenticator apps (type "totp"): RFC 6238 codes of 6
// digits every 30 seconds with HMAC-SHA-1, the settings every authenticator app
// reads from a QR code.
type TOTPConfig struct {
	// Disabled stops the API from offering totp. Default: false (offered).
	Disabled bool
	// Issuer is the account's issuer shown by authenticator apps. Default: RPName.
	Issuer string
}

// totpOptions are the code settings of the contract; Skew 1 accepts the code
// of the current step or of one step either side.
var totpOptions = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// totpFamily enrolls authenticator apps through github.com/pquerna/otp. The
// secret travels in the sealed auth_session between the steps and is stored
// sealed under the key ring.
type totpFamily struct{}

func (totpFamily) beginMembers(string) []member { return nil }

func (totpFamily) verifyMembers(string) []member {
	return []member{{name: "otp_code", kind: kindString, required: true}}
}

func (totpFamily) limit(*Config, string) int { return 1 }

func (totpFamily) offered(cfg *Config, _ string) bool { return !cfg.TOTP.Disabled }

func (totpFamily) usage(string) string { return "secondary" }

func (totpFamily) begin(_ context.Context, e *enrollment) error {
	account, _ := e.api.cfg.Users.Names(e.claims)
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: e.api.cfg.TOTP.Issuer, AccountName: account, Period: uint(totpOptions.Period),
		Digits: totpOptions.Digits, Algorithm: totpOptions.Algorithm,
	})
	if err != nil {
		return err
	}
	e.state.Data = []byte(key.Secret())
	e.reply = append(e.reply, `,"barcode_uri":`...)
	e.reply = appendString(e.reply, key.URL())
	e.reply = append(e.reply, `,"manual_input_code":`...)
	e.reply = appendString(e.reply, key.Secret())
	return nil
}

func (totpFamily) finish(ctx context.Context, v *verification) error {
	code, err := otpCode(v.body)
	if err != nil {
		return err
	}
	if err := v.countAttempt(ctx); err != nil {
		return err
	}
	step, ok := totpStep(code, string(v.state.Data), time.Now())
	if !ok {
		return wrongCode()
	}
	// Recorded in the create, so that a later check refuses this code.
	v.method.LastTOTPStep = step
	v.method.Secret = v.api.keys.seal(nil, v.state.Data, totpSecretContext(v.method))
	return nil
}

func (totpFamily) appendFields(b []byte, _ *Method) []byte {
	return append(b, `,"confirmed":true`...)
}

// totpSecretContext binds a sealed TOTP secret to its method, so a sealed
// secret copied into another user's row does not open.
func totpSecretContext(m *Method) []byte {
	return []byte("myaccount totp\x00" + m.Issuer + "\x00" + m.UserID + "\x00" + m.ID)
}

// otpCode returns the body's otp_code when it has the form of a code (6
// digits); checking the form first costs no attempt.
func otpCode(body map[string]json.RawMessage) (string, error) {
	code := unquote(body["otp_code"])
	if len(code) != 6 {
		return "", bodyError("/otp_code", "must be 6 digits")
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return "", bodyError("/otp_code", "must be 6 digits")
		}
	}
	return code, nil
}

// CheckTOTP reports whether code is the TOTP code of method m (a totp method
// from the Store) at time at, or one step either side, and accepts it: an app
// calls it when the user signs in with the authenticator app. A code is
// accepted at most once (RFC 6238 §5.2): its time step must be later than
// the last one the method accepted, at enrollment or in an earlier check, and
// the store advances the method to it in one atomic step
// ([Store.AdvanceTOTPStep]), so of concurrent checks of one code at most one
// is true. It opens the sealed secret with any key of [Config.SecretKeys], so
// it keeps working across a key rotation; an error means the secret cannot be
// opened (a key was dropped from the ring), or the store failed or no longer
// holds the method.
func (a *API) CheckTOTP(ctx context.Context, m *Method, code string, at time.Time) (bool, error) {
	if m.Type != typeTOTP {
		return false, fmt.Errorf("myaccount: CheckTOTP of a %s method", m.Type)
	}
	secret, err := a.keys.open(m.Secret, totpSecretContext(m))
	if err != nil {
		return false, err
	}
	step, ok := totpStep(code, string(secret), at)
	if !ok || step <= m.LastTOTPStep {
		return false, nil
	}
	return a.cfg.Store.AdvanceTOTPStep(ctx, m.Issuer, m.UserID, m.ID, step)
}

// totpStep returns the time step, of the step at time at and one either side
// (totpOptions.Skew), whose code is code. pquerna/otp's ValidateCustom answers
// only yes or no; the step is what makes a code single use. The steps are
// tried in ValidateCustom's order, the current one first, so that the code an
// app shows now costs one HMAC: trying the next step first cost a second one
// on nearly every verify (bench/README.md, "The hot path, second pass"). Two
// steps share a code one time in a million; the step recorded is then the
// first of them, as any 6-digit guess has that chance anyway.
func totpStep(code, secret string, at time.Time) (int64, bool) {
	period := int64(totpOptions.Period)
	now := at.Unix() / period
	steps := append(make([]int64, 0, 3), now) // room for a skew of 1 on the stack
	for i := int64(1); i <= int64(totpOptions.Skew); i++ {
		steps = append(steps, now+i, now-i)
	}
	for _, step := range steps {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*period, 0), totpOptions)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}
