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

// pathsDoc is a small hand-written OpenAPI 3.1 document.
const pathsDoc = `{
  "openapi": "3.1.0",
  "info": {"title": "paths", "version": "0"},
  "paths": {
    "/items/{id}": {"get": {"responses": {
      "200": {"description": "one",
        "headers": {"x-left": {"$ref": "#/components/headers/Left"}},
        "content": {"application/json": {"schema": {"type": "object", "required": ["id"],
          "properties": {"id": {"type": "string", "pattern": "^[a-z]*$"}}}}}},
      "204": {"description": "none"},
      "4XX": {"$ref": "#/components/responses/Err"}
    }}},
    "/items/new": {"get": {"responses": {"201": {"description": "literal wins"}}}}
  },
  "components": {
    "headers": {"Left": {"required": true, "schema": {"type": "number"}}},
    "responses": {"Err": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Err"}}}}},
    "schemas": {"Err": {"type": "object", "required": ["status"]}}
  }
}`

func loadDoc(t *testing.T, doc string) *Spec {
	t.Helper()
	file := filepath.Join(t.TempDir(), "contract.json")
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// Each way a response can break its operation's description is caught, with the
// location that requires it; a response that follows it passes.
func TestValidateResponse(t *testing.T) {
	s := loadDoc(t, pathsDoc)
	ok := header("Content-Type", "application/json", "X-Left", "7")
	if err := s.ValidateResponse("GET", "/me/v1/items/a", 200, ok, []byte(`{"id":"a"}`)); err != nil {
		t.Errorf("a valid response: %v", err)
	}
	if err := s.ValidateResponse("GET", "/me/items/a%7Cb", 200, ok, []byte(`{"id":"a"}`)); err != nil {
		t.Errorf("under /me, an escaped id: %v", err)
	}
	problem := header("Content-Type", "application/problem+json")
	if err := s.ValidateResponse("GET", "/me/v1/items/a", 404, problem, []byte(`{"status":404}`)); err != nil {
		t.Errorf("a problem+json error through a range and a $ref: %v", err)
	}
	for name, c := range map[string]struct {
		path   string
		status int
		header http.Header
		body   string
		want   string
	}{
		"a required member missing":   {"/me/v1/items/a", 200, ok, `{}`, "missing property 'id'"},
		"a pattern broken":            {"/me/v1/items/a", 200, ok, `{"id":"A"}`, "does not match pattern"},
		"not one JSON value":          {"/me/v1/items/a", 200, ok, `{"id":"a"} {}`, "not one JSON value"},
		"a required header missing":   {"/me/v1/items/a", 200, header("Content-Type", "application/json"), `{"id":"a"}`, "header x-left: missing"},
		"a numeric header not number": {"/me/v1/items/a", 200, header("Content-Type", "application/json", "X-Left", "soon"), `{"id":"a"}`, "header x-left"},
		"an undeclared media type":    {"/me/v1/items/a", 200, header("Content-Type", "text/plain", "X-Left", "1"), `{"id":"a"}`, "is not one"},
		"a body where none declared":  {"/me/v1/items/a", 204, nil, `{}`, "declares no content"},
		"an undocumented status":      {"/me/v1/items/a", 500, nil, ``, "status 500 is not documented"},
		"an unknown path":             {"/me/v1/things", 200, nil, ``, "the contract has no GET /me/v1/things"},
		"an error body in a $ref":     {"/me/v1/items/a", 400, header("Content-Type", "application/json"), `{}`, "#/components/responses/Err"},
	} {
		err := s.ValidateResponse("GET", c.path, c.status, c.header, []byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", name, err, c.want)
		}
	}
	if err := s.ValidateResponse("GET", "/me/v1/items/new", 201, nil, nil); err != nil {
		t.Errorf("the literal path wins over the template: %v", err)
	}
	if !s.Documents("GET", "/me/items/a", 200) || !s.Documents("GET", "/me/items/a", 418) || s.Documents("GET", "/me/items/a", 500) {
		t.Error("Documents is wrong")
	}
	if err := s.ValidateSchema("#/components/schemas/Err", []byte(`{"status":"400"}`)); err != nil {
		t.Error(err)
	}
	if err := s.ValidateSchema("#/components/schemas/Err", []byte(`{}`)); err == nil {
		t.Error("ValidateSchema accepted a document without its required member")
	}
}

func TestLoadRefusesOtherDocuments(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "absent.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an absent file: %v", err)
	}
	for _, doc := range []string{`not json`, `{"openapi":"3.0.3","paths":{}}`} {
		file := filepath.Join(t.TempDir(), "contract.json")
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(file); err == nil {
			t.Errorf("Load accepted %s", doc)
		}
	}
}

