package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// docURL names the contract document inside the schema library. Every reference
// in the document is local ("#/..."); the library is given no way to load any other.
const docURL = "file:///contract.json"

// newCompiler prepares the JSON Schema 2020-12 library for the document: formats
// are asserted ("uri" by the stricter RFC 3986 check below), patterns are ECMA-262
// as far as Go's RE2 can express them, and no reference leaves the document.
func newCompiler(doc map[string]any) (*jsonschema.Compiler, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(localOnly{})
	c.UseRegexpEngine(compileECMARegexp)
	c.RegisterFormat(&jsonschema.Format{Name: "uri", Validate: func(v any) error {
		if s, ok := v.(string); ok && !isAbsoluteURI(s) {
			return errors.New("not a valid absolute URI (RFC 3986)")
		}
		return nil
	}})
	if err := c.AddResource(docURL, doc); err != nil {
		return nil, err
	}
	return c, nil
}

// localOnly refuses every document but the contract itself.
type localOnly struct{}

func (localOnly) Load(u string) (any, error) {
	return nil, fmt.Errorf("%s is not a local reference (only \"#...\" references are supported)", u)
}

// compileECMARegexp compiles a "pattern" with Go's regexp (RE2) after translating
// the ECMA-262 escape \uXXXX; a pattern RE2 cannot express fails the compilation.
func compileECMARegexp(p string) (jsonschema.Regexp, error) {
	re, err := regexp.Compile(translateECMARegexp(p))
	if err != nil {
		return nil, fmt.Errorf("pattern %q cannot be compiled by Go's regexp (RE2): %v", p, err)
	}
	return re, nil
}

// compiledSchema is the outcome of compiling one schema reference.
type compiledSchema struct {
	schema *jsonschema.Schema
	err    error
}

// compile returns the schema at a local reference, compiled once. It first walks
// every schema the reference reaches: a keyword that is neither one the library
// evaluates nor a known annotation fails it, so the check never passes an instance
// it did not really check.
func (s *Spec) compile(ref string) (*jsonschema.Schema, error) {
	if v, ok := s.schemas.Load(ref); ok {
		c := v.(*compiledSchema)
		return c.schema, c.err
	}
	c := &compiledSchema{}
	if unknown := s.unknownKeywords(ref); len(unknown) > 0 {
		c.err = fmt.Errorf("keywords this checker cannot evaluate: %s", strings.Join(unknown, ", "))
	} else {
		s.mu.Lock()
		c.schema, c.err = s.compiler.Compile(docURL + "#" + (&url.URL{Fragment: strings.TrimPrefix(ref, "#")}).EscapedFragment())
		s.mu.Unlock()
	}
	v, _ := s.schemas.LoadOrStore(ref, c)
	c = v.(*compiledSchema)
	return c.schema, c.err
}

// validateAt validates inst against the schema at a local reference.
func (s *Spec) validateAt(inst any, ref string) []issue {
	sch, err := s.compile(ref)
	if err != nil {
		return []issue{{msg: "invalid schema: " + strings.ReplaceAll(err.Error(), docURL, ""), loc: ref}}
	}
	if err := checkNumbers(inst, ""); err != nil {
		return []issue{*err}
	}
	err = sch.Validate(inst)
	var ve *jsonschema.ValidationError
	if err == nil {
		return nil
	} else if !errors.As(err, &ve) {
		return []issue{{msg: err.Error(), loc: ref}}
	}
	return s.issuesOf(ve, inst, nil)
}

// english renders the library's error messages.
var english = message.NewPrinter(language.English)

