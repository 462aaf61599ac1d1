package oascheck

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

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

// maxDepth bounds schema recursion that does not descend into the instance (such as a
// $ref cycle without an intervening property).
const maxDepth = 200

// Keywords that carry no assertion, and so never change the outcome.
var annotationKeywords = map[string]bool{
	"$comment": true, "$schema": true, "$defs": true, "definitions": true,
	"title": true, "description": true, "default": true, "example": true, "examples": true,
	"deprecated": true, "readOnly": true, "writeOnly": true,
	"contentEncoding": true, "contentMediaType": true, "contentSchema": true,
	// OpenAPI 3.1 additions to the Schema Object. discriminator does not alter
	// validation (oneOf/anyOf still decide); it is only used to pick which branch to
	// describe when none matches.
	"discriminator": true, "xml": true, "externalDocs": true,
}

// Keywords this validator asserts.
var assertionKeywords = map[string]bool{
	"$ref": true, "type": true, "enum": true, "const": true,
	"multipleOf": true, "maximum": true, "exclusiveMaximum": true, "minimum": true, "exclusiveMinimum": true,
	"maxLength": true, "minLength": true, "pattern": true, "format": true,
	"maxItems": true, "minItems": true, "uniqueItems": true, "prefixItems": true, "items": true,
	"contains": true, "minContains": true, "maxContains": true,
	"maxProperties": true, "minProperties": true, "required": true, "dependentRequired": true,
	"properties": true, "patternProperties": true, "additionalProperties": true,
	"propertyNames": true, "dependentSchemas": true,
	"allOf": true, "anyOf": true, "oneOf": true, "not": true, "if": true, "then": true, "else": true,
}

type validator struct {
	s     *Spec
	depth int
}

// validate checks instance inst (at JSON pointer ip) against schema (at location sp)
// and returns what failed, or nil.
func (v *validator) validate(inst any, ip string, schema any, sp string) []issue {
	switch sc := schema.(type) {
	case bool:
		if sc {
			return nil
		}
		return []issue{{at: ip, msg: "no value is allowed here (schema is false)", loc: sp}}
	case map[string]any:
		v.depth++
		defer func() { v.depth-- }()
		if v.depth > maxDepth {
			return []issue{{at: ip, msg: "schema nesting too deep (a $ref cycle?)", loc: sp}}
		}
		return v.validateObject(inst, ip, sc, sp)
	default:
		return []issue{{at: ip, msg: fmt.Sprintf("invalid schema: a schema must be an object or a boolean, found %s", jsonType(schema)), loc: sp}}
	}
}

func (v *validator) validateObject(inst any, ip string, sc map[string]any, sp string) []issue {
	var out []issue
	bad := func(kw, format string, args ...any) {
		out = append(out, issue{at: ip, msg: fmt.Sprintf(format, args...), loc: sp + "/" + escapePointerToken(kw)})
	}
	schemaErr := func(kw, format string, args ...any) {
		bad(kw, "invalid schema: "+format, args...)
	}

	for _, k := range sortedKeys(sc) {
		if !assertionKeywords[k] && !annotationKeywords[k] && !strings.HasPrefix(k, "x-") {
			schemaErr(k, "keyword %q is not supported by this checker", k)
		}
	}

	if raw, ok := sc["$ref"]; ok {
		ref, ok := raw.(string)
		if !ok {
			schemaErr("$ref", "$ref is not a string")
		} else if target, err := v.s.resolvePointer(ref); err != nil {
			schemaErr("$ref", "%v", err)
		} else {
			out = append(out, v.validate(inst, ip, target, ref)...)
		}
	}

	if raw, ok := sc["type"]; ok {
		var types []string
		switch t := raw.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, e := range t {
				if s, ok := e.(string); ok {
					types = append(types, s)
				}
			}
		}
		if len(types) == 0 {
			schemaErr("type", "type is %s", brief(raw))
		} else if !slices.ContainsFunc(types, func(t string) bool { return typeMatches(inst, t) }) {
			want := types[0]
			if len(types) > 1 {
				want = "one of " + strings.Join(types, ", ")
			}
			bad("type", "type is %s, want %s", jsonType(inst), want)
		}
	}

	if raw, ok := sc["enum"]; ok {
		if vals, ok := raw.([]any); !ok {
			schemaErr("enum", "enum is not an array")
		} else if !slices.ContainsFunc(vals, func(e any) bool { return jsonEqual(inst, e) }) {
			bad("enum", "value %s is not one of %s", brief(inst), brief(raw))
		}
	}
	if c, ok := sc["const"]; ok && !jsonEqual(inst, c) {
		bad("const", "value %s, want %s", brief(inst), brief(c))
	}

	switch x := inst.(type) {
	case string:
		out = append(out, v.stringKeywords(x, ip, sc, sp)...)
	case json.Number:
		out = append(out, v.numberKeywords(x, ip, sc, sp)...)
	case []any:
		out = append(out, v.arrayKeywords(x, ip, sc, sp)...)
	case map[string]any:
		out = append(out, v.objectKeywords(x, ip, sc, sp)...)
	}

	out = append(out, v.applicators(inst, ip, sc, sp)...)
	return out
}

