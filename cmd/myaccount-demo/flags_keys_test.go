package main

import (
	"bytes"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestSecretKeyFlagParses(t *testing.T) {
	a, b := strings.Repeat("a1", 32), strings.Repeat("b2", 32)
	o, err := parseFlags([]string{"-secret-key", b + ", " + a}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.secretKeys) != 2 || hex.EncodeToString(o.secretKeys[0]) != b || hex.EncodeToString(o.secretKeys[1]) != a {
		t.Fatalf("ring %x", o.secretKeys)
	}
	for _, bad := range []struct{ value, want string }{
		{"zz" + a[2:], "key 1 is not hex"},
		{a + "," + a[:62], "key 2 is 31 bytes; each key must be 32 bytes"},
		{a + "," + b + "," + a, "key 3 repeats an earlier key"},
		{",", "key 1 is 0 bytes"},
		{"", "key 1 is 0 bytes"}, // an empty $KEY is a mistake, not a request for a random key
	} {
		var stderr bytes.Buffer
		_, err := parseFlags([]string{"-secret-key", bad.value}, &stderr)
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "-secret-key") {
			t.Errorf("-secret-key %q: %v", bad.value, err)
		}
		// A key must not end up in the output, even a malformed one.
		if strings.Contains(stderr.String(), a[4:]) || strings.Contains(err.Error(), a[4:]) {
			t.Errorf("-secret-key %q: the key is printed:\n%v\n%s", bad.value, err, stderr.String())
		}
	}
}

func TestSealingKeysWithoutTheFlag(t *testing.T) {
	var log bytes.Buffer
	o := methodOptions{}
	first, second := o.sealingKeys(false, &log), o.sealingKeys(false, &log)
	if len(first) != 1 || len(first[0]) != 32 || bytes.Equal(first[0], second[0]) || log.Len() != 0 {
		t.Fatalf("random keys %x %x, log %q", first, second, log.String())
	}
	o.sealingKeys(true, &log)
	if !strings.Contains(log.String(), "warning: -postgres without -secret-key") {
		t.Errorf("no warning with -postgres: %q", log.String())
	}
	given := methodOptions{secretKeys: [][]byte{bytes.Repeat([]byte{7}, 32)}}
	log.Reset()
	if keys := given.sealingKeys(true, &log); len(keys) != 1 || keys[0][0] != 7 || log.Len() != 0 {
		t.Errorf("with -secret-key: %x, log %q", keys, log.String())
	}
}

// TestSecretKeyRingAcrossDemos enrolls on one demo and verifies on others: an
// auth_session opens wherever the ring holds the key that sealed it. The demos
// share an issuer name (the sessions are bound to issuer and user), each with
// its own dev issuer's signing key.
func TestSecretKeyRingAcrossDemos(t *testing.T) {
	a, b := strings.Repeat("a1", 32), strings.Repeat("b2", 32)
	demo := func(keys string) (base, token string) {
		base, _ = startDemo(t, "-issuer", "https://demo.example/", "-dev-issuer", "-tenant-rate", "0", "-user-rate", "0", "-secret-key", keys)
		return base, devToken(t, base)
	}
	sealer, sealerToken := demo(a)
	rotated, rotatedToken := demo(b + "," + a)
	other, otherToken := demo(b)

	e := begin(t, sealer, sealerToken, `{"type":"recovery-code"}`)
	if status := verifyStatus(t, other, otherToken, e, ""); status != 400 {
		t.Errorf("verified on a demo without the key: %d", status)
	}
	if status := verifyStatus(t, rotated, rotatedToken, e, ""); status != 201 {
		t.Errorf("verified on a demo with the key second in its ring: %d", status)
	}
	// The rotated demo seals with its first key, which the first demo lacks.
	e = begin(t, rotated, rotatedToken, `{"type":"totp"}`)
	code, err := totp.GenerateCode(e.ManualCode, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status := verifyStatus(t, sealer, sealerToken, e, `,"otp_code":"`+code+`"`); status != 400 {
		t.Errorf("a session sealed under the new key opened without it: %d", status)
	}
	if status := verifyStatus(t, other, otherToken, e, `,"otp_code":"`+code+`"`); status != 201 {
		t.Errorf("a session sealed under the new key: %d", status)
	}
}
