package myaccount

import (
	"encoding/json"
	"testing"
)

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
