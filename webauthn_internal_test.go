package myaccount

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// creationOptionsJSON is PublicKeyCredentialCreationOptions as encoding/json
// writes the contract's schema: what beginPasskey must write, byte for byte.
type creationOptionsJSON struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rp"`
	User struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
	} `json:"user"`
	PubKeyCredParams []struct {
		Type string `json:"type"`
		Alg  int64  `json:"alg"`
	} `json:"pubKeyCredParams"`
	AuthenticatorSelection struct {
		AuthenticatorAttachment string `json:"authenticatorAttachment,omitempty"`
		ResidentKey             string `json:"residentKey,omitempty"`
		UserVerification        string `json:"userVerification"`
	} `json:"authenticatorSelection"`
	Timeout            int64 `json:"timeout"`
	ExcludeCredentials []struct {
		Type       string   `json:"type"`
		ID         string   `json:"id"`
		Transports []string `json:"transports,omitempty"`
	} `json:"excludeCredentials,omitempty"`
}

func TestBeginPasskeyWritesWhatEncodingJSONWrites(t *testing.T) {
	passkey := func(id string, transports ...string) *Method {
		return &Method{WebAuthn: WebAuthnCredential{CredentialID: []byte(id), Transports: transports}}
	}
	cases := []struct {
		rpID, rpName, uv  string
		name, displayName string
		handle            []byte
		ttl               time.Duration
		typ               string
		hint              bool // the deployment's WebAuthn.AttachmentHint
		exclude           []*Method
	}{
		{"localhost", "localhost", "preferred", "alice@example.com", "Alice", []byte("0123456789abcdef0123456789abcdef"), 5 * time.Minute, typePasskey, true, nil},
		{"example.com", "Example <&> \"Inc\"", "required", "bob", "Bøb \u2028 \x01", []byte{0, 1, 2, 0xff}, 1500 * time.Millisecond, typeWebAuthnRoaming, true,
			[]*Method{passkey("\x00\x01"), passkey("abc", "usb", "nfc"), passkey("x", "hybrid")}},
		{"", "", "", "", "\xff invalid", nil, 0, typeWebAuthnPlatform, true, []*Method{passkey("", "")}},
		{"localhost", "localhost", "preferred", "carol", "Carol", []byte{7}, time.Minute, typeWebAuthnRoaming, false, nil},
		{"localhost", "localhost", "discouraged", "dave", "Dave", []byte{8}, time.Minute, typeWebAuthnPlatform, false, nil},
	}
	for i, c := range cases {
		a := &API{cfg: Config{WebAuthn: WebAuthnConfig{RPID: c.rpID, RPName: c.rpName, UserVerification: c.uv, AttachmentHint: c.hint}, SessionTTL: c.ttl}}
		got, session, err := a.beginPasskey([]byte("prefix"), c.handle, c.name, c.displayName, c.typ, c.exclude)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := bytes.CutPrefix(got, []byte("prefix"))
		if !ok {
			t.Fatalf("case %d: the prefix is gone: %s", i, got)
		}
		var want creationOptionsJSON
		if err := json.Unmarshal(got, &want); err != nil {
			t.Fatalf("case %d: %v: %s", i, err, got)
		}
		// Fill in what encoding/json must write from the inputs, not from got,
		// except the random challenge.
		want.RP.ID, want.RP.Name = c.rpID, c.rpName
		want.User.ID, want.User.Name, want.User.DisplayName = b64url.EncodeToString(c.handle), c.name, c.displayName
		want.PubKeyCredParams = want.PubKeyCredParams[:0]
		for _, p := range passkeyAlgorithms {
			want.PubKeyCredParams = append(want.PubKeyCredParams, struct {
				Type string `json:"type"`
				Alg  int64  `json:"alg"`
			}{string(p.Type), int64(p.Algorithm)})
		}
		// A passkey must be discoverable; a second factor says nothing of it
		// (WebAuthn's default, "discouraged"), nor of its attachment unless hinted.
		want.AuthenticatorSelection.ResidentKey, want.AuthenticatorSelection.UserVerification = "", c.uv
		if c.typ == typePasskey {
			want.AuthenticatorSelection.ResidentKey = "required"
		}
		want.AuthenticatorSelection.AuthenticatorAttachment = ""
		if c.hint {
			want.AuthenticatorSelection.AuthenticatorAttachment = string(attachments[c.typ])
		}
		want.Timeout = c.ttl.Milliseconds()
		want.ExcludeCredentials = nil
		for _, m := range c.exclude {
			want.ExcludeCredentials = append(want.ExcludeCredentials, struct {
				Type       string   `json:"type"`
				ID         string   `json:"id"`
				Transports []string `json:"transports,omitempty"`
			}{"public-key", b64url.EncodeToString(m.WebAuthn.CredentialID), m.WebAuthn.Transports})
		}
		wantJSON, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantJSON) {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, wantJSON)
		}
		if session.Challenge != want.Challenge || len(want.Challenge) != 43 {
			t.Errorf("case %d: session challenge %q, options challenge %q", i, session.Challenge, want.Challenge)
		}
	}
}

func TestCeremonyStateRoundTrips(t *testing.T) {
	for _, c := range []webauthn.SessionData{
		{Challenge: "c", RelyingPartyID: "localhost", UserID: []byte{0, 1, 2},
			UserVerification: protocol.VerificationRequired, CredParams: passkeyAlgorithms},
		{CredParams: passkeyAlgorithms},
		{Challenge: string(bytes.Repeat([]byte("é"), 200)), UserID: bytes.Repeat([]byte{0xff}, 300), CredParams: passkeyAlgorithms},
	} {
		data := encodeCeremony(&c)
		got, ok := decodeCeremony(data)
		if !ok || !reflect.DeepEqual(got, c) {
			t.Errorf("decodeCeremony(encodeCeremony(%+v)) = %+v, %v", c, got, ok)
		}
		// Anything cut short or extended is refused.
		for n := range len(data) {
			if _, ok := decodeCeremony(data[:n]); ok {
				t.Errorf("decodeCeremony accepts %q, cut from %q", data[:n], data)
			}
		}
		if _, ok := decodeCeremony(append(data, 0)); ok {
			t.Errorf("decodeCeremony accepts a trailing byte")
		}
	}
}

// FuzzReadFields checks that readFields never panics, and that what it accepts
// appendFields writes back byte for byte.
func FuzzReadFields(f *testing.F) {
	f.Add([]byte{}, 0)
	f.Add(appendFields(nil, []byte("a"), nil, []byte("ccc")), 3)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 1)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		if n < 0 || n > 8 {
			return
		}
		fields, ok := readFields(data, n)
		if ok && !bytes.Equal(appendFields(nil, fields...), data) {
			t.Fatalf("readFields(%x, %d) = %q, which appendFields writes differently", data, n, fields)
		}
	})
}