// An enrollment's 202 is held to its own type's branch of the contract's union,
// not only to the union, whose plain {id, auth_session} branch accepts almost
// anything: a security key's options with authenticatorAttachment and
// residentKey "discouraged" pass the union but not WebAuthnCreationResponse.
func TestEnrollmentReplyHeldToItsBranch(t *testing.T) {
	s := ForTest(t)
	if s == nil {
		_, err := Locate()
		t.Skipf("skipping contract check: %v", err)
	}
	h := header("Content-Type", "application/json", "Location", "https://example.com/me/v1/authentication-methods/webauthn-roaming%7Cdev_a",
		"X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "9", "X-RateLimit-Reset", "1700000000")
	options := func(selection string) []byte {
		return []byte(`{"id":"webauthn-roaming|dev_a","auth_session":"s","authn_params_public_key":{"challenge":"c",` +
			`"rp":{"id":"example.com","name":"Example"},"user":{"id":"dQ","name":"u","displayName":"U"},` +
			`"pubKeyCredParams":[{"type":"public-key","alg":-7}],"authenticatorSelection":` + selection + `,"timeout":300000}}`)
	}
	if err := s.ValidateResponse("POST", "/me/v1/authentication-methods", 202, h, options(`{"userVerification":"preferred"}`)); err != nil {
		t.Errorf("options as the contract has them: %v", err)
	}
	bad := options(`{"authenticatorAttachment":"cross-platform","residentKey":"discouraged","userVerification":"preferred"}`)
	if err := s.ValidateSchema(enrollmentUnion, bad); err != nil {
		t.Fatalf("the union itself should accept the body through its plainer branch: %v", err)
	}
	err := s.ValidateResponse("POST", "/me/v1/authentication-methods", 202, h, bad)
	if err == nil || !strings.Contains(err.Error(), "WebAuthnCreationResponse") {
		t.Errorf("authenticatorAttachment and residentKey discouraged: %v, want a failure against WebAuthnCreationResponse", err)
	}
	h.Set("Location", "https://example.com/me/v1/authentication-methods/fax%7Cdev_a")
	if err := s.ValidateResponse("POST", "/me/v1/authentication-methods", 202, h, []byte(`{"id":"fax|dev_a","auth_session":"s"}`)); err == nil {
		t.Error("a 202 of a type the union has no branch for passed")
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

// Without $MYACCOUNT_OAS the file is looked for in shared/spec beside the
// repository's root, wherever the test runs.
func TestLocateBesideTheRepository(t *testing.T) {
	t.Setenv(EnvSpecPath, "")
	want, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "spec", "auth0-myaccount-oas.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	got, err := Locate()
	if _, statErr := os.Stat(want); statErr != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Locate() without %s = %q, %v; want fs.ErrNotExist", want, got, err)
		}
		return
	}
	if got, _ = filepath.Abs(got); err != nil || got != want {
		t.Errorf("Locate() = %q, %v; want %q", got, err, want)
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

// Without the file a test runs on without the OpenAPI check; under CI=true it
// fails.
func TestAbsentFile(t *testing.T) {
	t.Setenv(EnvSpecPath, filepath.Join(t.TempDir(), "absent.json"))
	t.Setenv("CI", "")
	f := &fakeTB{}
	if s := runForTest(f); s != nil || f.skipped != "" || f.failed != "" {
		t.Errorf("outside CI: spec=%v skipped=%q failed=%q; want nil, neither skip nor failure", s, f.skipped, f.failed)
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
				_ = specs[i].ValidateSchema("#/components/schemas/Err", []byte(`{}`))
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