func (v *validator) stringKeywords(x, ip string, sc map[string]any, sp string) []issue {
	var out []issue
	bad := func(kw, format string, args ...any) {
		out = append(out, issue{at: ip, msg: fmt.Sprintf(format, args...), loc: sp + "/" + kw})
	}
	n := utf8.RuneCountInString(x)
	if raw, ok := sc["minLength"]; ok {
		if lim, ok := nonNegInt(raw); !ok {
			bad("minLength", "invalid schema: minLength is %s", brief(raw))
		} else if n < lim {
			bad("minLength", "string length %d is less than minLength %d", n, lim)
		}
	}
	if raw, ok := sc["maxLength"]; ok {
		if lim, ok := nonNegInt(raw); !ok {
			bad("maxLength", "invalid schema: maxLength is %s", brief(raw))
		} else if n > lim {
			bad("maxLength", "string length %d is more than maxLength %d", n, lim)
		}
	}
	if raw, ok := sc["pattern"]; ok {
		if p, ok := raw.(string); !ok {
			bad("pattern", "invalid schema: pattern is %s", brief(raw))
		} else if re, err := v.s.pattern(p); err != nil {
			bad("pattern", "invalid schema: %v", err)
		} else if !re.MatchString(x) {
			bad("pattern", "string %s does not match pattern %q", brief(x), p)
		}
	}
	if raw, ok := sc["format"]; ok {
		switch raw {
		case "date-time":
			if !isDateTime(x) {
				bad("format", "string %s is not a valid date-time (RFC 3339)", brief(x))
			}
		case "uri":
			if !isAbsoluteURI(x) {
				bad("format", "string %s is not a valid absolute URI (RFC 3986)", brief(x))
			}
		}
		// Other formats are annotations (draft 2020-12 default); none other is used.
	}
	return out
}

func (v *validator) numberKeywords(x json.Number, ip string, sc map[string]any, sp string) []issue {
	var out []issue
	bad := func(kw, format string, args ...any) {
		out = append(out, issue{at: ip, msg: fmt.Sprintf(format, args...), loc: sp + "/" + kw})
	}
	r, err := numRat(x)
	if err != nil {
		return []issue{{at: ip, msg: err.Error(), loc: sp}}
	}
	limit := func(kw string) (*big.Rat, bool) {
		raw, ok := sc[kw]
		if !ok {
			return nil, false
		}
		n, ok := raw.(json.Number)
		if !ok {
			bad(kw, "invalid schema: %s is %s", kw, brief(raw))
			return nil, false
		}
		l, err := numRat(n)
		if err != nil {
			bad(kw, "invalid schema: %v", err)
			return nil, false
		}
		return l, true
	}
	if l, ok := limit("minimum"); ok && r.Cmp(l) < 0 {
		bad("minimum", "value %s is less than minimum %s", x, sc["minimum"])
	}
	if l, ok := limit("maximum"); ok && r.Cmp(l) > 0 {
		bad("maximum", "value %s is more than maximum %s", x, sc["maximum"])
	}
	if l, ok := limit("exclusiveMinimum"); ok && r.Cmp(l) <= 0 {
		bad("exclusiveMinimum", "value %s is not more than exclusiveMinimum %s", x, sc["exclusiveMinimum"])
	}
	if l, ok := limit("exclusiveMaximum"); ok && r.Cmp(l) >= 0 {
		bad("exclusiveMaximum", "value %s is not less than exclusiveMaximum %s", x, sc["exclusiveMaximum"])
	}
	if l, ok := limit("multipleOf"); ok {
		if l.Sign() <= 0 {
			bad("multipleOf", "invalid schema: multipleOf must be positive")
		} else if !new(big.Rat).Quo(r, l).IsInt() {
			bad("multipleOf", "value %s is not a multiple of %s", x, sc["multipleOf"])
		}
	}
	return out
}

