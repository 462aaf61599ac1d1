package myaccount

import (
	"errors"
	"testing"
)

// The dictionary the policy names en_10k holds 10,000 passwords.
func TestDictionaryIsTheTenThousandItIsNamedFor(t *testing.T) {
	if p := DefaultPasswordPolicy(); p.Dictionary.Default != "en_10k" || !p.Dictionary.Active {
		t.Fatalf("default dictionary %+v", p.Dictionary)
	}
	if n := len(commonPasswords()); n != 10_000 {
		t.Errorf("en_10k holds %d passwords", n)
	}
	for _, pw := range []string{"123456", "password", "Sunshine", "qwerty123!", "P@ssw0rd"} {
		if !isCommonPassword(pw) {
			t.Errorf("%q is not refused", pw)
		}
	}
	if isCommonPassword("Vq7#mZp2!kR") {
		t.Error("a random password is refused")
	}
	// The built-in backend cannot honour en_100k, so it refuses to advertise it.
	policy := DefaultPasswordPolicy()
	policy.Dictionary.Default = "en_100k"
	if _, err := NewArgon2Passwords(Argon2Options{Policy: &policy}); !errors.Is(err, ErrConfig) {
		t.Errorf("en_100k accepted: %v", err)
	}
	policy.Dictionary.Active = false
	if _, err := NewArgon2Passwords(Argon2Options{Policy: &policy}); err != nil {
		t.Errorf("an inactive en_100k: %v", err)
	}
}
