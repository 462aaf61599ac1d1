package myaccount

import (
	"fmt"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"pgregory.net/rapid"
)

// TestTOTPStepIsPquernasCode holds totpStep to pquerna/otp, whose codes every
// enrolled authenticator app was set up with: for any secret of the spellings
// pquerna reads and any moment, a code pquerna makes for a step within the
// skew is found at a step within the skew whose code it is, and any other
// code is refused exactly when pquerna refuses it.
func TestTOTPStepIsPquernasCode(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		key, err := totp.Generate(totp.GenerateOpts{Issuer: "i", AccountName: "a"})
		if err != nil {
			t.Fatal(err)
		}
		secret := key.Secret()
		switch rapid.IntRange(0, 2).Draw(t, "spelling") {
		case 1:
			secret = " " + lowerASCII(secret) + " "
		case 2:
			secret = secret[:rapid.IntRange(1, len(secret)).Draw(t, "length")]
		}
		at := time.Unix(rapid.Int64Range(0, 1<<40).Draw(t, "unix"), 0)
		offset := rapid.Int64Range(-1, 1).Draw(t, "offset")
		want, err := totp.GenerateCodeCustom(secret, at.Add(time.Duration(offset)*30*time.Second), totpOptions)
		if err != nil {
			if _, ok := totpStep("000000", secret, at); ok {
				t.Fatalf("pquerna cannot read %q, totpStep accepts it", secret)
			}
			return
		}
		step, ok := totpStep(want, secret, at)
		if now := at.Unix() / 30; !ok || step < now-1 || step > now+1 {
			t.Fatalf("code %s of step %d: got step %d, %v", want, at.Unix()/30+offset, step, ok)
		}
		if got, _ := totp.GenerateCodeCustom(secret, time.Unix(step*30, 0), totpOptions); got != want {
			t.Fatalf("code %s: step %d has code %s", want, step, got)
		}
		other := fmt.Sprintf("%06d", rapid.IntRange(0, 999_999).Draw(t, "code"))
		valid, _ := totp.ValidateCustom(other, secret, at, totpOptions)
		if _, ok := totpStep(other, secret, at); ok != valid {
			t.Fatalf("code %s: totpStep %v, pquerna %v", other, ok, valid)
		}
	})
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
