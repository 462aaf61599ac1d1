package oascheck

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// sample is a hand-made response that every SDK decodes.
type sample struct {
	method, path string
	status       int
	location     string // for 202s
	body         string
}

const base = "https://tenant.example.test/me/v1/authentication-methods/"

// methodBody is a method of typ with every member its SDK classes read.
func methodBody(typ string) string {
	m := map[string]any{
		"id": typ + "|dev_Q3kR8sLm2PzX7vNc", "type": typ, "created_at": "2025-01-15T10:30:00.000Z",
		"usage": []string{"secondary"}, "confirmed": true, "name": "My " + typ, "last_auth_at": "2025-02-01T00:00:00.000Z",
	}
	switch typ {
	case "passkey":
		delete(m, "confirmed")
		m["usage"] = []string{"primary"}
		m["credential_device_type"] = "multi_device"
		m["credential_backed_up"] = true
		m["identity_user_id"] = "user-1"
		m["key_id"] = "a2V5LWlkLWZvci10ZXN0cw"
		m["public_key"] = "cHVibGljLWtleS1ieXRlcw=="
		m["user_handle"] = "dXNlci1oYW5kbGUtMQ"
		m["aaguid"] = "00000000-0000-0000-0000-000000000000"
		m["relying_party_id"] = "tenant.example.test"
		m["transports"] = []string{"internal", "hybrid"}
		m["user_agent"] = "Go test"
	case "password":
		delete(m, "confirmed")
		m["usage"] = []string{"primary"}
		m["identity_user_id"] = "user-1"
		m["last_password_reset"] = "2025-01-15T10:30:00.000Z"
	case "webauthn-platform", "webauthn-roaming":
		m["key_id"] = "a2V5LWlkLWZvci10ZXN0cw"
		m["public_key"] = "cHVibGljLWtleS1ieXRlcw=="
	case "phone":
		m["phone_number"] = "+15555550100"
		m["preferred_authentication_method"] = "sms"
	case "email":
		m["email"] = "someone@example.test"
	case "totp":
		m["totp_secret"] = "JBSWY3DPEHPK3PXP"
		m["totp_uri"] = "otpauth://totp/Example:someone?secret=JBSWY3DPEHPK3PXP"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

const creationOptions = `{"challenge":"Y2hhbGxlbmdlLWJ5dGVzLWZvci10ZXN0","rp":{"id":"tenant.example.test","name":"Example"},
	"user":{"id":"dXNlci1oYW5kbGUtMQ","name":"someone@example.test","displayName":"Someone"},
	"pubKeyCredParams":[{"type":"public-key","alg":-8},{"type":"public-key","alg":-7},{"type":"public-key","alg":-257}],
	"authenticatorSelection":{"residentKey":"required","userVerification":"preferred"},"timeout":300000}`

// mfaCreationOptions are a security key's or platform authenticator's: no
// residentKey, which the contract's AuthenticatorSelection allows only as "required".
var mfaCreationOptions = strings.Replace(creationOptions, `"residentKey":"required",`, "", 1)

// challengeBodies are the 202 bodies of each type, by the contract's table.
var challengeBodies = map[string]string{
	"passkey":           `{"auth_session":"c2Vzc2lvbg","authn_params_public_key":` + creationOptions + `}`,
	"webauthn-platform": `{"id":"webauthn-platform|dev_Q3kR8sLm2PzX7vNc","auth_session":"c2Vzc2lvbg","authn_params_public_key":` + mfaCreationOptions + `}`,
	"webauthn-roaming":  `{"id":"webauthn-roaming|dev_Q3kR8sLm2PzX7vNc","auth_session":"c2Vzc2lvbg","authn_params_public_key":` + mfaCreationOptions + `}`,
	"totp": `{"id":"totp|dev_Q3kR8sLm2PzX7vNc","auth_session":"c2Vzc2lvbg",
		"barcode_uri":"otpauth://totp/Example:someone?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA1&digits=6&period=30",
		"manual_input_code":"JBSWY3DPEHPK3PXP"}`,
	"push-notification": `{"id":"push-notification|dev_Q3kR8sLm2PzX7vNc","auth_session":"c2Vzc2lvbg","barcode_uri":"https://push.example.test/enroll/abc","manual_input_code":"ABC"}`,
	"recovery-code":     `{"id":"recovery-code|dev_Q3kR8sLm2PzX7vNc","auth_session":"c2Vzc2lvbg","recovery_code":"ABCDEFGHJKLMNPQRSTUVWXYZ"}`,
	"email":             `{"id":"email|dev_Q3kR8sLm2PzX7vNc","auth_session":"c2Vzc2lvbg"}`,
	"phone":             `{"id":"phone|dev_Q3kR8sLm2PzX7vNc","auth_session":"c2Vzc2lvbg"}`,
	"password": `{"id":"password|dev_Q3kR8sLm2PzX7vNc","auth_session":"c2Vzc2lvbg","policy":{
		"complexity":{"min_length":12,"character_types":["lower","upper","number"],"character_type_rule":"all","identical_characters":"block","sequential_characters":"block","max_length_exceeded":"error"},
		"profile_data":{"active":true,"blocked_fields":["email"]},"history":{"active":true,"size":5},"dictionary":{"active":true,"default":"en_10k"}}}`,
}

func challengeSample(typ string) sample {
	id := typ + "%7Cdev_Q3kR8sLm2PzX7vNc"
	if typ == "passkey" {
		id = "passkey%7Cnew"
	}
	return sample{method: "POST", path: "/me/v1/authentication-methods", status: 202, location: base + id, body: challengeBodies[typ]}
}

func listSample() sample {
	items := make([]string, len(methodTypes))
	for i, typ := range methodTypes {
		items[i] = methodBody(typ)
	}
	return sample{method: "GET", path: "/me/v1/authentication-methods", status: 200,
		body: `{"authentication_methods":[` + strings.Join(items, ",") + `]}`}
}

var (
	factorsSample = sample{method: "GET", path: "/me/v1/factors", status: 200,
		body: `{"factors":[{"type":"passkey","usage":["primary"]},{"type":"totp","usage":["secondary"]}]}`}
	errorSample = sample{method: "POST", path: "/me/v1/authentication-methods", status: 400,
		body: `{"type":"https://auth0.com/api-errors/A0E-400-0003","status":400,"title":"Bad Request","detail":"The request body is invalid.",
		"validation_errors":[{"detail":"must be a string","field":"type","pointer":"/type","source":"body"}]}`}
)

func (s sample) check(d Decoders, contentType string) error {
	h := http.Header{}
	if s.location != "" {
		h.Set("Location", s.location)
	}
	h.Set("Content-Type", contentType)
	return d.Check(s.method, s.path, s.status, h, []byte(s.body))
}

// allSamples are good responses of every object the table knows.
func allSamples() map[string]sample {
	out := map[string]sample{"list": listSample(), "factors": factorsSample, "error": errorSample}
	for _, typ := range methodTypes {
		out["method "+typ] = sample{method: "GET", path: "/me/v1/authentication-methods/" + typ + "%7Cdev_Q3kR8sLm2PzX7vNc", status: 200, body: methodBody(typ)}
		out["verify "+typ] = sample{method: "POST", path: "/me/authentication-methods/" + typ + "%7Cdev_Q3kR8sLm2PzX7vNc/verify", status: 201, body: methodBody(typ)}
		out["challenge "+typ] = challengeSample(typ)
	}
	return out
}

func TestDecodersAcceptWhatEverySDKDecodes(t *testing.T) {
	for name, s := range allSamples() {
		if err := s.check(Decoders{}, "application/json"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	noContent := sample{method: "DELETE", path: "/me/v1/authentication-methods/totp%7Cdev_x", status: 204}
	if err := noContent.check(Decoders{}, ""); err != nil {
		t.Errorf("204: %v", err)
	}
}

// whereObjects says, for each object the table names, a good sample and the JSON
// pointer of one such object in its body.
var whereObjects = map[string]struct{ sample, pointer string }{
	"list":                            {"list", ""},
	"method":                          {"method totp", ""},
	"factors":                         {"factors", ""},
	"factor":                          {"factors", "/factors/0"},
	"challenge":                       {"challenge totp", ""},
	"creation options":                {"challenge passkey", "/authn_params_public_key"},
	"rp":                              {"challenge passkey", "/authn_params_public_key/rp"},
	"user":                            {"challenge passkey", "/authn_params_public_key/user"},
	"authenticator selection":         {"challenge passkey", "/authn_params_public_key/authenticatorSelection"},
	"passkey creation options":        {"challenge passkey", "/authn_params_public_key"},
	"passkey authenticator selection": {"challenge passkey", "/authn_params_public_key/authenticatorSelection"},
	"credential parameter":            {"challenge passkey", "/authn_params_public_key/pubKeyCredParams/1"},
	"password policy":                 {"challenge password", "/policy"},
	"password complexity":             {"challenge password", "/policy/complexity"},
	"password profile data":           {"challenge password", "/policy/profile_data"},
	"password history":                {"challenge password", "/policy/history"},
	"password dictionary":             {"challenge password", "/policy/dictionary"},
	"error":                           {"error", ""},
	"validation error":                {"error", "/validation_errors/0"},
}

func locate(t *testing.T, object string) (sample, string) {
	t.Helper()
	samples := allSamples()
	if w, ok := whereObjects[object]; ok {
		return samples[w.sample], w.pointer
	}
	if strings.HasPrefix(object, "method ") {
		return samples["verify "+strings.TrimPrefix(object, "method ")], ""
	}
	s, ok := samples[object]
	if !ok {
		t.Fatalf("no sample holds the object %q", object)
	}
	return s, ""
}

// badValue is a value of another JSON type than k, or a string that fails f.
func badValue(k kind, f *format) any {
	switch {
	case f != nil:
		switch f {
		case dateTime:
			return "2025-02-30T10:30:00.000Z"
		case dateTimeWithFraction:
			return "2025-01-15T10:30:00Z"
		case base64Std:
			return "cHVibGljLWtleS1ieXRlcw" // base64url without padding
		case base64URL:
			return "Y2hhbGxlbmdl!"
		}
		return "platform" // not one of the listed values
	case k == str:
		return 42
	case k == strs:
		return []any{"ok", 7}
	case k == integer:
		return 1.5
	}
	return "a string"
}

// mutate replaces the object at ptr in the body with edit's result.
func mutate(t *testing.T, body, ptr string, edit func(obj map[string]any)) string {
	t.Helper()
	var doc any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	cur := doc
	for _, tok := range strings.Split(ptr, "/")[1:] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i := 0
			for _, d := range tok {
				i = i*10 + int(d-'0')
			}
			cur = c[i]
		}
	}
	edit(cur.(map[string]any))
	out, _ := json.Marshal(doc)
	return string(out)
}

// TestEachDecoderRuleFails breaks each row of the table in a good sample, the way
// the row forbids, and requires the check to fail citing that row's SDK file.
func TestEachDecoderRuleFails(t *testing.T) {
	for _, r := range decoderRules {
		s, ptr := locate(t, r.object)
		var bads []sample
		switch {
		case r.whole != nil:
			bad := s
			bad.body = mutate(t, s.body, ptr, func(obj map[string]any) {
				if _, ok := obj["barcode_uri"]; ok || strings.Contains(r.object, "email") || strings.Contains(r.object, "phone") {
					obj["recovery_code"] = "ABCDEFGHJKLMNPQRSTUVWXYZ"
					delete(obj, "barcode_uri")
				} else {
					obj["barcode_uri"] = "otpauth://totp/x"
				}
			})
			bads = append(bads, bad)
		default:
			if r.required {
				bad := s
				bad.body = mutate(t, s.body, ptr, func(obj map[string]any) { delete(obj, r.key) })
				bads = append(bads, bad)
				bad.body = mutate(t, s.body, ptr, func(obj map[string]any) { obj[r.key] = nil })
				bads = append(bads, bad)
			}
			bad := s
			bad.body = mutate(t, s.body, ptr, func(obj map[string]any) { obj[r.key] = badValue(r.kind, nil) })
			bads = append(bads, bad)
			if r.format != nil {
				bad.body = mutate(t, s.body, ptr, func(obj map[string]any) { obj[r.key] = badValue(r.kind, r.format) })
				bads = append(bads, bad)
			}
		}
		for _, bad := range bads {
			err := bad.check(Decoders{}, "application/json")
			if err == nil || !strings.Contains(err.Error(), "("+r.object+": "+r.sdk+")") {
				t.Errorf("%s %q (%s) broken: got %v\n%s", r.object, r.key, r.sdk, err, bad.body)
			}
		}
	}
}

func TestDecoderResponseRulesFail(t *testing.T) {
	totp := challengeSample("totp")
	cases := map[string]struct {
		s           sample
		contentType string
		want        string
	}{
		"202 without a body":           {sample{method: "POST", path: totp.path, status: 202, location: totp.location}, "", "the body is empty"},
		"202 without Location":         {sample{method: "POST", path: totp.path, status: 202, body: totp.body}, "application/json", "no Location header"},
		"relative Location":            {sample{method: "POST", path: totp.path, status: 202, location: "/me/v1/authentication-methods/totp%7Cdev_Q3kR8sLm2PzX7vNc", body: totp.body}, "application/json", "not an absolute URL"},
		"Location id of no type":       {sample{method: "POST", path: totp.path, status: 202, location: base + "sms%7Cdev_Q3kR8sLm2PzX7vNc", body: totp.body}, "application/json", "is not of a method type"},
		"Location id unlike the body":  {sample{method: "POST", path: totp.path, status: 202, location: base + "totp%7Cdev_OTHER", body: totp.body}, "application/json", "is not Location's"},
		"plus sign in the Location id": {sample{method: "POST", path: totp.path, status: 202, location: base + "totp%7Cdev_a+b", body: strings.Replace(totp.body, "dev_Q3kR8sLm2PzX7vNc", "dev_a+b", 1)}, "application/json", "as a form value"},
		"bad percent-encoding":         {sample{method: "POST", path: totp.path, status: 202, location: base + "totp%7", body: totp.body}, "application/json", "does not parse"},
		"error as problem+json":        {errorSample, "application/problem+json", "does not contain application/json"},
		"error as text":                {errorSample, "text/plain", "does not contain application/json"},
		"error body not JSON":          {sample{method: "GET", path: "/me/v1/factors", status: 500, body: "oops"}, "application/json", "body:"},
		"list of one unknown type":     {sample{method: "GET", path: "/me/v1/authentication-methods", status: 200, body: `{"authentication_methods":[` + strings.Replace(methodBody("totp"), `"type":"totp"`, `"type":"sms"`, 1) + `]}`}, "application/json", `"sms" is not one of password`},
		"bare array as the list":       {sample{method: "GET", path: "/me/v1/authentication-methods", status: 200, body: `[` + methodBody("totp") + `]`}, "application/json", "want the object list"},
	}
	for name, c := range cases {
		err := c.s.check(Decoders{}, c.contentType)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.want)
		}
	}
	if err := errorSample.check(Decoders{ProblemJSON: true}, "application/problem+json"); err != nil {
		t.Errorf("problem+json chosen by the deployment: %v", err)
	}
}
