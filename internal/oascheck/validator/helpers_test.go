package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var contract struct {
	once sync.Once
	spec *Spec
	err  error
}

// ForTest loads the contract file, found as package oascheck finds it ($MYACCOUNT_OAS,
// else ../shared/spec/auth0-myaccount-oas.json beside an ancestor of the working
// directory), once per test binary. It skips the test when the file is absent,
// unless CI=true.
func ForTest(t *testing.T) *Spec {
	t.Helper()
	contract.once.Do(func() {
		path := os.Getenv("MYACCOUNT_OAS")
		if path == "" {
			wd, _ := os.Getwd()
			for dir := wd; ; dir = filepath.Dir(dir) {
				candidate := filepath.Join(dir, "..", "shared", "spec", "auth0-myaccount-oas.json")
				if _, err := os.Stat(candidate); err == nil {
					path = candidate
					break
				}
				if filepath.Dir(dir) == dir {
					break
				}
			}
		}
		if path == "" {
			contract.err = fs.ErrNotExist
			return
		}
		contract.spec, contract.err = Load(path)
	})
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); errors.Is(contract.err, fs.ErrNotExist) && !ci {
		t.Skip("skipping contract check: ../shared/spec/auth0-myaccount-oas.json not found (set $MYACCOUNT_OAS to the file to run it)")
	}
	if contract.err != nil {
		t.Fatalf("contract: %v", contract.err)
	}
	return contract.spec
}

// The protocol package oascheck speaks: a first line on loading, then one answer
// per request line.
func TestServe(t *testing.T) {
	file := filepath.Join(t.TempDir(), "contract.json")
	if err := os.WriteFile(file, []byte(pathsDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	in := strings.Join([]string{
		`{"op":"response","method":"GET","path":"/me/v1/items","status":200,"header":{"Content-Type":["application/json"]},"body":"W10="}`,
		`{"op":"response","method":"GET","path":"/me/v1/items","status":200,"header":{"Content-Type":["application/json"]},"body":"e30="}`,
		`{"op":"documents","method":"GET","path":"/me/v1/items","status":404}`,
		`{"op":"documents","method":"POST","path":"/me/v1/items","status":404}`,
		`{"op":"schema","ref":"#/components/schemas/New","body":"eyJuYW1lIjoxfQ=="}`,
		`{"op":"request","method":"POST","path":"/me/v1/items","body":"eyJuYW1lIjoiYSJ9"}`,
		`{"op":"nonsense"}`,
	}, "\n")
	var out bytes.Buffer // answers are JSON, where ">" is "\u003e"
	if err := serve(file, strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{`{"ok":true}`, `{"ok":true}`, `{"ok":false,"error":"oascheck: GET /me/v1/items (GET /items) -\u003e 200: (root): got object, want array`,
		`{"ok":true}`, `{"ok":false}`, `{"ok":false,"error":"oascheck: /name: got number, want string`, `{"ok":true}`, `{"ok":false,"error":"unknown op \"nonsense\""}`}
	if len(lines) != len(want) {
		t.Fatalf("%d answers, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("answer %d = %s, want it to start with %s", i, lines[i], w)
		}
	}
	out.Reset()
	if err := serve(filepath.Join(t.TempDir(), "absent.json"), strings.NewReader(""), &out); err != nil || !strings.Contains(out.String(), `"error":"oascheck: read contract`) {
		t.Errorf("absent contract: %v, %s", err, out.String())
	}
}
