package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ValidateResponse checks one response against the contract.
//
// requestPath is the concrete path the client requested, such as
// "/me/v1/authentication-methods/passkey%7Cdev_abc/verify" or
// "/me/authentication-methods"; the prefix "/me/v1" or "/me" is stripped and the rest
// matched against the document's path templates, where {x} matches one escaped
// segment. It finds the operation for method and the response for status (the exact
// code, else a range such as "4XX", else "default"; an undocumented status is an
// error), then checks that
//   - every header the response marks required is present (names are
//     case-insensitive), and every documented header that is present has a valid
//     value (a number where the header's schema says number or integer);
//   - if the response declares content, the Content-Type is one of its media types
//     ("application/problem+json" is accepted where "application/json" is declared),
//     and the body is one JSON value valid against that media type's schema;
//   - if it declares no content (e.g. 204), the body is empty.
//
// The error lists every failure with the JSON pointer into the body (or the header),
// what failed and the contract location that requires it.
func (s *Spec) ValidateResponse(method, requestPath string, status int, header http.Header, body []byte) error {
	op, err := s.findOperation(method, requestPath)
	if err != nil {
		return err
	}
	prefix := fmt.Sprintf("oascheck: %s %s (%s %s) -> %d", op.method, requestPath, op.method, op.template, status)

	responses, ok := op.obj["responses"].(map[string]any)
	if !ok {
		return fmt.Errorf("%s: operation %s has no responses", prefix, op.loc)
	}
	code := strconv.Itoa(status)
	candidates := []string{"default"}
	if status >= 100 && status <= 599 {
		candidates = []string{code, code[:1] + "XX", code[:1] + "xx", "default"}
	}
	key := ""
	for _, k := range candidates {
		if _, ok := responses[k]; ok {
			key = k
			break
		}
	}
	if key == "" {
		documented := sortedKeys(responses)
		return fmt.Errorf("%s: status %d is not documented for this operation (documented: %s); responses %s/responses",
			prefix, status, strings.Join(documented, ", "), op.loc)
	}
	raw, rloc, err := s.deref(responses[key], op.loc+"/responses/"+key)
	if err != nil {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	resp, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %s: response is not an object", prefix, rloc)
	}

	var issues []issue
	issues = append(issues, s.checkHeaders(resp, rloc, header)...)
	issues = append(issues, s.checkContent(resp, rloc, header, body)...)
	return report(prefix, issues)
}

// ValidateRequestBody validates a JSON request body against the requestBody schema of
// the operation for method and requestPath (matched as in [Spec.ValidateResponse]).
// An empty body is accepted only when the request body is not required.
func (s *Spec) ValidateRequestBody(method, requestPath string, body []byte) error {
	op, err := s.findOperation(method, requestPath)
	if err != nil {
		return err
	}
	prefix := fmt.Sprintf("oascheck: %s %s (%s %s) request body", op.method, requestPath, op.method, op.template)
	rawRB, ok := op.obj["requestBody"]
	if !ok {
		if len(body) == 0 {
			return nil
		}
		return fmt.Errorf("%s: the operation %s declares no requestBody, but a body was given", prefix, op.loc)
	}
	v, rbLoc, err := s.deref(rawRB, op.loc+"/requestBody")
	if err != nil {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	rb, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %s: requestBody is not an object", prefix, rbLoc)
	}
	if len(body) == 0 {
		if rb["required"] == true {
			return fmt.Errorf("%s: body is empty but required; requestBody %s", prefix, rbLoc)
		}
		return nil
	}
	content, _ := rb["content"].(map[string]any)
	mt := ""
	for _, k := range sortedKeys(content) {
		if isJSONMediaType(k) {
			mt = k
			break
		}
	}
	if mt == "" {
		return fmt.Errorf("%s: requestBody %s declares no JSON media type (has %s)", prefix, rbLoc, strings.Join(sortedKeys(content), ", "))
	}
	return report(prefix, s.checkJSONBody(content[mt], rbLoc+"/content/"+escapePointerToken(mt), body))
}

// checkHeaders checks the response's documented headers.
func (s *Spec) checkHeaders(resp map[string]any, rloc string, header http.Header) []issue {
	headers, _ := resp["headers"].(map[string]any)
	var out []issue
	for _, name := range sortedKeys(headers) {
		if strings.EqualFold(name, "Content-Type") {
			continue // OpenAPI: a Content-Type header definition is ignored
		}
		hv, hloc, err := s.deref(headers[name], rloc+"/headers/"+escapePointerToken(name))
		if err != nil {
			out = append(out, issue{at: "header " + name, msg: "invalid contract: " + err.Error()})
			continue
		}
		h, _ := hv.(map[string]any)
		at := "header " + name
		values := headerValues(header, name)
		if len(values) == 0 {
			if h["required"] == true {
				out = append(out, issue{at: at, msg: "missing required header", kind: "header", loc: hloc})
			}
			continue
		}
		schema, ok := h["schema"]
		if !ok {
			continue
		}
		sloc := hloc + "/schema"
		numeric, stringy := s.headerSchemaKinds(schema)
		for _, val := range values {
			var inst any = val
			if numeric {
				n, ok := parseJSONNumber(strings.TrimSpace(val))
				if ok {
					inst = n
				} else if !stringy {
					out = append(out, issue{at: at, msg: fmt.Sprintf("value %q is not a number", val), loc: sloc})
					continue
				}
			} else if !stringy {
				continue // booleans, arrays and objects in headers are not checked
			}
			for _, is := range s.validateAt(inst, sloc) {
				is.at = at
				out = append(out, is)
			}
		}
	}
	return out
}

