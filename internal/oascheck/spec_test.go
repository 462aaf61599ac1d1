package oascheck

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// pathsDoc is a small hand-written OpenAPI 3.1 document exercising path matching,
// response selection, headers and content negotiation.
const pathsDoc = `{
  "openapi": "3.1.0",
  "info": {"title": "paths", "version": "0"},
  "paths": {
    "/items": {
      "get": {"responses": {
        "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array"}}}},
        "4XX": {"$ref": "#/components/responses/Err"}
      }},
      "post": {
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/New"}}}},
        "responses": {"201": {"description": "created", "headers": {"Location": {"$ref": "#/components/headers/Loc"}}}}
      }
    },
    "/items/special": {"get": {"responses": {"200": {"description": "literal", "content": {"text/plain": {}}}}}},
    "/items/{id}": {
      "get": {"responses": {
        "200": {"description": "one", "headers": {"x-count": {"required": true, "schema": {"type": "integer", "minimum": 0}}},
                "content": {"application/json": {"schema": {"type": "object", "required": ["id"]}}}},
        "default": {"$ref": "#/components/responses/Err"}
      }},
      "patch": {
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"name": {"type": "string"}}}}}},
        "responses": {"204": {"description": "no content"}}
      }
    },
    "/items/{id}/parts/{part}.json": {"get": {"responses": {"200": {"description": "any", "content": {"*/*": {}}}}}},
    "/items/{id}/verify": {"post": {"responses": {"204": {"description": "verified"}}}}
  },
  "components": {
    "headers": {"Loc": {"required": true, "schema": {"type": "string", "format": "uri"}}},
    "responses": {"Err": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Err"}}}}},
    "schemas": {
      "New": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
      "Err": {"type": "object", "required": ["status"], "properties": {"status": {"type": "integer"}}, "additionalProperties": false}
    }
  }
}`

