package myaccount_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount/myaccounttest"
)

// TestRenameRejectsDisguisedNames is issue 11's defect 4: names that can pass
// for another name, that are blank to the eye, or whose bytes were not text
// were accepted (the last two silently turned into U+FFFD). Each gets a 400
// pointing at /name that says what is wrong, and leaves the method unchanged.
func TestRenameRejectsDisguisedNames(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	id := h.enroll(alice, myaccounttest.NewAuthenticator())["id"].(string)
	path := "/me/v1/authentication-methods/" + id
	for _, c := range []struct {
		name, body, detail string
	}{
		{"right-to-left override", `{"name":"Laptop \u202egpj.exe"}`, "bidirectional"},
		{"raw right-to-left override", "{\"name\":\"Laptop \u202egpj.exe\"}", "bidirectional"},
		{"right-to-left isolate", `{"name":"a\u2067b"}`, "bidirectional"},
		{"left-to-right mark", `{"name":"a\u200eb"}`, "bidirectional"},
		{"line separator", `{"name":"Work\u2028laptop"}`, "line or paragraph"},
		{"paragraph separator", `{"name":"Work\u2029laptop"}`, "line or paragraph"},
		{"zero-width space only", `{"name":"\u200b\u200b"}`, "format"},
		{"zero-width joiners and spaces", `{"name":" \u200d \u200c "}`, "format"},
		{"BOM alone", `{"name":"\ufeff"}`, "format"},
		{"zero-width space inside", `{"name":"Work\u200blaptop"}`, "format"},
		{"emoji joined by a zero-width joiner", `{"name":"👩\u200d💻 laptop"}`, "format"},
		{"tag characters", `{"name":"\ud83c\udff4\udb40\udc67 flag"}`, "format"},
		{"Hangul filler", `{"name":"\u3164"}`, "blank"},
		{"invalid UTF-8", "{\"name\":\"caf\xe9\"}", "UTF-8"},
		{"lone high surrogate", `{"name":"key \ud83d"}`, "surrogate"},
		{"lone low surrogate", `{"name":"key \ude00 x"}`, "surrogate"},
		{"high surrogate then a letter escape", `{"name":"\ud83d\u0041"}`, "surrogate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := wantError(t, h.do("PATCH", path, alice, c.body), http.StatusBadRequest, "A0E-400-0003")
			errs, _ := body["validation_errors"].([]any)
			if len(errs) != 1 {
				t.Fatalf("validation_errors %v", body["validation_errors"])
			}
			e := errs[0].(map[string]any)
			if e["pointer"] != "/name" || !strings.Contains(e["detail"].(string), c.detail) {
				t.Errorf("validation error %v, want pointer /name and a detail about %q", e, c.detail)
			}
		})
	}
	if m := h.do("GET", path, alice, nil).json(t); m["name"] != nil {
		t.Errorf("a rejected name was stored: %v", m["name"])
	}

	// What people really name their keys still goes through, byte for byte.
	for _, name := range []string{
		"Work laptop", "YubiKey 5C NFC", "👩 💻 laptop", "🏳️", "محمد's phone", "Ключ №2",
		"家のパソコン", "key \\ \"quoted\"", "\U0001F511", "é", strings.Repeat("ß", 100),
	} {
		r := h.do("PATCH", path, alice, map[string]any{"name": name})
		wantStatus(t, r, http.StatusOK)
		if got := r.json(t)["name"]; got != name {
			t.Errorf("name %q came back as %q", name, got)
		}
	}
	// A surrogate pair escape is a character like any other.
	r := h.do("PATCH", path, alice, `{"name":"key \ud83d\udd11"}`)
	wantStatus(t, r, http.StatusOK)
	if got := r.json(t)["name"]; got != "key \U0001F511" {
		t.Errorf("surrogate pair decoded as %q", got)
	}
}