// headerSchemaKinds reports whether a header schema (after $ref) admits numbers and
// whether it admits strings (a schema without "type" admits both).
func (s *Spec) headerSchemaKinds(schema any) (numeric, stringy bool) {
	sv, _, err := s.deref(schema, "")
	if err != nil {
		return false, true
	}
	m, _ := sv.(map[string]any)
	var types []string
	switch t := m["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				types = append(types, s)
			}
		}
	default:
		return false, true
	}
	numeric = slices.Contains(types, "number") || slices.Contains(types, "integer")
	stringy = slices.Contains(types, "string")
	return numeric, stringy
}

// parseJSONNumber accepts exactly the JSON number grammar.
func parseJSONNumber(s string) (json.Number, bool) {
	v, err := decodeJSON([]byte(s))
	if err != nil {
		return "", false
	}
	n, ok := v.(json.Number)
	return n, ok
}

func headerValues(h http.Header, name string) []string {
	if v, ok := h[http.CanonicalHeaderKey(name)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// checkContent checks Content-Type and body against the response's content.
func (s *Spec) checkContent(resp map[string]any, rloc string, header http.Header, body []byte) []issue {
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) != 0 {
			return []issue{{at: "body", msg: fmt.Sprintf("response declares no content, but the body has %d bytes: %s", len(body), brief(string(body))), kind: "response", loc: rloc}}
		}
		return nil
	}
	ct := ""
	if v := headerValues(header, "Content-Type"); len(v) > 0 {
		ct = v[0]
	}
	if ct == "" {
		return []issue{{at: "header Content-Type", msg: fmt.Sprintf("missing; the response declares %s", strings.Join(sortedKeys(content), ", ")), kind: "response", loc: rloc + "/content"}}
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return []issue{{at: "header Content-Type", msg: fmt.Sprintf("cannot parse %q: %v", ct, err), kind: "response", loc: rloc + "/content"}}
	}
	key, ok := matchMediaType(content, mediaType)
	if !ok {
		return []issue{{at: "header Content-Type", msg: fmt.Sprintf("media type %q is not one the response declares (%s)", mediaType, strings.Join(sortedKeys(content), ", ")), kind: "response", loc: rloc + "/content"}}
	}
	if !isJSONMediaType(key) {
		return nil // only JSON bodies are checked
	}
	return s.checkJSONBody(content[key], rloc+"/content/"+escapePointerToken(key), body)
}

// matchMediaType finds the content key for a response media type: exact (case
// insensitive), then the problem+json alias of application/json, then wildcards.
func matchMediaType(content map[string]any, mediaType string) (string, bool) {
	keys := sortedKeys(content)
	find := func(want string) (string, bool) {
		for _, k := range keys {
			if strings.EqualFold(k, want) {
				return k, true
			}
		}
		return "", false
	}
	if k, ok := find(mediaType); ok {
		return k, true
	}
	if mediaType == "application/problem+json" {
		if k, ok := find("application/json"); ok {
			return k, true
		}
	}
	if i := strings.IndexByte(mediaType, '/'); i >= 0 {
		if k, ok := find(mediaType[:i] + "/*"); ok {
			return k, true
		}
	}
	return find("*/*")
}

func isJSONMediaType(mt string) bool {
	mt = strings.ToLower(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// checkJSONBody parses body and validates it against a Media Type Object's schema.
func (s *Spec) checkJSONBody(media any, mloc string, body []byte) []issue {
	inst, err := decodeJSON(body)
	if err != nil {
		return []issue{{at: "body", msg: "not valid JSON: " + err.Error()}}
	}
	m, _ := media.(map[string]any)
	if _, ok := m["schema"]; !ok {
		return nil
	}
	return s.validateAt(inst, mloc+"/schema")
}

// validateJSON validates a JSON document against the schema at a local reference; the
// tests use it on inline documents.
func (s *Spec) validateJSON(schemaRef string, data []byte) error {
	if _, err := s.resolvePointer(schemaRef); err != nil {
		return err
	}
	inst, err := decodeJSON(data)
	if err != nil {
		return err
	}
	return report("oascheck", s.validateAt(inst, schemaRef))
}

// report turns issues into one error, or nil.
func report(prefix string, issues []issue) error {
	switch len(issues) {
	case 0:
		return nil
	case 1:
		return errors.New(prefix + ": " + issues[0].String())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems:", prefix, len(issues))
	for _, is := range issues {
		b.WriteString("\n\t")
		b.WriteString(is.String())
	}
	return errors.New(b.String())
}