func (v *validator) arrayKeywords(x []any, ip string, sc map[string]any, sp string) []issue {
	var out []issue
	bad := func(kw, format string, args ...any) {
		out = append(out, issue{at: ip, msg: fmt.Sprintf(format, args...), loc: sp + "/" + kw})
	}
	if raw, ok := sc["minItems"]; ok {
		if lim, ok := nonNegInt(raw); !ok {
			bad("minItems", "invalid schema: minItems is %s", brief(raw))
		} else if len(x) < lim {
			bad("minItems", "array has %d items, fewer than minItems %d", len(x), lim)
		}
	}
	if raw, ok := sc["maxItems"]; ok {
		if lim, ok := nonNegInt(raw); !ok {
			bad("maxItems", "invalid schema: maxItems is %s", brief(raw))
		} else if len(x) > lim {
			bad("maxItems", "array has %d items, more than maxItems %d", len(x), lim)
		}
	}
	if sc["uniqueItems"] == true {
	dup:
		for i := range x {
			for j := i + 1; j < len(x); j++ {
				if jsonEqual(x[i], x[j]) {
					bad("uniqueItems", "items %d and %d are equal, want unique items", i, j)
					break dup
				}
			}
		}
	}
	start := 0
	if raw, ok := sc["prefixItems"]; ok {
		prefix, ok := raw.([]any)
		if !ok {
			bad("prefixItems", "invalid schema: prefixItems is not an array")
		}
		for i := 0; i < len(prefix) && i < len(x); i++ {
			out = append(out, v.validate(x[i], fmt.Sprintf("%s/%d", ip, i), prefix[i], fmt.Sprintf("%s/prefixItems/%d", sp, i))...)
		}
		start = len(prefix)
	}
	if items, ok := sc["items"]; ok {
		for i := start; i < len(x); i++ {
			out = append(out, v.validate(x[i], fmt.Sprintf("%s/%d", ip, i), items, sp+"/items")...)
		}
	}
	if contains, ok := sc["contains"]; ok {
		matches := 0
		for i := range x {
			if len(v.validate(x[i], fmt.Sprintf("%s/%d", ip, i), contains, sp+"/contains")) == 0 {
				matches++
			}
		}
		minC, maxC := 1, -1
		if raw, ok := sc["minContains"]; ok {
			if n, ok := nonNegInt(raw); ok {
				minC = n
			} else {
				bad("minContains", "invalid schema: minContains is %s", brief(raw))
			}
		}
		if raw, ok := sc["maxContains"]; ok {
			if n, ok := nonNegInt(raw); ok {
				maxC = n
			} else {
				bad("maxContains", "invalid schema: maxContains is %s", brief(raw))
			}
		}
		if matches < minC {
			bad("contains", "%d items match the contains schema, want at least %d", matches, minC)
		}
		if maxC >= 0 && matches > maxC {
			bad("maxContains", "%d items match the contains schema, want at most %d", matches, maxC)
		}
	}
	return out
}

