package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Spec is a loaded OpenAPI 3.1 document. It is safe for concurrent use.
type Spec struct {
	doc   map[string]any
	paths []*pathTemplate

	// compiler compiles the document's schemas with a JSON Schema 2020-12 library;
	// schemas caches them by reference (string -> *compiledSchema).
	compiler *jsonschema.Compiler
	mu       sync.Mutex // guards compiler
	schemas  sync.Map
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
	compiler, err := newCompiler(doc)
	if err != nil {
		return nil, err
	}
	s := &Spec{doc: doc, compiler: compiler}
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