func pathsSpec(t *testing.T) *Spec {
	t.Helper()
	s, err := newSpec([]byte(pathsDoc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

var jsonCT = hdr("Content-Type", "application/json")

func TestFindOperation(t *testing.T) {
	s := pathsSpec(t)
	for _, tc := range []struct {
		method, path string
		want         string // template, or "!" + error substring
	}{
		{"GET", "/me/v1/items", "/items"},
		{"get", "/me/items", "/items"},
		{"GET", "/me/v1/items?type=x", "/items"},
		{"GET", "/me/v1/items/special", "/items/special"},
		{"GET", "/me/v1/items/special2", "/items/{id}"},
		{"GET", "/me/v1/items/passkey%7Cdev_abc", "/items/{id}"},
		{"GET", "/me/v1/items/passkey|dev_abc", "/items/{id}"},
		{"POST", "/me/v1/items/passkey%7Cnew/verify", "/items/{id}/verify"},
		{"GET", "/me/v1/items/a/parts/b.json", "/items/{id}/parts/{part}.json"},
		{"GET", "/me/v1/items/a/parts/b.xml", "!no path of the contract matches"},
		{"GET", "/me/v1/items/", "!no path of the contract matches"},
		{"GET", "/me/v1/items/a%ZZ", "!no path of the contract matches"},
		{"GET", "/me/v1/items/a/b", "!no path of the contract matches"},
		{"GET", "/me/v1/nothing", `!no path of the contract matches "/nothing"`},
		{"GET", "/v1/items", "!does not start with /me/v1/ or /me/"},
		{"GET", "/meitems", "!does not start with"},
		{"DELETE", "/me/v1/items", "!the contract has no DELETE operation for path /items (it has GET, POST)"},
	} {
		op, err := s.findOperation(tc.method, tc.path)
		if want, isErr := strings.CutPrefix(tc.want, "!"); isErr {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s %s: err = %v, want %q", tc.method, tc.path, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tc.method, tc.path, err)
			continue
		}
		if op.template != tc.want {
			t.Errorf("%s %s matched %s, want %s", tc.method, tc.path, op.template, tc.want)
		}
	}
}

func TestValidateResponseInline(t *testing.T) {
	s := pathsSpec(t)
	for _, tc := range []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         string
		want         []string
	}{
		{"ok", "GET", "/me/v1/items", 200, jsonCT, `[]`, nil},
		{"content-type params and case", "GET", "/me/v1/items", 200, hdr("content-type", "Application/JSON; charset=utf-8"), `[]`, nil},
		{"problem+json for json", "GET", "/me/v1/items", 404, hdr("Content-Type", "application/problem+json"), `{"status":404}`, nil},
		{"range response 4XX", "GET", "/me/v1/items", 400, jsonCT, `{"status":400,"x":1}`, []string{"/x: property is not allowed", "#/components/schemas/Err/additionalProperties"}},
		{"default response", "GET", "/me/v1/items/a", 503, jsonCT, `{"status":503}`, nil},
		{"undocumented status", "GET", "/me/v1/items", 500, jsonCT, `{}`, []string{"status 500 is not documented for this operation (documented: 200, 4XX)"}},
		{"wrong media type", "GET", "/me/v1/items", 200, hdr("Content-Type", "text/html"), `[]`, []string{`header Content-Type: media type "text/html" is not one the response declares (application/json)`}},
		{"missing content-type", "GET", "/me/v1/items", 200, nil, `[]`, []string{"header Content-Type: missing"}},
		{"empty body where content declared", "GET", "/me/v1/items", 200, jsonCT, ``, []string{"body: not valid JSON: empty"}},
		{"invalid JSON", "GET", "/me/v1/items", 200, jsonCT, `[1,]`, []string{"body: not valid JSON"}},
		{"body schema", "GET", "/me/v1/items", 200, jsonCT, `{}`, []string{"(root): type is object, want array; schema #/paths/~1items/get/responses/200/content/application~1json/schema/type"}},
		{"non-JSON media type body not parsed", "GET", "/me/v1/items/special", 200, hdr("Content-Type", "text/plain"), `hello`, nil},
		{"wildcard media type", "GET", "/me/v1/items/a/parts/b.json", 200, hdr("Content-Type", "image/png"), "\x89PNG", nil},
		{"required header present", "GET", "/me/v1/items/a", 200, hdr("Content-Type", "application/json", "X-Count", "3"), `{"id":"a"}`, nil},
		{"required header case-insensitive raw key", "GET", "/me/v1/items/a", 200, http.Header{"x-count": {"3"}, "Content-Type": {"application/json"}}, `{"id":"a"}`, nil},
		{"required header missing", "GET", "/me/v1/items/a", 200, jsonCT, `{"id":"a"}`, []string{"header x-count: missing required header; header #/paths/~1items~1{id}/get/responses/200/headers/x-count"}},
		{"numeric header not a number", "GET", "/me/v1/items/a", 200, hdr("Content-Type", "application/json", "X-Count", "many"), `{"id":"a"}`, []string{`header x-count: value "many" is not a number`}},
		{"numeric header schema", "GET", "/me/v1/items/a", 200, hdr("Content-Type", "application/json", "X-Count", "-1"), `{"id":"a"}`, []string{"header x-count: value -1 is less than minimum 0"}},
		{"numeric header integer", "GET", "/me/v1/items/a", 200, hdr("Content-Type", "application/json", "X-Count", "1.5"), `{"id":"a"}`, []string{"header x-count: type is number, want integer"}},
		{"several problems listed", "GET", "/me/v1/items/a", 200, jsonCT, `{}`, []string{"2 problems:", "header x-count: missing required header", "/id: missing required property"}},
		{"201 with Location", "POST", "/me/v1/items", 201, hdr("Location", "https://a.example/me/v1/items/x%7Cy"), ``, nil},
		{"201 without Location", "POST", "/me/v1/items", 201, nil, ``, []string{"header Location: missing required header; header #/components/headers/Loc"}},
		{"Location not absolute", "POST", "/me/v1/items", 201, hdr("Location", "/me/v1/items/x"), ``, []string{"header Location: string \"/me/v1/items/x\" is not a valid absolute URI", "#/components/headers/Loc/schema/format"}},
		{"204 empty", "PATCH", "/me/v1/items/a", 204, nil, ``, nil},
		{"204 with body", "PATCH", "/me/v1/items/a", 204, jsonCT, `{}`, []string{"body: response declares no content, but the body has 2 bytes"}},
		{"unknown path", "GET", "/me/v1/other", 200, jsonCT, `[]`, []string{"no path of the contract matches"}},
		{"error names the request and template", "POST", "/me/v1/items/a%7Cb/verify", 204, nil, `x`, []string{"oascheck: POST /me/v1/items/a%7Cb/verify (POST /items/{id}/verify) -> 204: body: response declares no content"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ValidateResponse(tc.method, tc.path, tc.status, tc.header, []byte(tc.body))
			checkErr(t, err, tc.want)
		})
	}
}

func TestValidateRequestBodyInline(t *testing.T) {
	s := pathsSpec(t)
	for _, tc := range []struct {
		name, method, path, body string
		want                     []string
	}{
		{"ok", "POST", "/me/v1/items", `{"name":"n"}`, nil},
		{"schema", "POST", "/me/v1/items", `{}`, []string{"request body: /name: missing required property; schema #/components/schemas/New/required"}},
		{"required but empty", "POST", "/me/v1/items", ``, []string{"body is empty but required"}},
		{"optional and empty", "PATCH", "/me/v1/items/a", ``, nil},
		{"extra member", "PATCH", "/me/v1/items/a", `{"name":"n","x":1}`, []string{"/x: property is not allowed"}},
		{"no requestBody declared", "GET", "/me/v1/items", `{}`, []string{"declares no requestBody"}},
		{"no requestBody and no body", "GET", "/me/v1/items", ``, nil},
		{"invalid JSON", "POST", "/me/v1/items", `{"name":`, []string{"body: not valid JSON"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, s.ValidateRequestBody(tc.method, tc.path, []byte(tc.body)), tc.want)
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "absent.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(absent) = %v, want fs.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"openapi":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("Load(bad) = %v, want a parse error naming the file", err)
	}
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(pathsDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateResponse("GET", "/me/v1/items", 200, jsonCT, []byte(`[]`)); err != nil {
		t.Error(err)
	}
}

func TestLocateEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "contract.json")
	if err := os.WriteFile(file, []byte(pathsDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvSpecPath, file)
	if got, err := Locate(); err != nil || got != file {
		t.Errorf("Locate() = %q, %v; want %q", got, err, file)
	}
	t.Setenv(EnvSpecPath, filepath.Join(dir, "absent.json"))
	if _, err := Locate(); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), EnvSpecPath) {
		t.Errorf("Locate() with a missing $%s: %v, want fs.ErrNotExist naming the variable", EnvSpecPath, err)
	}
}

func TestLocateWalksUp(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "repo", "internal", "pkg", "sub")
	specDir := filepath.Join(root, "shared", "spec")
	for _, d := range []string{deep, specDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(EnvSpecPath, "")
	t.Chdir(deep)
	if _, err := Locate(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Locate() before the file exists = %v, want fs.ErrNotExist", err)
	}
	file := filepath.Join(specDir, "auth0-myaccount-oas.json")
	if err := os.WriteFile(file, []byte(pathsDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Locate()
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b string) bool {
		ia, err1 := os.Stat(a)
		ib, err2 := os.Stat(b)
		return err1 == nil && err2 == nil && os.SameFile(ia, ib)
	}
	if !same(got, file) {
		t.Errorf("Locate() = %q, want %q", got, file)
	}
	t.Chdir(filepath.Join(root, "repo"))
	if got, err := Locate(); err != nil || !same(got, file) {
		t.Errorf("from the repo root: Locate() = %q, %v", got, err)
	}
}

// fakeTB records Skip and Fatal calls; like testing.T it stops the goroutine there.
type fakeTB struct {
	testing.TB
	mu              sync.Mutex
	skipped, failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.mu.Lock()
	f.skipped = format
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.failed = format
	f.mu.Unlock()
	runtime.Goexit()
}

func runForTest(f *fakeTB) *Spec {
	var s *Spec
	done := make(chan struct{})
	go func() {
		defer close(done)
		s = ForTest(f)
	}()
	<-done
	return s
}

func TestForTestAbsentFile(t *testing.T) {
	t.Setenv(EnvSpecPath, filepath.Join(t.TempDir(), "absent.json"))

	t.Setenv("CI", "")
	f := &fakeTB{}
	if s := runForTest(f); s != nil || f.skipped == "" || f.failed != "" {
		t.Errorf("outside CI: spec=%v skipped=%q failed=%q; want a skip", s, f.skipped, f.failed)
	}

	t.Setenv("CI", "true")
	f = &fakeTB{}
	if s := runForTest(f); s != nil || f.failed == "" || f.skipped != "" {
		t.Errorf("CI=true: spec=%v skipped=%q failed=%q; want a failure", s, f.skipped, f.failed)
	}
}

func TestForTestBrokenFileFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "broken.json")
	if err := os.WriteFile(file, []byte(`not json`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvSpecPath, file)
	t.Setenv("CI", "")
	f := &fakeTB{}
	if s := runForTest(f); s != nil || f.failed == "" {
		t.Errorf("broken file: spec=%v skipped=%q failed=%q; want a failure even outside CI", s, f.skipped, f.failed)
	}
}

func TestForTestCachesConcurrently(t *testing.T) {
	file := filepath.Join(t.TempDir(), "contract.json")
	if err := os.WriteFile(file, []byte(pathsDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvSpecPath, file)
	const n = 16
	specs := make([]*Spec, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			f := &fakeTB{}
			specs[i] = runForTest(f)
			if specs[i] != nil {
				_ = specs[i].ValidateResponse("GET", "/me/v1/items/a", 200, jsonCT, []byte(`{"id":"a"}`))
			}
		})
	}
	wg.Wait()
	for i, s := range specs {
		if s == nil || s != specs[0] {
			t.Fatalf("ForTest call %d returned %p, want the cached %p", i, s, specs[0])
		}
	}
}