func (v *validator) objectKeywords(x map[string]any, ip string, sc map[string]any, sp string) []issue {
	var out []issue
	bad := func(kw, format string, args ...any) {
		out = append(out, issue{at: ip, msg: fmt.Sprintf(format, args...), loc: sp + "/" + kw})
	}
	member := func(name string) string { return ip + "/" + escapePointerToken(name) }

	if raw, ok := sc["minProperties"]; ok {
		if lim, ok := nonNegInt(raw); !ok {
			bad("minProperties", "invalid schema: minProperties is %s", brief(raw))
		} else if len(x) < lim {
			bad("minProperties", "object has %d members, fewer than minProperties %d", len(x), lim)
		}
	}
	if raw, ok := sc["maxProperties"]; ok {
		if lim, ok := nonNegInt(raw); !ok {
			bad("maxProperties", "invalid schema: maxProperties is %s", brief(raw))
		} else if len(x) > lim {
			bad("maxProperties", "object has %d members, more than maxProperties %d", len(x), lim)
		}
	}
	if raw, ok := sc["required"]; ok {
		names, ok := raw.([]any)
		if !ok {
			bad("required", "invalid schema: required is not an array")
		}
		for _, n := range names {
			name, ok := n.(string)
			if !ok {
				bad("required", "invalid schema: required lists %s", brief(n))
				continue
			}
			if _, present := x[name]; !present {
				out = append(out, issue{at: member(name), msg: "missing required property", loc: sp + "/required"})
			}
		}
	}
	if raw, ok := sc["dependentRequired"]; ok {
		deps, ok := raw.(map[string]any)
		if !ok {
			bad("dependentRequired", "invalid schema: dependentRequired is not an object")
		}
		for _, trigger := range sortedKeys(deps) {
			if _, present := x[trigger]; !present {
				continue
			}
			names, _ := deps[trigger].([]any)
			for _, n := range names {
				name, _ := n.(string)
				if _, present := x[name]; !present {
					out = append(out, issue{at: member(name), msg: fmt.Sprintf("missing property required when %q is present", trigger),
						loc: sp + "/dependentRequired/" + escapePointerToken(trigger)})
				}
			}
		}
	}
	if raw, ok := sc["dependentSchemas"]; ok {
		deps, ok := raw.(map[string]any)
		if !ok {
			bad("dependentSchemas", "invalid schema: dependentSchemas is not an object")
		}
		for _, trigger := range sortedKeys(deps) {
			if _, present := x[trigger]; present {
				out = append(out, v.validate(x, ip, deps[trigger], sp+"/dependentSchemas/"+escapePointerToken(trigger))...)
			}
		}
	}

	names := sortedKeys(x)
	if raw, ok := sc["propertyNames"]; ok {
		for _, name := range names {
			for _, is := range v.validate(name, member(name), raw, sp+"/propertyNames") {
				is.msg = "property name: " + is.msg
				out = append(out, is)
			}
		}
	}

	evaluated := map[string]bool{}
	if raw, ok := sc["properties"]; ok {
		props, ok := raw.(map[string]any)
		if !ok {
			bad("properties", "invalid schema: properties is not an object")
		}
		for _, name := range names {
			if ps, ok := props[name]; ok {
				evaluated[name] = true
				out = append(out, v.validate(x[name], member(name), ps, sp+"/properties/"+escapePointerToken(name))...)
			}
		}
	}
	if raw, ok := sc["patternProperties"]; ok {
		pats, ok := raw.(map[string]any)
		if !ok {
			bad("patternProperties", "invalid schema: patternProperties is not an object")
		}
		for _, p := range sortedKeys(pats) {
			ploc := sp + "/patternProperties/" + escapePointerToken(p)
			re, err := v.s.pattern(p)
			if err != nil {
				out = append(out, issue{at: ip, msg: "invalid schema: " + err.Error(), loc: ploc})
				continue
			}
			for _, name := range names {
				if re.MatchString(name) {
					evaluated[name] = true
					out = append(out, v.validate(x[name], member(name), pats[p], ploc)...)
				}
			}
		}
	}
	if ap, ok := sc["additionalProperties"]; ok {
		for _, name := range names {
			if evaluated[name] {
				continue
			}
			if ap == false {
				out = append(out, issue{at: member(name), msg: "property is not allowed (additionalProperties is false)", loc: sp + "/additionalProperties"})
				continue
			}
			out = append(out, v.validate(x[name], member(name), ap, sp+"/additionalProperties")...)
		}
	}
	return out
}

func (v *validator) applicators(inst any, ip string, sc map[string]any, sp string) []issue {
	var out []issue
	branches := func(kw string) []any {
		raw, ok := sc[kw]
		if !ok {
			return nil
		}
		list, ok := raw.([]any)
		if !ok || len(list) == 0 {
			out = append(out, issue{at: ip, msg: "invalid schema: " + kw + " is not a non-empty array", loc: sp + "/" + kw})
			return nil
		}
		return list
	}

	for i, b := range branches("allOf") {
		out = append(out, v.validate(inst, ip, b, fmt.Sprintf("%s/allOf/%d", sp, i))...)
	}

	if list := branches("anyOf"); list != nil {
		results := make([][]issue, len(list))
		matched := false
		for i, b := range list {
			results[i] = v.validate(inst, ip, b, fmt.Sprintf("%s/anyOf/%d", sp, i))
			if len(results[i]) == 0 {
				matched = true
				break
			}
		}
		if !matched {
			best := v.closestBranch(inst, sc, list, results)
			out = append(out, issue{at: ip,
				msg: fmt.Sprintf("matches none of the %d anyOf branches (the closest, %s, fails as listed next)", len(list), branchName(list[best], sp+"/anyOf", best)),
				loc: sp + "/anyOf"})
			out = append(out, results[best]...)
		}
	}

	if list := branches("oneOf"); list != nil {
		results := make([][]issue, len(list))
		var matched []string
		for i, b := range list {
			results[i] = v.validate(inst, ip, b, fmt.Sprintf("%s/oneOf/%d", sp, i))
			if len(results[i]) == 0 {
				matched = append(matched, branchName(b, sp+"/oneOf", i))
			}
		}
		switch len(matched) {
		case 1:
		case 0:
			best := v.closestBranch(inst, sc, list, results)
			out = append(out, issue{at: ip,
				msg: fmt.Sprintf("matches none of the %d oneOf branches (the closest, %s, fails as listed next)", len(list), branchName(list[best], sp+"/oneOf", best)),
				loc: sp + "/oneOf"})
			out = append(out, results[best]...)
		default:
			out = append(out, issue{at: ip,
				msg: fmt.Sprintf("matches %d oneOf branches (%s), want exactly one", len(matched), strings.Join(matched, ", ")),
				loc: sp + "/oneOf"})
		}
	}

	if n, ok := sc["not"]; ok && len(v.validate(inst, ip, n, sp+"/not")) == 0 {
		out = append(out, issue{at: ip, msg: "value matches the schema under \"not\"", loc: sp + "/not"})
	}

	if cond, ok := sc["if"]; ok {
		if len(v.validate(inst, ip, cond, sp+"/if")) == 0 {
			if then, ok := sc["then"]; ok {
				out = append(out, v.validate(inst, ip, then, sp+"/then")...)
			}
		} else if els, ok := sc["else"]; ok {
			out = append(out, v.validate(inst, ip, els, sp+"/else")...)
		}
	}
	return out
}

