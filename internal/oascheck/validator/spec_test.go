package main

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pathsDoc is a small hand-written OpenAPI 3.1 document exercising path matching,
// response selection, headers and content negotiation.
const pathsDoc = `{
  "openapi": "3.1.0",
  "info": {"title": "paths", "version": "0"},
  "paths": {
    "/items": {
      "get": {"responses": {
        "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array"}}}},
        "4XX": {"$ref": "#/components/responses/Err"}
      }},
      "post": {
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/New"}}}},
        "responses": {"201": {"description": "created", "headers": {"Location": {"$ref": "#/components/headers/Loc"}}}}
      }
    },
    "/items/special": {"get": {"responses": {"200": {"description": "literal", "content": {"text/plain": {}}}}}},
    "/items/{id}": {
      "get": {"responses": {
        "200": {"description": "one", "headers": {"x-count": {"required": true, "schema": {"type": "integer", "minimum": 0}}},
                "content": {"application/json": {"schema": {"type": "object", "required": ["id"]}}}},
        "default": {"$ref": "#/components/responses/Err"}
      }},
      "patch": {
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {"name": {"type": "string"}}}}}},
        "responses": {"204": {"description": "no content"}}
      }
    },
    "/items/{id}/parts/{part}.json": {"get": {"responses": {"200": {"description": "any", "content": {"*/*": {}}}}}},
    "/items/{id}/verify": {"post": {"responses": {"204": {"description": "verified"}}}}
  },
  "components": {
    "headers": {"Loc": {"required": true, "schema": {"type": "string", "format": "uri"}}},
    "responses": {"Err": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Err"}}}}},
    "schemas": {
      "New": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
      "Err": {"type": "object", "required": ["status"], "properties": {"status": {"type": "integer"}}, "additionalProperties": false}
    }
  }
}`