// issuesOf flattens the library's tree of errors into the failures that explain
// it: every error but those that only group their causes; and for an anyOf or
// oneOf that failed, itself, then the failures of one
// branch: the one its OpenAPI discriminator names for the instance, else the one
// that got furthest into the instance.
func (s *Spec) issuesOf(e *jsonschema.ValidationError, inst any, out []issue) []issue {
	_, isAnyOf := e.ErrorKind.(*kind.AnyOf)
	_, isOneOf := e.ErrorKind.(*kind.OneOf)
	if len(e.Causes) == 0 || !isWrapper(e.ErrorKind) {
		loc := "#" + fragmentOf(e.SchemaURL)
		if _, isRef := e.ErrorKind.(*kind.Reference); !isRef {
			for _, tok := range e.ErrorKind.KeywordPath() {
				loc += "/" + escapePointerToken(tok)
			}
		}
		out = append(out, issue{at: pointerOf(e.InstanceLocation), msg: strings.ReplaceAll(e.ErrorKind.LocalizedString(english), docURL, ""), loc: loc})
	}
	if (isAnyOf || isOneOf) && len(e.Causes) > 1 {
		branches := make([][]issue, len(e.Causes))
		for i, c := range e.Causes {
			branches[i] = s.issuesOf(c, inst, nil)
		}
		return append(out, branches[s.closestBranch(e, inst, branches)]...)
	}
	for _, c := range e.Causes {
		out = s.issuesOf(c, inst, out)
	}
	return out
}

// isWrapper reports whether an error only groups its causes ("validation failed",
// "$ref", "allOf"), so that it says nothing they do not.
func isWrapper(k jsonschema.ErrorKind) bool {
	switch k.(type) {
	case *kind.Group, *kind.Schema, *kind.Reference, *kind.AllOf:
		return true
	}
	return false
}

// closestBranch picks the failed branch worth describing.
func (s *Spec) closestBranch(e *jsonschema.ValidationError, inst any, branches [][]issue) int {
	schema, _ := s.resolvePointer("#" + fragmentOf(e.SchemaURL))
	sc, _ := schema.(map[string]any)
	if disc, ok := sc["discriminator"].(map[string]any); ok {
		prop, _ := disc["propertyName"].(string)
		var at any = inst
		for _, tok := range e.InstanceLocation {
			switch x := at.(type) {
			case map[string]any:
				at = x[tok]
			case []any:
				i, _ := strconv.Atoi(tok)
				if i >= 0 && i < len(x) {
					at = x[i]
				}
			}
		}
		obj, _ := at.(map[string]any)
		if val, ok := obj[prop].(string); ok && prop != "" {
			target := "#/components/schemas/" + val
			if mapping, ok := disc["mapping"].(map[string]any); ok {
				if m, ok := mapping[val].(string); ok {
					target = m
					if !strings.HasPrefix(m, "#") {
						target = "#/components/schemas/" + m
					}
				}
			}
			for i, c := range e.Causes {
				if ref, ok := c.ErrorKind.(*kind.Reference); ok && "#"+fragmentOf(ref.URL) == target {
					return i
				}
			}
		}
	}
	// Otherwise the branch whose shallowest failure is deepest, then the one with
	// fewest failures.
	best, bestDepth := 0, -1
	for i, r := range branches {
		depth := -1
		for _, is := range r {
			if d := strings.Count(is.at, "/"); depth < 0 || d < depth {
				depth = d
			}
		}
		if depth > bestDepth || depth == bestDepth && len(r) < len(branches[best]) {
			best, bestDepth = i, depth
		}
	}
	return best
}

func pointerOf(tokens []string) string {
	p := ""
	for _, tok := range tokens {
		p += "/" + escapePointerToken(tok)
	}
	return p
}

// fragmentOf is the unescaped fragment of a keyword location in the document.
func fragmentOf(loc string) string {
	_, frag, _ := strings.Cut(loc, "#")
	if f, err := url.PathUnescape(frag); err == nil {
		return f
	}
	return frag
}

// Keywords of JSON Schema 2020-12, all evaluated by the library or annotations, and
// the OpenAPI 3.1 additions to the Schema Object, which are annotations. Members
// whose names start with "x-" are extensions.
var knownKeywords = map[string]bool{
	"$schema": true, "$id": true, "$ref": true, "$anchor": true, "$dynamicRef": true, "$dynamicAnchor": true,
	"$vocabulary": true, "$comment": true, "$defs": true,
	"prefixItems": true, "items": true, "contains": true, "additionalProperties": true, "properties": true,
	"patternProperties": true, "dependentSchemas": true, "propertyNames": true, "if": true, "then": true,
	"else": true, "allOf": true, "anyOf": true, "oneOf": true, "not": true,
	"unevaluatedItems": true, "unevaluatedProperties": true,
	"type": true, "const": true, "enum": true, "multipleOf": true, "maximum": true, "exclusiveMaximum": true,
	"minimum": true, "exclusiveMinimum": true, "maxLength": true, "minLength": true, "pattern": true,
	"maxItems": true, "minItems": true, "uniqueItems": true, "maxContains": true, "minContains": true,
	"maxProperties": true, "minProperties": true, "required": true, "dependentRequired": true,
	"title": true, "description": true, "default": true, "deprecated": true, "readOnly": true,
	"writeOnly": true, "examples": true, "format": true,
	"contentEncoding": true, "contentMediaType": true, "contentSchema": true,
	"discriminator": true, "xml": true, "externalDocs": true, "example": true,
}