// closestBranch picks the failed branch worth describing: the one the OpenAPI
// discriminator names for this instance, if any.
func (v *validator) closestBranch(inst any, sc map[string]any, list []any, results [][]issue) int {
	if disc, ok := sc["discriminator"].(map[string]any); ok {
		prop, _ := disc["propertyName"].(string)
		obj, _ := inst.(map[string]any)
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
			for i, b := range list {
				if bm, ok := b.(map[string]any); ok && bm["$ref"] == target && results[i] != nil {
					return i
				}
			}
		}
	}
	// Otherwise prefer the branch that got furthest into the instance (its shallowest
	// failure is deepest), then the one with fewest failures.
	best, bestDepth := -1, -1
	for i, r := range results {
		if r == nil {
			continue // not evaluated (anyOf stops at a match) or passed
		}
		depth := -1
		for _, is := range r {
			if d := strings.Count(is.at, "/"); depth < 0 || d < depth {
				depth = d
			}
		}
		if best < 0 || depth > bestDepth || depth == bestDepth && len(r) < len(results[best]) {
			best, bestDepth = i, depth
		}
	}
	return max(best, 0)
}

func branchName(b any, base string, i int) string {
	if m, ok := b.(map[string]any); ok {
		if ref, ok := m["$ref"].(string); ok {
			return ref
		}
	}
	return fmt.Sprintf("%s/%d", base, i)
}

// typeMatches reports whether x is of JSON Schema type t. An integer is any number
// with a zero fractional part (1.0 is an integer in draft 2020-12).
func typeMatches(x any, t string) bool {
	switch t {
	case "integer":
		n, ok := x.(json.Number)
		if !ok {
			return false
		}
		r, err := numRat(n)
		return err == nil && r.IsInt()
	case "number":
		_, ok := x.(json.Number)
		return ok
	}
	return jsonType(x) == t
}

func jsonType(x any) string {
	switch x := x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if r, err := numRat(x); err == nil && r.IsInt() {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", x)
}

// numRat converts a JSON number exactly. Exponents are bounded so a hostile number
// cannot make the checker allocate without limit.
func numRat(n json.Number) (*big.Rat, error) {
	s := string(n)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || exp > 10000 || exp < -10000 {
			return nil, fmt.Errorf("number %s: exponent out of the range this checker handles", s)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return r, nil
}

// jsonEqual is JSON Schema equality: numbers compare by value, objects by members.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		rx, err1 := numRat(x)
		ry, err2 := numRat(y)
		return err1 == nil && err2 == nil && rx.Cmp(ry) == 0
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, jsonEqual)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}

func nonNegInt(raw any) (int, bool) {
	n, ok := raw.(json.Number)
	if !ok {
		return 0, false
	}
	r, err := numRat(n)
	if err != nil || !r.IsInt() || r.Sign() < 0 || !r.Num().IsInt64() {
		return 0, false
	}
	i := r.Num().Int64()
	if i > int64(^uint(0)>>1) {
		return 0, false
	}
	return int(i), true
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
