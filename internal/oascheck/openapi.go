package oascheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// docURL names the contract inside the schema library; its references are local.
const docURL = "file:///contract.json"

// Spec is the contract file loaded for checking responses: OpenAPI 3.1, whose
// schemas are JSON Schema 2020-12. It is safe for concurrent use.
type Spec struct {
	doc      map[string]any
	mu       sync.Mutex // guards compiler
	compiler *jsonschema.Compiler
}

// Load reads the contract file at path; an absent file gives an error wrapping
// fs.ErrNotExist.
func Load(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("oascheck: read contract: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	doc, _ := v.(map[string]any)
	if version, _ := doc["openapi"].(string); err == nil && !strings.HasPrefix(version, "3.1.") {
		err = fmt.Errorf("openapi version %q is not 3.1.x", version)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err == nil {
		err = c.AddResource(docURL, doc)
	}
	if err != nil {
		return nil, fmt.Errorf("oascheck: %s: %w", path, err)
	}
	return &Spec{doc: doc, compiler: c}, nil
}

// ValidateResponse checks one response against the contract. requestPath, such
// as "/me/v1/authentication-methods/passkey%7Cnew/verify", is matched without
// "/me/v1" or "/me" against the path templates, the most literal winning. The
// status must be documented (exactly, as "4XX" or as "default"); required
// headers present and documented ones valid; the body of a declared media type
// ("application/problem+json" standing for "application/json") and valid against
// its schema, or empty where none is declared. An enrollment's 202 must also be
// valid against its type's branch of the union that describes it.
func (s *Spec) ValidateResponse(method, requestPath string, status int, header http.Header, body []byte) error {
	resp, loc, err := s.response(method, requestPath, status)
	if err != nil {
		return err
	}
	var errs []error
	headers, _ := resp["headers"].(map[string]any)
	for name, raw := range headers {
		h, hloc := s.deref(raw, loc+"/headers/"+escapePointerToken(name))
		if header.Get(name) == "" && h["required"] == true {
			errs = append(errs, fmt.Errorf("header %s: missing (%s)", name, hloc))
		}
		for _, value := range header.Values(name) {
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(value))
			if _, number := inst.(json.Number); err != nil || !number {
				inst = value // a header is a string unless it reads as a number
			}
			if err := s.validate(hloc+"/schema", inst); err != nil {
				errs = append(errs, fmt.Errorf("header %s: %w", name, err))
			}
		}
	}
	content, _ := resp["content"].(map[string]any)
	mediaType, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	if _, ok := content[mediaType]; !ok && mediaType == "application/problem+json" {
		mediaType = "application/json"
	}
	media, ok := content[mediaType].(map[string]any)
	switch {
	case len(content) == 0 && len(body) > 0:
		errs = append(errs, fmt.Errorf("%s declares no content, but the body has %d bytes", loc, len(body)))
	case len(content) > 0 && !ok:
		errs = append(errs, fmt.Errorf("Content-Type %q is not one %s/content declares", header.Get("Content-Type"), loc))
	case ok && media["schema"] != nil:
		errs = append(errs, s.ValidateSchema(loc+"/content/"+escapePointerToken(mediaType)+"/schema", body))
		if schema, _ := media["schema"].(map[string]any); schema["$ref"] == enrollmentUnion {
			errs = append(errs, s.validateBranch(body))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("oascheck: %s %s → %d (%s): %w", method, requestPath, status, loc, err)
	}
	return nil
}

// Documents reports whether the contract lists status (or a range or default
// covering it) for the operation that serves method and requestPath.
func (s *Spec) Documents(method, requestPath string, status int) bool {
	_, _, err := s.response(method, requestPath, status)
	return err == nil
}

// ValidateSchema checks that body is one JSON value valid against the schema at
// a local reference such as "#/components/schemas/ErrorResponse": for responses
// whose status the contract does not list for their operation.
func (s *Spec) ValidateSchema(schemaRef string, body []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("body is not one JSON value: %w", err)
	}
	return s.validate(schemaRef, inst)
}

// validate checks a decoded value against the schema at a local reference.
func (s *Spec) validate(ref string, inst any) error {
	s.mu.Lock() // the compiler keeps what it compiled, and is not safe for concurrent use
	schema, err := s.compiler.Compile(docURL + "#" + (&url.URL{Fragment: ref[1:]}).EscapedFragment())
	s.mu.Unlock()
	if err == nil {
		err = schema.Validate(inst)
	}
	if err != nil {
		return fmt.Errorf("against %s: %w", ref, err)
	}
	return nil
}

// response finds the Response Object for status of the operation serving method
// and requestPath, with its location in the document.
func (s *Spec) response(method, requestPath string, status int) (map[string]any, string, error) {
	rest, ok := strings.CutPrefix(requestPath, "/me/v1")
	if !ok {
		rest, _ = strings.CutPrefix(requestPath, "/me")
	}
	segments := strings.Split(rest, "/")
	paths, _ := s.doc["paths"].(map[string]any)
	best, bestLiterals := "", -1
	for template := range paths {
		n, ok := matchTemplate(strings.Split(template, "/"), segments)
		if ok && (n > bestLiterals || n == bestLiterals && template < best) {
			best, bestLiterals = template, n
		}
	}
	loc := "#/paths/" + escapePointerToken(best) + "/" + strings.ToLower(method)
	item, _ := paths[best].(map[string]any)
	op, _ := item[strings.ToLower(method)].(map[string]any)
	if op == nil {
		return nil, "", fmt.Errorf("oascheck: the contract has no %s %s (%s)", method, requestPath, loc)
	}
	responses, _ := op["responses"].(map[string]any)
	code := strconv.Itoa(status)
	for _, key := range []string{code, code[:1] + "XX", "default"} {
		if r, ok := responses[key]; ok {
			resp, rloc := s.deref(r, loc+"/responses/"+key)
			return resp, rloc, nil
		}
	}
	return nil, "", fmt.Errorf("oascheck: %s %s: status %d is not documented (%s/responses)", method, requestPath, status, loc)
}

// matchTemplate matches path segments against a template's, where "{x}" matches
// one non-empty segment, and counts the literal segments.
func matchTemplate(template, segments []string) (literals int, ok bool) {
	if len(template) != len(segments) {
		return 0, false
	}
	for i, t := range template {
		if t == segments[i] {
			literals++
		} else if !strings.HasPrefix(t, "{") || segments[i] == "" {
			return 0, false
		}
	}
	return literals, true
}

// deref follows Reference Objects ({"$ref": "#/..."}) to the object they name,
// returning it with its location; anything else gives an empty object.
func (s *Spec) deref(v any, loc string) (map[string]any, string) {
	for range 10 { // deeper than the contract nests; a cycle ends here
		m, _ := v.(map[string]any)
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, loc
		}
		v, loc = any(s.doc), ref
		for _, token := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			parent, _ := v.(map[string]any)
			v = parent[strings.NewReplacer("~1", "/", "~0", "~").Replace(token)]
		}
	}
	return nil, loc
}

