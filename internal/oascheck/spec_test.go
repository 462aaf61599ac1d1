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
      "200": {"description": "one", "content": {"application/json": {"schema": {"type": "object", "required": ["id"]}}}}
    }}}
  },
  "components": {"schemas": {"Err": {"type": "object", "required": ["status"]}}}
}`

var jsonCT = http.Header{"Content-Type": {"application/json"}}

// The validator answers every kind of request through the pipe.
func TestValidatorOverThePipe(t *testing.T) {
	file := filepath.Join(t.TempDir(), "contract.json")
	if err := os.WriteFile(file, []byte(pathsDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := start(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateResponse("GET", "/me/v1/items/a", 200, jsonCT, []byte(`{"id":"a"}`)); err != nil {
		t.Error(err)
	}
	if err := s.ValidateResponse("GET", "/me/v1/items/a", 200, jsonCT, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "missing property 'id'") {
		t.Errorf("a response without its required member: %v", err)
	}
	if !s.Documents("GET", "/me/items/a", 200) || s.Documents("GET", "/me/items/a", 404) {
		t.Error("Documents is wrong")
	}
	if err := s.ValidateSchema("#/components/schemas/Err", []byte(`{"status":"400"}`)); err != nil {
		t.Error(err)
	}
	if err := s.ValidateSchema("#/components/schemas/Err", []byte(`{}`)); err == nil {
		t.Error("ValidateSchema accepted a document without its required member")
	}
	if err := s.ValidateRequestBody("GET", "/me/v1/items/a", []byte(`{}`)); err == nil {
		t.Error("ValidateRequestBody accepted a body where none is declared")
	}
	if _, err := start(filepath.Join(t.TempDir(), "absent.json")); err == nil || !strings.Contains(err.Error(), "read contract") {
		t.Errorf("start with an absent file: %v", err)
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
