package oascheck

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// EnvSpecPath names the environment variable that, when set, gives the path of the
// contract file and disables the search of [Locate].
const EnvSpecPath = "MYACCOUNT_OAS"

// specRelPath is where the contract file lives relative to the repository root: the
// shared/ directory is a sibling of the root.
var specRelPath = filepath.Join("..", "shared", "spec", "auth0-myaccount-oas.json")

// Spec is a loaded OpenAPI 3.1 document. It is safe for concurrent use.
type Spec struct {
	doc   map[string]any
	paths []*pathTemplate

	// patterns caches compiled "pattern" keywords: pattern string -> *compiledPattern.
	patterns sync.Map
}

type compiledPattern struct {
	re  *regexp.Regexp
	err error
}

// Load reads an OpenAPI 3.1 document. A missing file gives an error wrapping
// fs.ErrNotExist.
func Load(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("oascheck: read contract: %w", err)
	}
	s, err := newSpec(data)
	if err != nil {
		return nil, fmt.Errorf("oascheck: %s: %w", path, err)
	}
	return s, nil
}

// newSpec builds a Spec from the bytes of an OpenAPI 3.1 document.
func newSpec(data []byte) (*Spec, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parse document: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("document is not a JSON object")
	}
	version, _ := doc["openapi"].(string)
	if !strings.HasPrefix(version, "3.1.") {
		return nil, fmt.Errorf("openapi version %q is not 3.1.x (this checker implements the JSON Schema dialect of OpenAPI 3.1)", version)
	}
	s := &Spec{doc: doc}
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		return nil, errors.New(`document has no "paths" object`)
	}
	for tmpl, item := range paths {
		pt, err := compilePathTemplate(tmpl)
		if err != nil {
			return nil, err
		}
		obj, loc, err := s.deref(item, "#/paths/"+escapePointerToken(tmpl))
		if err != nil {
			return nil, err
		}
		m, ok := obj.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: path item is not an object", loc)
		}
		pt.item, pt.loc = m, loc
		s.paths = append(s.paths, pt)
	}
	// Most specific first: more literal segments win over templated ones (OpenAPI
	// "Path Templating Matching"); ties are broken by name for determinism.
	slices.SortFunc(s.paths, func(a, b *pathTemplate) int {
		if a.literals != b.literals {
			return b.literals - a.literals
		}
		return strings.Compare(a.template, b.template)
	})
	return s, nil
}

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

// cache maps a contract path to its *cacheEntry, so each test binary parses the file
// once however many tests ask for it, concurrently or not.
var cache sync.Map

// ForTest loads the contract for a test. When the file is absent it skips the test with
// a message saying where it looked, unless the environment has CI=true, where absence
// fails the test. Any other problem (an unreadable or malformed file) fails the test.
// The parsed document is cached for the life of the test binary.
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
	e.once.Do(func() { e.spec, e.err = Load(path) })
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

// resolvePointer returns the value a local reference ("#/a/b~1c") designates.
func (s *Spec) resolvePointer(ref string) (any, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not a local reference (only \"#...\" references are supported)", ref)
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil, fmt.Errorf("$ref %q: bad percent-encoding: %v", ref, err)
	}
	if frag == "" {
		return map[string]any(s.doc), nil
	}
	if frag[0] != '/' {
		return nil, fmt.Errorf("$ref %q: fragment is not a JSON pointer (anchors are not supported)", ref)
	}
	var cur any = s.doc
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("$ref %q: no member %q", ref, tok)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) || (len(tok) > 1 && tok[0] == '0') {
				return nil, fmt.Errorf("$ref %q: no element %q", ref, tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("$ref %q: cannot descend into a scalar at %q", ref, tok)
		}
	}
	return cur, nil
}

// deref follows OpenAPI Reference Objects ({"$ref": ...}) until it reaches a
// non-reference value, returning it with its location.
func (s *Spec) deref(v any, loc string) (any, string, error) {
	seen := map[string]bool{}
	for {
		m, ok := v.(map[string]any)
		if !ok {
			return v, loc, nil
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v, loc, nil
		}
		if seen[ref] {
			return nil, loc, fmt.Errorf("%s: $ref cycle through %q", loc, ref)
		}
		seen[ref] = true
		target, err := s.resolvePointer(ref)
		if err != nil {
			return nil, loc, fmt.Errorf("%s: %w", loc, err)
		}
		v, loc = target, ref
	}
}

// escapePointerToken escapes one JSON pointer reference token (RFC 6901).
func escapePointerToken(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// pattern returns the compiled form of a "pattern" keyword, compiling it once.
func (s *Spec) pattern(p string) (*regexp.Regexp, error) {
	if v, ok := s.patterns.Load(p); ok {
		c := v.(*compiledPattern)
		return c.re, c.err
	}
	re, err := regexp.Compile(translateECMARegexp(p))
	if err != nil {
		err = fmt.Errorf("pattern %q cannot be compiled by Go's regexp (RE2): %v", p, err)
	}
	v, _ := s.patterns.LoadOrStore(p, &compiledPattern{re: re, err: err})
	c := v.(*compiledPattern)
	return c.re, c.err
}

// translateECMARegexp rewrites the ECMA-262 escape \uXXXX, which RE2 does not know,
// into RE2's \x{XXXX}. Everything else is passed through unchanged; constructs RE2
// lacks (look-around, back-references) then fail to compile and are reported.
func translateECMARegexp(p string) string {
	if !strings.Contains(p, `\u`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '\\' || i+1 >= len(p) {
			b.WriteByte(p[i])
			continue
		}
		if p[i+1] == 'u' && i+6 <= len(p) && isHex4(p[i+2:i+6]) {
			b.WriteString(`\x{` + p[i+2:i+6] + `}`)
			i += 5
			continue
		}
		b.WriteString(p[i : i+2]) // keep any other escape pair intact (e.g. \\u)
		i++
	}
	return b.String()
}

func isHex4(s string) bool {
	return len(s) == 4 && isHex(s[0]) && isHex(s[1]) && isHex(s[2]) && isHex(s[3])
}
