package myaccount

import (
	"context"
	"crypto/rand"
)

// RecoveryCodeConfig configures recovery codes (type "recovery-code"): one code
// per user, shown once at enrollment and kept only as a hash. Deleting it and
// enrolling again is how a user gets a new one.
type RecoveryCodeConfig struct {
	// Disabled stops the API from offering recovery codes. Default: false (offered).
	Disabled bool
}

// recoveryCodeAlphabet is A-Z and 0-9 without the characters a person misreads
// for another (0 and O, 1, I and L): 31 characters, so a 24-character code
// holds 118 bits.
const recoveryCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

const recoveryCodeLength = 24

// recoveryCodeFamily enrolls recovery codes: the code is in the 202 body, its
// hash in the sealed auth_session, and verify (the user saying they saved it)
// stores the hash.
type recoveryCodeFamily struct{}

func (recoveryCodeFamily) beginMembers(string) []member { return nil }

func (recoveryCodeFamily) verifyMembers(string) []member { return nil }

func (recoveryCodeFamily) limit(*Config, string) int { return 1 }

func (recoveryCodeFamily) offered(cfg *Config, _ string) bool { return !cfg.RecoveryCodes.Disabled }

func (recoveryCodeFamily) usage(string) string { return "secondary" }

func (recoveryCodeFamily) begin(_ context.Context, e *enrollment) error {
	code := randomString(recoveryCodeAlphabet, recoveryCodeLength)
	e.state.Data = hashSecret(code)
	e.reply = append(e.reply, `,"recovery_code":"`...)
	e.reply = append(e.reply, code...)
	e.reply = append(e.reply, '"')
	return nil
}

func (recoveryCodeFamily) finish(_ context.Context, v *verification) error {
	v.method.Secret = v.state.Data
	return nil
}

func (recoveryCodeFamily) appendFields(b []byte, _ *Method) []byte {
	return append(b, `,"confirmed":true`...)
}

// CheckRecoveryCode reports whether code is the recovery code of method m (a
// recovery-code method from the Store), in constant time. Case and spaces or
// hyphens a person typed between groups are ignored.
func CheckRecoveryCode(m *Method, code string) bool {
	normal := make([]byte, 0, len(code))
	for i := range len(code) {
		c := code[i]
		switch {
		case c == ' ' || c == '-':
		case 'a' <= c && c <= 'z':
			normal = append(normal, c-'a'+'A')
		default:
			normal = append(normal, c)
		}
	}
	return m.Type == typeRecoveryCode && equalSecret(hashSecret(string(normal)), m.Secret)
}

// randomString draws n characters of alphabet uniformly, rejecting the bytes
// past the last multiple of its length so that no character is likelier.
func randomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		_, _ = rand.Read(buf)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}
