package myaccount

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

// methodJSON is the wire form of a method as encoding/json writes it: what
// appendMethod must write, byte for byte.
type methodJSON struct {
	ID                   string   `json:"id"`
	Type                 string   `json:"type"`
	Name                 string   `json:"name,omitempty"`
	CredentialDeviceType string   `json:"credential_device_type"`
	CredentialBackedUp   bool     `json:"credential_backed_up"`
	IdentityUserID       string   `json:"identity_user_id"`
	KeyID                string   `json:"key_id"`
	PublicKey            string   `json:"public_key"`
	UserHandle           string   `json:"user_handle"`
	AAGUID               string   `json:"aaguid"`
	RelyingPartyID       string   `json:"relying_party_id"`
	Transports           []string `json:"transports"`
	UserAgent            string   `json:"user_agent"`
	Usage                []string `json:"usage"`
	CreatedAt            string   `json:"created_at"`
}

func referenceJSON(m *Method) []byte {
	p := &m.WebAuthn
	deviceType := "single_device"
	if p.BackupEligible {
		deviceType = "multi_device"
	}
	transports := p.Transports
	if transports == nil {
		transports = []string{}
	}
	aaguid, _ := uuid.FromBytes(p.AAGUID)
	out, _ := json.Marshal(methodJSON{
		ID: m.ID, Type: m.Type, Name: m.Name, CredentialDeviceType: deviceType, CredentialBackedUp: p.BackedUp,
		IdentityUserID: m.IdentityUserID, KeyID: base64.RawURLEncoding.EncodeToString(p.CredentialID),
		PublicKey: base64.StdEncoding.EncodeToString(p.PublicKey), UserHandle: base64.RawURLEncoding.EncodeToString(p.UserHandle),
		AAGUID: aaguid.String(), RelyingPartyID: p.RelyingPartyID, Transports: transports, UserAgent: p.UserAgent,
		Usage: []string{"primary"}, CreatedAt: m.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
	})
	return out
}

func TestAppendMethodWritesWhatEncodingJSONWrites(t *testing.T) {
	strs := []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\r\x00\x1f\x7f",
		"caf\u00e9 \u2028 \u2029 \U0001F511", "invalid \xff\xfe utf-8", "passkey|dev_AbC123"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return strs[rng.IntN(len(strs))] }
	bytes := func(n int) []byte {
		b := make([]byte, rng.IntN(n+1))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for i := range 500 {
		m := &Method{
			ID: pick(), Type: typePasskey, Name: pick(), IdentityUserID: pick(),
			CreatedAt: time.Unix(rng.Int64N(1<<34), rng.Int64N(1e9)).In(time.FixedZone("x", 3600)),
			WebAuthn: WebAuthnCredential{
				CredentialID: bytes(64), PublicKey: bytes(100), AAGUID: bytes(17), UserHandle: bytes(40),
				BackupEligible: i%2 == 0, BackedUp: i%3 == 0, UserAgent: pick(), RelyingPartyID: pick(),
			},
		}
		if i%4 != 0 {
			m.WebAuthn.Transports = []string{pick(), pick()}[:rng.IntN(3)]
		}
		if i%5 == 0 {
			m.WebAuthn.AAGUID = bytes(0)[:0]
			m.WebAuthn.AAGUID = append(m.WebAuthn.AAGUID, make([]byte, 16)...)
			m.WebAuthn.AAGUID[3] = byte(i)
		}
		if got, want := appendMethod([]byte("prefix"), m), append([]byte("prefix"), referenceJSON(m)...); string(got) != string(want) {
			t.Fatalf("method %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// FuzzMembers checks that members splits any JSON object that readObject
// takes (valid JSON, an object) as json.Unmarshal into a map of raw messages
// does, and each of its object members too.
func FuzzMembers(f *testing.F) {
	for _, seed := range []string{`{}`, ` { "a" : 1 , "b":[1,{"c":"}"}],"a":true } `, `{"x":"\"\\","\u0079":null}`,
		`{"type":"passkey","n":-1.5e3,"o":{"p":[[]]},"s":"caf\u00e9 \ud800"}`, `{"k\u00e9y":"v","\ud800":"w","":""}`,
		"{\"\xff\":\"\xfe\"}", `{"authn_response":{"id":"x","response":{"clientDataJSON":"e30","t":[1,2]}},"auth_session":"s"}`,
		"\t{\r\n\"a\"\n:\t{ \"b\" : { } } }\n", `{"a":"x\\","b":"\\\"q\\\\\"","c":"\\\\\\\"}"}`} {
		f.Add(seed)
	}
	var check func(t *testing.T, data []byte)
	check = func(t *testing.T, data []byte) {
		var want map[string]json.RawMessage
		if json.Unmarshal(data, &want) != nil || want == nil {
			return
		}
		got, repeated := members(data)
		if repeated != "" {
			if _, ok := want[repeated]; !ok {
				t.Fatalf("members(%q) names %q as repeated, which is no member", data, repeated)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("members(%q)\n got %q\nwant %q", data, got, want)
		}
		for _, raw := range got {
			if kindOf(raw) == kindObject {
				check(t, raw)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data string) {
		if !json.Valid([]byte(data)) || data[skipSpace([]byte(data), 0)] != '{' {
			return // readObject refuses it before members
		}
		check(t, []byte(data))
	})
}

// FuzzUnquote checks that unquote decodes any JSON string member as
// json.Unmarshal does.
func FuzzUnquote(f *testing.F) {
	for _, seed := range []string{`{}`, ` { "a" : 1 , "b":[1,{"c":"}"}],"a":true } `, `{"x":"\"\\","\u0079":null}`,
		`{"type":"passkey","n":-1.5e3,"o":{"p":[[]]},"s":"caf\u00e9 \ud800"}`, `{"k\u00e9y":"v","\ud800":"w","":""}`,
		"{\"\xff\":\"\xfe\"}"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(data), &obj) != nil {
			return
		}
		for name, raw := range obj {
			var s string
			_ = json.Unmarshal(raw, &s)
			if u := unquote(raw); u != s {
				t.Fatalf("unquote(%s) = %q, want %q (member %q)", raw, u, s, name)
			}
		}
	})
}