// enrollmentUnion, an enrollment's 202, is an anyOf of open objects: a body that
// breaks its own type's branch can pass through a plainer one.
const enrollmentUnion = "#/components/schemas/CreateAuthenticationMethodResponseContent"

// enrollmentBranches names the branch of enrollmentUnion for each method type.
var enrollmentBranches = map[string]string{
	"passkey": "PasskeyCreationResponse", "password": "PasswordCreationResponse",
	"webauthn-roaming": "WebAuthnCreationResponse", "webauthn-platform": "WebAuthnCreationResponse",
	"email": "MfaBaseCreationResponse", "phone": "MfaBaseCreationResponse",
	"totp": "QrCodeCreationResponse", "push-notification": "QrCodeCreationResponse",
	"recovery-code": "RecoveryCodeCreationResponse",
}

// validateBranch checks a 202 against its id's type's branch (a passkey has no id).
func (s *Spec) validateBranch(body []byte) error {
	var reply struct{ ID *string }
	if json.Unmarshal(body, &reply) != nil {
		return nil // ValidateSchema has said why
	}
	typ := "passkey"
	if reply.ID != nil {
		typ, _, _ = strings.Cut(*reply.ID, "|")
	}
	branch, ok := enrollmentBranches[typ]
	if !ok {
		return fmt.Errorf("no branch of %s is for the type %q", enrollmentUnion, typ)
	}
	return s.ValidateSchema("#/components/schemas/"+branch, body)
}
