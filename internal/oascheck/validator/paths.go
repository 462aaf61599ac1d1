package main

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// pathTemplate is one key of the document's "paths", split into segments.
type pathTemplate struct {
	template string
	segs     []segment
	literals int // number of segments without a template expression
	item     map[string]any
	loc      string
}

// segment matches one path segment: literally, or by a pattern built from a template
// such as "{id}" (an expression matches one or more characters of a single segment).
type segment struct {
	literal string
	re      *regexp.Regexp // nil for a literal segment
}

var templateExprRE = regexp.MustCompile(`\{[^{}/]+\}`)

func compilePathTemplate(tmpl string) (*pathTemplate, error) {
	if !strings.HasPrefix(tmpl, "/") {
		return nil, fmt.Errorf("path %q does not start with /", tmpl)
	}
	pt := &pathTemplate{template: tmpl}
	for _, s := range strings.Split(tmpl[1:], "/") {
		if !strings.ContainsAny(s, "{}") {
			pt.segs = append(pt.segs, segment{literal: s})
			pt.literals++
			continue
		}
		var b strings.Builder
		b.WriteString("^")
		last := 0
		for _, loc := range templateExprRE.FindAllStringIndex(s, -1) {
			b.WriteString(regexp.QuoteMeta(s[last:loc[0]]))
			b.WriteString("(.+?)")
			last = loc[1]
		}
		rest := s[last:]
		if strings.ContainsAny(rest, "{}") || last == 0 {
			return nil, fmt.Errorf("path %q: malformed template segment %q", tmpl, s)
		}
		b.WriteString(regexp.QuoteMeta(rest))
		b.WriteString("$")
		pt.segs = append(pt.segs, segment{re: regexp.MustCompile(b.String())})
	}
	return pt, nil
}

// match reports whether the escaped request segments fit the template. Literal
// segments compare with the unescaped request segment; a template expression matches
// one non-empty, well-escaped segment.
func (pt *pathTemplate) match(segs []string) bool {
	if len(segs) != len(pt.segs) {
		return false
	}
	for i, raw := range segs {
		dec, err := url.PathUnescape(raw)
		if err != nil {
			return false
		}
		ts := pt.segs[i]
		if ts.re == nil {
			if dec != ts.literal {
				return false
			}
			continue
		}
		if raw == "" || !ts.re.MatchString(dec) {
			return false
		}
	}
	return true
}

// apiPrefixes are stripped from request paths before matching; the document's server
// URL ends in /me/v1 and the unversioned /me is served too.
var apiPrefixes = []string{"/me/v1", "/me"}

// operation is one operation of the document, with where it came from.
type operation struct {
	method   string // upper case
	template string
	obj      map[string]any
	loc      string
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// findOperation maps a concrete request to the document's operation.
func (s *Spec) findOperation(method, requestPath string) (*operation, error) {
	p := requestPath
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	rel := ""
	for _, prefix := range apiPrefixes {
		if r, ok := strings.CutPrefix(p, prefix); ok && (r == "" || r[0] == '/') {
			rel = r
			break
		}
	}
	if rel == "" {
		return nil, fmt.Errorf("oascheck: request path %q does not start with /me/v1/ or /me/", requestPath)
	}
	segs := strings.Split(rel[1:], "/")
	for _, pt := range s.paths {
		if !pt.match(segs) {
			continue
		}
		m := strings.ToLower(method)
		raw, ok := pt.item[m]
		if !ok {
			var have []string
			for _, hm := range httpMethods {
				if _, ok := pt.item[hm]; ok {
					have = append(have, strings.ToUpper(hm))
				}
			}
			return nil, fmt.Errorf("oascheck: %s %s: the contract has no %s operation for path %s (it has %s)",
				strings.ToUpper(method), requestPath, strings.ToUpper(method), pt.template, strings.Join(have, ", "))
		}
		obj, loc, err := s.deref(raw, pt.loc+"/"+m)
		if err != nil {
			return nil, fmt.Errorf("oascheck: %w", err)
		}
		op, ok := obj.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("oascheck: %s: operation is not an object", loc)
		}
		return &operation{method: strings.ToUpper(method), template: pt.template, obj: op, loc: loc}, nil
	}
	return nil, fmt.Errorf("oascheck: %s %s: no path of the contract matches %q", strings.ToUpper(method), requestPath, rel)
}