// Keywords whose values are a schema, a list of schemas, or a map of them.
var (
	schemaKeywords    = []string{"items", "contains", "additionalProperties", "propertyNames", "if", "then", "else", "not", "unevaluatedItems", "unevaluatedProperties", "contentSchema"}
	schemaListKeyword = []string{"prefixItems", "allOf", "anyOf", "oneOf"}
	schemaMapKeywords = []string{"properties", "patternProperties", "dependentSchemas", "$defs"}
)

// unknownKeywords lists, with their locations, the keywords of every schema that
// ref reaches (through subschemas and local $refs) that knownKeywords lacks.
func (s *Spec) unknownKeywords(ref string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(loc string)
	walk = func(loc string) {
		if seen[loc] {
			return
		}
		seen[loc] = true
		v, err := s.resolvePointer(loc)
		if err != nil {
			return // the library reports the dangling reference
		}
		sc, ok := v.(map[string]any)
		if !ok {
			return
		}
		for _, k := range sortedKeys(sc) {
			if !knownKeywords[k] && !strings.HasPrefix(k, "x-") {
				out = append(out, fmt.Sprintf("%q at %s", k, loc))
			}
		}
		if r, ok := sc["$ref"].(string); ok && strings.HasPrefix(r, "#") {
			walk(r)
		}
		for _, k := range schemaKeywords {
			if _, ok := sc[k]; ok {
				walk(loc + "/" + k)
			}
		}
		for _, k := range schemaListKeyword {
			list, _ := sc[k].([]any)
			for i := range list {
				walk(loc + "/" + k + "/" + strconv.Itoa(i))
			}
		}
		for _, k := range schemaMapKeywords {
			m, _ := sc[k].(map[string]any)
			for _, name := range sortedKeys(m) {
				walk(loc + "/" + k + "/" + escapePointerToken(name))
			}
		}
	}
	walk(ref)
	return out
}

// maxExponent bounds the exponents of numbers in an instance, so that a hostile
// number cannot make exact arithmetic allocate without limit.
const maxExponent = 10000

// checkNumbers finds a number in inst whose exponent is out of range.
func checkNumbers(inst any, ptr string) *issue {
	switch x := inst.(type) {
	case json.Number:
		s := string(x)
		if i := strings.IndexAny(s, "eE"); i >= 0 {
			exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
			if err != nil || exp > maxExponent || exp < -maxExponent {
				return &issue{at: ptr, msg: fmt.Sprintf("number %s: exponent out of the range this checker handles", s)}
			}
		}
	case []any:
		for i, e := range x {
			if is := checkNumbers(e, ptr+"/"+strconv.Itoa(i)); is != nil {
				return is
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if is := checkNumbers(x[k], ptr+"/"+escapePointerToken(k)); is != nil {
				return is
			}
		}
	}
	return nil
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

// issue is one failed check: where in the instance, what failed and which part of the
// contract said so.
type issue struct {
	at   string // JSON pointer into the instance ("" is the root), or a label such as "header Location"
	msg  string
	kind string // what loc names: "schema", "response", ...
	loc  string // location in the contract, e.g. "#/components/schemas/X/required"
}

func (i issue) String() string {
	at := i.at
	if at == "" {
		at = "(root)"
	}
	if i.loc == "" {
		return at + ": " + i.msg
	}
	kind := i.kind
	if kind == "" {
		kind = "schema"
	}
	return at + ": " + i.msg + "; " + kind + " " + i.loc
}

// brief renders a value as compact JSON for a message, shortened when long.
func brief(x any) string {
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprintf("%v", x)
	}
	const limit = 80
	if len(b) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		return string(b[:cut]) + "…"
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