func pathsSpec(t *testing.T) *Spec {
	t.Helper()
	s, err := newSpec([]byte(pathsDoc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

var jsonCT = hdr("Content-Type", "application/json")

func TestFindOperation(t *testing.T) {
	s := pathsSpec(t)
	for _, tc := range []struct {
		method, path string
		want         string // template, or "!" + error substring
	}{
		{"GET", "/me/v1/items", "/items"},
		{"get", "/me/items", "/items"},
		{"GET", "/me/v1/items?type=x", "/items"},
		{"GET", "/me/v1/items/special", "/items/special"},
		{"GET", "/me/v1/items/special2", "/items/{id}"},
		{"GET", "/me/v1/items/passkey%7Cdev_abc", "/items/{id}"},
		{"GET", "/me/v1/items/passkey|dev_abc", "/items/{id}"},
		{"POST", "/me/v1/items/passkey%7Cnew/verify", "/items/{id}/verify"},
		{"GET", "/me/v1/items/a/parts/b.json", "/items/{id}/parts/{part}.json"},
		{"GET", "/me/v1/items/a/parts/b.xml", "!no path of the contract matches"},
		{"GET", "/me/v1/items/", "!no path of the contract matches"},
		{"GET", "/me/v1/items/a%ZZ", "!no path of the contract matches"},
		{"GET", "/me/v1/items/a/b", "!no path of the contract matches"},
		{"GET", "/me/v1/nothing", `!no path of the contract matches "/nothing"`},
		{"GET", "/v1/items", "!does not start with /me/v1/ or /me/"},
		{"GET", "/meitems", "!does not start with"},
		{"DELETE", "/me/v1/items", "!the contract has no DELETE operation for path /items (it has GET, POST)"},
	} {
		op, err := s.findOperation(tc.method, tc.path)
		if want, isErr := strings.CutPrefix(tc.want, "!"); isErr {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s %s: err = %v, want %q", tc.method, tc.path, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tc.method, tc.path, err)
			continue
		}
		if op.template != tc.want {
			t.Errorf("%s %s matched %s, want %s", tc.method, tc.path, op.template, tc.want)
		}
	}
}

func TestValidateResponseInline(t *testing.T) {
	s := pathsSpec(t)
	for _, tc := range []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         string
		want         []string
	}{
		{"ok", "GET", "/me/v1/items", 200, jsonCT, `[]`, nil},
		{"content-type params and case", "GET", "/me/v1/items", 200, hdr("content-type", "Application/JSON; charset=utf-8"), `[]`, nil},
		{"problem+json for json", "GET", "/me/v1/items", 404, hdr("Content-Type", "application/problem+json"), `{"status":404}`, nil},
		{"range response 4XX", "GET", "/me/v1/items", 400, jsonCT, `{"status":400,"x":1}`, []string{`(root): additional properties 'x' not allowed; schema #/components/schemas/Err/additionalProperties`, "#/components/schemas/Err/additionalProperties"}},
		{"default response", "GET", "/me/v1/items/a", 503, jsonCT, `{"status":503}`, nil},
		{"undocumented status", "GET", "/me/v1/items", 500, jsonCT, `{}`, []string{"status 500 is not documented for this operation (documented: 200, 4XX)"}},
		{"wrong media type", "GET", "/me/v1/items", 200, hdr("Content-Type", "text/html"), `[]`, []string{`header Content-Type: media type "text/html" is not one the response declares (application/json)`}},
		{"missing content-type", "GET", "/me/v1/items", 200, nil, `[]`, []string{"header Content-Type: missing"}},
		{"empty body where content declared", "GET", "/me/v1/items", 200, jsonCT, ``, []string{"body: not valid JSON: empty"}},
		{"invalid JSON", "GET", "/me/v1/items", 200, jsonCT, `[1,]`, []string{"body: not valid JSON"}},
		{"body schema", "GET", "/me/v1/items", 200, jsonCT, `{}`, []string{`(root): got object, want array; schema #/paths/~1items/get/responses/200/content/application~1json/schema/type`}},
		{"non-JSON media type body not parsed", "GET", "/me/v1/items/special", 200, hdr("Content-Type", "text/plain"), `hello`, nil},
		{"wildcard media type", "GET", "/me/v1/items/a/parts/b.json", 200, hdr("Content-Type", "image/png"), "\x89PNG", nil},
		{"required header present", "GET", "/me/v1/items/a", 200, hdr("Content-Type", "application/json", "X-Count", "3"), `{"id":"a"}`, nil},
		{"required header case-insensitive raw key", "GET", "/me/v1/items/a", 200, http.Header{"x-count": {"3"}, "Content-Type": {"application/json"}}, `{"id":"a"}`, nil},
		{"required header missing", "GET", "/me/v1/items/a", 200, jsonCT, `{"id":"a"}`, []string{"header x-count: missing required header; header #/paths/~1items~1{id}/get/responses/200/headers/x-count"}},
		{"numeric header not a number", "GET", "/me/v1/items/a", 200, hdr("Content-Type", "application/json", "X-Count", "many"), `{"id":"a"}`, []string{`header x-count: value "many" is not a number`}},
		{"numeric header schema", "GET", "/me/v1/items/a", 200, hdr("Content-Type", "application/json", "X-Count", "-1"), `{"id":"a"}`, []string{`header x-count: minimum: got -1, want 0; schema #/paths/~1items~1{id}/get/responses/200/headers/x-count/schema/minimum`}},
		{"numeric header integer", "GET", "/me/v1/items/a", 200, hdr("Content-Type", "application/json", "X-Count", "1.5"), `{"id":"a"}`, []string{`header x-count: got number, want integer; schema #/paths/~1items~1{id}/get/responses/200/headers/x-count/schema/type`}},
		{"several problems listed", "GET", "/me/v1/items/a", 200, jsonCT, `{}`, []string{"2 problems:", "header x-count: missing required header", `(root): missing property 'id'; schema #/paths/~1items~1{id}/get/responses/200/content/application~1json/schema/required`}},
		{"201 with Location", "POST", "/me/v1/items", 201, hdr("Location", "https://a.example/me/v1/items/x%7Cy"), ``, nil},
		{"201 without Location", "POST", "/me/v1/items", 201, nil, ``, []string{"header Location: missing required header; header #/components/headers/Loc"}},
		{"Location not absolute", "POST", "/me/v1/items", 201, hdr("Location", "/me/v1/items/x"), ``, []string{`header Location: '/me/v1/items/x' is not valid uri: not a valid absolute URI (RFC 3986); schema #/components/headers/Loc/schema/format`, "#/components/headers/Loc/schema/format"}},
		{"204 empty", "PATCH", "/me/v1/items/a", 204, nil, ``, nil},
		{"204 with body", "PATCH", "/me/v1/items/a", 204, jsonCT, `{}`, []string{"body: response declares no content, but the body has 2 bytes"}},
		{"unknown path", "GET", "/me/v1/other", 200, jsonCT, `[]`, []string{"no path of the contract matches"}},
		{"error names the request and template", "POST", "/me/v1/items/a%7Cb/verify", 204, nil, `x`, []string{"oascheck: POST /me/v1/items/a%7Cb/verify (POST /items/{id}/verify) -> 204: body: response declares no content"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ValidateResponse(tc.method, tc.path, tc.status, tc.header, []byte(tc.body))
			checkErr(t, err, tc.want)
		})
	}
}

func TestValidateRequestBodyInline(t *testing.T) {
	s := pathsSpec(t)
	for _, tc := range []struct {
		name, method, path, body string
		want                     []string
	}{
		{"ok", "POST", "/me/v1/items", `{"name":"n"}`, nil},
		{"schema", "POST", "/me/v1/items", `{}`, []string{`(root): missing property 'name'; schema #/components/schemas/New/required`}},
		{"required but empty", "POST", "/me/v1/items", ``, []string{"body is empty but required"}},
		{"optional and empty", "PATCH", "/me/v1/items/a", ``, nil},
		{"extra member", "PATCH", "/me/v1/items/a", `{"name":"n","x":1}`, []string{`(root): additional properties 'x' not allowed; schema #/paths/~1items~1{id}/patch/requestBody/content/application~1json/schema/additionalProperties`}},
		{"no requestBody declared", "GET", "/me/v1/items", `{}`, []string{"declares no requestBody"}},
		{"no requestBody and no body", "GET", "/me/v1/items", ``, nil},
		{"invalid JSON", "POST", "/me/v1/items", `{"name":`, []string{"body: not valid JSON"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, s.ValidateRequestBody(tc.method, tc.path, []byte(tc.body)), tc.want)
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "absent.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(absent) = %v, want fs.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"openapi":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("Load(bad) = %v, want a parse error naming the file", err)
	}
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(pathsDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateResponse("GET", "/me/v1/items", 200, jsonCT, []byte(`[]`)); err != nil {
		t.Error(err)
	}
}
