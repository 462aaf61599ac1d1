package oascheck

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// EnvSpecPath names the environment variable that, when set, gives the path of the
// contract file and disables the search of [Locate].
const EnvSpecPath = "MYACCOUNT_OAS"

// specRelPath is where the contract file lives relative to the repository root: the
// shared/ directory is a sibling of the root.
var specRelPath = filepath.Join("..", "shared", "spec", "auth0-myaccount-oas.json")

// Locate finds the contract file: $MYACCOUNT_OAS if set, else it walks up from the
// working directory looking for "../shared/spec/auth0-myaccount-oas.json" relative to
// each ancestor (the working directory included). It returns the path or an error
// wrapping fs.ErrNotExist.
func Locate() (string, error) {
	if p := os.Getenv(EnvSpecPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("oascheck: $%s=%q: %w", EnvSpecPath, p, err)
		}
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("oascheck: working directory: %w", err)
	}
	for dir := wd; ; {
		candidate := filepath.Join(dir, specRelPath)
		if fi, err := os.Stat(candidate); err == nil && fi.Mode().IsRegular() {
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("oascheck: contract file %s not found relative to %s or any ancestor, and $%s is not set: %w",
		specRelPath, wd, EnvSpecPath, fs.ErrNotExist)
}

type cacheEntry struct {
	once sync.Once
	spec *Spec
	err  error
}

// cache maps a contract path to its *cacheEntry, so each test binary starts one
// validator for the file however many tests ask for it, concurrently or not.
var cache sync.Map

// ForTest loads the contract for a test. When the file is absent it skips the test with
// a message saying where it looked, unless the environment has CI=true, where absence
// fails the test. Any other problem (an unreadable or malformed file, a validator that
// cannot start) fails the test. The validator process is shared by every test of the
// binary that asks for the same file.
func ForTest(tb testing.TB) *Spec {
	tb.Helper()
	path, err := Locate()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !inCI() {
			tb.Skipf("skipping contract check: %v (set $%s to the file to run it)", err, EnvSpecPath)
		}
		tb.Fatalf("contract check: %v", err)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	v, _ := cache.LoadOrStore(path, &cacheEntry{})
	e := v.(*cacheEntry)
	e.once.Do(func() { e.spec, e.err = start(path) })
	if e.err != nil {
		if errors.Is(e.err, fs.ErrNotExist) && !inCI() {
			tb.Skipf("skipping contract check: %v", e.err)
		}
		tb.Fatalf("contract check: %v", e.err)
	}
	return e.spec
}

func inCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}
