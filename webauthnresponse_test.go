package myaccount_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// TestAuthnResponseReadsAsGoWebAuthnReadsIt holds the verify's own reading of
// an authn_response to go-webauthn's ParseCredentialCreationResponseBytes,
// which it replaces: for answers of a passkey and a security key, and for
// each respelling below of one, both give the same credential or both refuse
// it. (The verify's member checks refuse some spellings before either runs,
// such as a member of the wrong kind; those are left out.)
func TestAuthnResponseReadsAsGoWebAuthnReadsIt(t *testing.T) {
	wa, err := webauthn.New(&webauthn.Config{RPID: "localhost", RPDisplayName: "localhost", RPOrigins: []string{"https://localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	user := &testUser{id: []byte("0123456789abcdef")}
	creation, _, err := wa.BeginRegistration(user)
	if err != nil {
		t.Fatal(err)
	}
	options, _ := json.Marshal(creation)
	answers := map[string][]byte{}
	for name, auth := range map[string]*myaccounttest.Authenticator{"passkey": myaccounttest.NewAuthenticator(), "security key": myaccounttest.NewSecurityKey()} {
		resp, err := auth.Create(options, "https://localhost")
		if err != nil {
			t.Fatal(err)
		}
		answers[name] = resp
	}
	var fields map[string]any
	if err := json.Unmarshal(answers["passkey"], &fields); err != nil {
		t.Fatal(err)
	}
	response := fields["response"].(map[string]any)
	rawID, attestation := fields["rawId"].(string), response["attestationObject"].(string)
	respell := func(edit func(fields, response map[string]any)) []byte {
		f, r := clone(fields), clone(response)
		edit(f, r)
		f["response"] = r
		b, _ := json.Marshal(f)
		return b
	}
	for name, edit := range map[string]func(f, r map[string]any){
		"padded rawId":                func(f, _ map[string]any) { f["rawId"] = rawID + "==" },
		"rawId not base64url":         func(f, _ map[string]any) { f["rawId"] = "*" + rawID },
		"rawId of another credential": func(f, _ map[string]any) { f["rawId"] = "AAAA" },
		"id not rawId":                func(f, _ map[string]any) { f["id"] = "AAAA" },
		"attestationObject padded":    func(_, r map[string]any) { r["attestationObject"] = attestation + "=" },
		"attestationObject in std base64": func(_, r map[string]any) {
			r["attestationObject"] = strings.NewReplacer("-", "+", "_", "/").Replace(attestation)
		},
		"attestationObject cut":             func(_, r map[string]any) { r["attestationObject"] = attestation[:len(attestation)/2] },
		"clientDataJSON empty":              func(_, r map[string]any) { r["clientDataJSON"] = "" },
		"transports":                        func(_, r map[string]any) { r["transports"] = []any{"usb", "hybrid", "smoke-signal"} },
		"transports not strings":            func(_, r map[string]any) { r["transports"] = []any{1, true} },
		"transports empty":                  func(_, r map[string]any) { r["transports"] = []any{} },
		"publicKeyAlgorithm":                func(_, r map[string]any) { r["publicKeyAlgorithm"] = -7 },
		"publicKeyAlgorithm not an integer": func(_, r map[string]any) { r["publicKeyAlgorithm"] = 1.5 },
		"publicKeyAlgorithm too large":      func(_, r map[string]any) { r["publicKeyAlgorithm"] = 1e30 },
		"publicKey and authenticatorData":   func(_, r map[string]any) { r["publicKey"], r["authenticatorData"] = "AQID", "BAUG" },
		"publicKey not base64url":           func(_, r map[string]any) { r["publicKey"] = "%%" },
		"extension results empty":           func(f, _ map[string]any) { f["clientExtensionResults"] = map[string]any{} },
		"extension results": func(f, _ map[string]any) {
			f["clientExtensionResults"] = map[string]any{"credProps": map[string]any{"rk": true}, "x": 1}
		},
		"extension results with a null":      func(f, _ map[string]any) { f["clientExtensionResults"] = map[string]any{"appid": nil} },
		"authenticatorAttachment":            func(f, _ map[string]any) { f["authenticatorAttachment"] = "platform" },
		"authenticatorAttachment of nothing": func(f, _ map[string]any) { f["authenticatorAttachment"] = "" },
	} {
		answers[name] = respell(edit)
	}
	// Escapes in a base64 member: the same bytes in another JSON spelling.
	answers["rawId with an escape"] = []byte(strings.Replace(string(answers["passkey"]), `"rawId":"`+rawID[:1], `"rawId":"\u00`+hex(rawID[0]), 1))
	accepted := 0
	for name, raw := range answers {
		want, wantErr := protocol.ParseCredentialCreationResponseBytes(raw)
		got, gotErr := myaccount.ParseAuthnResponse(raw)
		if (wantErr == nil) != (gotErr == nil) {
			t.Errorf("%s %s: go-webauthn: %v; ours: %v", name, raw, wantErr, gotErr)
			continue
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s:\n got %+v\nwant %+v", name, raw, got, want)
		}
		if wantErr == nil {
			accepted++
		}
	}
	if accepted < len(answers)/2 {
		t.Errorf("%d of %d answers read, want most: the respellings test nothing", accepted, len(answers))
	}
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func hex(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

type testUser struct{ id []byte }

func (u *testUser) WebAuthnID() []byte                         { return u.id }
func (u *testUser) WebAuthnName() string                       { return "user" }
func (u *testUser) WebAuthnDisplayName() string                { return "user" }
func (u *testUser) WebAuthnCredentials() []webauthn.Credential { return nil }
