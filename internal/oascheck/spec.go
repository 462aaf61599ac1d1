package oascheck

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// EnvSpecPath names the environment variable that, when set, gives the path of the
// contract file instead of the one [Locate] looks for.
const EnvSpecPath = "MYACCOUNT_OAS"

// Locate finds the contract file: $MYACCOUNT_OAS if set, else
// shared/spec/auth0-myaccount-oas.json in the directory beside the repository's
// root. It returns the path or an error wrapping fs.ErrNotExist.
func Locate() (string, error) {
	path := os.Getenv(EnvSpecPath)
	if path == "" {
		_, file, _, _ := runtime.Caller(0) // this file, internal/oascheck/spec.go
		path = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "spec", "auth0-myaccount-oas.json")
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("oascheck: contract file (set $%s to give another): %w", EnvSpecPath, err)
	}
	return path, nil
}

// cache maps a contract path to the function that loads it once: a test binary
// reads the file once however many tests ask for it, concurrently or not.
var cache sync.Map

// ForTest loads the contract for a test. When the file is absent it returns nil:
// a behaviour test then runs without the OpenAPI check, and a test about the
// contract itself skips; under CI=true absence fails the test instead. Any other
// problem (an unreadable or malformed file) fails the test.
func ForTest(tb testing.TB) *Spec {
	tb.Helper()
	path, err := Locate()
	var spec *Spec
	if err == nil {
		v, _ := cache.LoadOrStore(path, sync.OnceValues(func() (*Spec, error) { return Load(path) }))
		spec, err = v.(func() (*Spec, error))()
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); err != nil && (ci || !errors.Is(err, fs.ErrNotExist)) {
		tb.Fatalf("contract check: %v", err)
	}
	return spec
}
