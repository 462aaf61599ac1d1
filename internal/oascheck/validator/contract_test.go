package main

import (
	"encoding/json"
	"net/http"
	"testing"
)

// These tests run the checker against the real contract file (skipped when it is
// absent, unless CI=true). Every instance below is written by hand for the test.

// passkey returns a hand-written passkey method; edit adjusts it before encoding.
func passkey(edit func(m map[string]any)) map[string]any {
	m := map[string]any{
		"id":                     "passkey|dev_Q3kR8sLm2PzX7vNc",
		"type":                   "passkey",
		"credential_device_type": "multi_device",
		"credential_backed_up":   true,
		"identity_user_id":       "auth0|user-1",
		"key_id":                 "a2V5LWlkLWZvci10ZXN0cw",
		"public_key":             "cHVibGljLWtleS1ieXRlcw==",
		"user_handle":            "dXNlci1oYW5kbGUtMQ",
		"aaguid":                 "00000000-0000-0000-0000-000000000000",
		"relying_party_id":       "login.example.test",
		"transports":             []any{"internal", "hybrid"},
		"user_agent":             "Go test",
		"usage":                  []any{"primary"},
		"created_at":             "2025-06-01T08:09:10.123Z",
	}
	if edit != nil {
		edit(m)
	}
	return m
}

func enrollment(edit func(m map[string]any)) map[string]any {
	opts := map[string]any{
		"challenge": "Y2hhbGxlbmdlLWJ5dGVzLWZvci10ZXN0",
		"rp":        map[string]any{"id": "login.example.test", "name": "Example"},
		"user":      map[string]any{"id": "dXNlci1oYW5kbGUtMQ", "name": "someone@example.test", "displayName": "Someone"},
		"pubKeyCredParams": []any{
			map[string]any{"type": "public-key", "alg": -8},
			map[string]any{"type": "public-key", "alg": -7},
			map[string]any{"type": "public-key", "alg": -257},
		},
		"authenticatorSelection": map[string]any{"residentKey": "required", "userVerification": "preferred"},
		"timeout":                300000,
		"excludeCredentials":     []any{map[string]any{"type": "public-key", "id": "a2V5LWlkLWZvci10ZXN0cw", "transports": []any{"internal"}}},
	}
	m := map[string]any{"auth_session": "c2Vzc2lvbi1oYW5kbGU", "authn_params_public_key": opts}
	if edit != nil {
		edit(m)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// okHeaders are the rate-limit headers every 2xx carries, plus a JSON content type.
func okHeaders(extra ...string) http.Header {
	h := hdr("Content-Type", "application/json", "X-RateLimit-Limit", "25", "X-RateLimit-Remaining", "24", "X-RateLimit-Reset", "1767225600")
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return h
}

func problemHeaders() http.Header {
	return hdr("Content-Type", "application/problem+json")
}

const problem404 = `{"type":"https://login.example.test/problems/A0E-404-0001","status":404,"title":"Not Found","detail":"The authentication method does not exist."}`

func TestContractResponses(t *testing.T) {
	s := ForTest(t)
	list := func(methods ...any) map[string]any { return map[string]any{"authentication_methods": methods} }
	const loc = "https://login.example.test/me/v1/authentication-methods/passkey%7Cdev_Q3kR8sLm2PzX7vNc"

	for _, tc := range []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         any // string, []byte or a value to encode
		want         []string
	}{
		{"passkey list", "GET", "/me/v1/authentication-methods", 200, okHeaders(), list(passkey(nil)), nil},
		{"empty list", "GET", "/me/v1/authentication-methods?type=passkey", 200, okHeaders(), `{"authentication_methods":[]}`, nil},
		{"unversioned path", "GET", "/me/authentication-methods", 200, okHeaders(), list(passkey(nil)), nil},
		{"passkey without optional members", "GET", "/me/v1/authentication-methods", 200, okHeaders(),
			list(passkey(func(m map[string]any) {
				for _, k := range []string{"aaguid", "relying_party_id", "transports", "user_agent"} {
					delete(m, k)
				}
			})), nil},
		{"passkey missing key_id", "GET", "/me/v1/authentication-methods", 200, okHeaders(),
			list(passkey(func(m map[string]any) { delete(m, "key_id") })),
			[]string{`/authentication_methods/0: missing property 'key_id'; schema #/components/schemas/AuthenticationMethodPasskey/allOf/1/required`}},
		{"passkey missing created_at", "GET", "/me/v1/authentication-methods", 200, okHeaders(),
			list(passkey(nil), passkey(func(m map[string]any) { delete(m, "created_at") })),
			[]string{`/authentication_methods/1: missing property 'created_at'; schema #/components/schemas/AuthenticationMethodBase/required`}},
		{"passkey bad created_at", "GET", "/me/v1/authentication-methods", 200, okHeaders(),
			list(passkey(func(m map[string]any) { m["created_at"] = "2025-06-01 08:09:10" })),
			[]string{`/authentication_methods/0/created_at: '2025-06-01 08:09:10' is not valid date-time: less than 20 characters long; schema #/components/schemas/AuthenticationMethodBase/properties/created_at/format`}},
		{"passkey bad device type", "GET", "/me/v1/authentication-methods", 200, okHeaders(),
			list(passkey(func(m map[string]any) { m["credential_device_type"] = "roaming" })),
			[]string{`/authentication_methods/0/credential_device_type: value must be one of 'multi_device', 'single_device'; schema #/components/schemas/CredentialDeviceTypeEnum/enum`}},
		{"list as bare array", "GET", "/me/v1/authentication-methods", 200, okHeaders(), []any{passkey(nil)},
			[]string{`(root): got array, want object; schema #/components/schemas/ListAuthenticationMethodsResponseContent/type`}},
		{"list missing rate-limit header", "GET", "/me/v1/authentication-methods", 200,
			hdr("Content-Type", "application/json", "X-RateLimit-Limit", "25", "X-RateLimit-Reset", "1767225600"), list(),
			[]string{"header x-ratelimit-remaining: missing required header; header #/components/headers/XRateLimitRemainingHeader"}},
		{"rate-limit header not a number", "GET", "/me/v1/authentication-methods", 200, okHeaders("X-RateLimit-Limit", "lots"), list(),
			[]string{`header x-ratelimit-limit: value "lots" is not a number`}},
		{"get one, %7C-encoded id", "GET", "/me/v1/authentication-methods/passkey%7Cdev_Q3kR8sLm2PzX7vNc", 200, okHeaders(), passkey(nil), nil},
		{"get one, raw | id", "GET", "/me/v1/authentication-methods/passkey|dev_Q3kR8sLm2PzX7vNc", 200, okHeaders(), passkey(nil), nil},
		{"not found, problem+json", "GET", "/me/v1/authentication-methods/passkey%7Cdev_nope", 404, problemHeaders(), problem404, nil},
		{"not found, application/json", "GET", "/me/v1/authentication-methods/passkey%7Cdev_nope", 404, hdr("Content-Type", "application/json"), problem404, nil},
		{"error with an extra member", "GET", "/me/v1/authentication-methods/passkey%7Cdev_nope", 404, problemHeaders(),
			`{"type":"t","status":404,"title":"Not Found","detail":"d","stack":"main.go:12"}`,
			[]string{`(root): additional properties 'stack' not allowed; schema #/components/schemas/ErrorResponse/additionalProperties`}},
		{"error missing title", "GET", "/me/v1/authentication-methods/passkey%7Cdev_nope", 404, problemHeaders(),
			`{"type":"t","status":404,"detail":"d"}`, []string{`(root): missing property 'title'; schema #/components/schemas/ErrorResponse/required`}},
		{"validation error", "POST", "/me/v1/authentication-methods", 400, problemHeaders(),
			`{"type":"https://login.example.test/problems/A0E-400-0003","status":400,"title":"Bad Request","detail":"Invalid request body.",
			  "validation_errors":[{"detail":"must be one of the supported types","field":"type","pointer":"/type","source":"body"}]}`, nil},
		{"validation error with extra member", "POST", "/me/v1/authentication-methods", 400, problemHeaders(),
			`{"type":"t","status":400,"title":"Bad Request","detail":"d","validation_errors":[{"detail":"x","code":"y"}]}`,
			[]string{`/validation_errors/0: additional properties 'code' not allowed; schema #/components/schemas/ValidationError/additionalProperties`}},
		{"unauthorized", "GET", "/me/v1/factors", 401, problemHeaders(),
			`{"type":"t","status":401,"title":"Unauthorized","detail":"Missing or invalid token."}`, nil},
		{"error body as text", "GET", "/me/v1/factors", 401, hdr("Content-Type", "text/plain"), `Unauthorized`,
			[]string{`header Content-Type: media type "text/plain" is not one the response declares (application/json)`}},
		{"429 with all headers", "GET", "/me/v1/factors", 429,
			hdr("Content-Type", "application/problem+json", "Retry-After", "1", "X-RateLimit-Limit", "25", "X-RateLimit-Remaining", "0",
				"X-RateLimit-Reset", "1767225600", "X-Auth0-Error-Kind", "global-rate-limit"),
			`{"type":"t","status":429,"title":"Too Many Requests","detail":"d"}`, nil},
		{"429 without Retry-After, bad error kind", "GET", "/me/v1/factors", 429,
			hdr("Content-Type", "application/problem+json", "X-RateLimit-Limit", "25", "X-RateLimit-Remaining", "0",
				"X-RateLimit-Reset", "1767225600", "X-Auth0-Error-Kind", "user"),
			`{"type":"t","status":429,"title":"Too Many Requests","detail":"d"}`,
			[]string{"header retry-after: missing required header", `header x-auth0-error-kind: value must be 'global-rate-limit'; schema #/components/headers/XAuth0ErrorKindHeader/schema/const`}},
		{"factors", "GET", "/me/v1/factors", 200, okHeaders(), `{"factors":[{"type":"passkey","usage":["primary"]}]}`, nil},
		{"factors unknown type", "GET", "/me/v1/factors", 200, okHeaders(), `{"factors":[{"type":"magic"}]}`,
			[]string{`/factors/0/type: value must be one of 'password', 'passkey', 'webauthn-platform', 'webauthn-roaming', 'totp', 'phone', 'email', 'push-notification', 'recovery-code'; schema #/components/schemas/FactorTypeEnum/enum`}},
		{"enrollment 202", "POST", "/me/v1/authentication-methods", 202,
			okHeaders("Location", "https://login.example.test/me/v1/authentication-methods/passkey%7Cnew"), enrollment(nil), nil},
		{"enrollment with extra authenticatorSelection member", "POST", "/me/v1/authentication-methods", 202,
			okHeaders("Location", "https://login.example.test/me/v1/authentication-methods/passkey%7Cnew"),
			enrollment(func(m map[string]any) {
				m["authn_params_public_key"].(map[string]any)["authenticatorSelection"].(map[string]any)["requireResidentKey"] = true
			}),
			[]string{`/authn_params_public_key/authenticatorSelection: additional properties 'requireResidentKey' not allowed; schema #/components/schemas/AuthenticatorSelection/additionalProperties`,
				`/authn_params_public_key/authenticatorSelection: additional properties 'requireResidentKey' not allowed; schema #/components/schemas/AuthenticatorSelection/additionalProperties`}},
		{"enrollment residentKey preferred", "POST", "/me/v1/authentication-methods", 202,
			okHeaders("Location", "https://login.example.test/me/v1/authentication-methods/passkey%7Cnew"),
			enrollment(func(m map[string]any) {
				m["authn_params_public_key"].(map[string]any)["authenticatorSelection"].(map[string]any)["residentKey"] = "preferred"
			}),
			[]string{`/authn_params_public_key/authenticatorSelection/residentKey: value must be 'required'; schema #/components/schemas/ResidentKeyEnum/enum`}},
		{"enrollment without Location", "POST", "/me/v1/authentication-methods", 202, okHeaders(), enrollment(nil),
			[]string{"header Location: missing required header"}},
		{"enrollment with relative Location", "POST", "/me/v1/authentication-methods", 202,
			okHeaders("Location", "/me/v1/authentication-methods/passkey%7Cnew"), enrollment(nil),
			[]string{`header Location: '/me/v1/authentication-methods/passkey%7Cnew' is not valid uri: not a valid absolute URI (RFC 3986); schema #/components/headers/LocationHeader/schema/format`}},
		{"verify 201", "POST", "/me/v1/authentication-methods/passkey%7Cnew/verify", 201, okHeaders("Location", loc), passkey(nil), nil},
		{"verify 201 raw | path", "POST", "/me/v1/authentication-methods/passkey|new/verify", 201, okHeaders("Location", loc), passkey(nil), nil},
		{"verify 201 without Location", "POST", "/me/v1/authentication-methods/passkey%7Cnew/verify", 201, okHeaders(), passkey(nil),
			[]string{"header Location: missing required header; header #/components/headers/LocationHeader"}},
		{"verify 201 with raw | in Location", "POST", "/me/v1/authentication-methods/passkey%7Cnew/verify", 201,
			okHeaders("Location", "https://login.example.test/me/v1/authentication-methods/passkey|dev_Q3kR8sLm2PzX7vNc"), passkey(nil),
			[]string{"header Location:", "not a valid absolute URI"}},
		{"patch 200", "PATCH", "/me/v1/authentication-methods/passkey%7Cdev_Q3kR8sLm2PzX7vNc", 200, okHeaders(),
			passkey(func(m map[string]any) { m["name"] = "My laptop" }), nil},
		{"delete 204", "DELETE", "/me/v1/authentication-methods/passkey%7Cdev_Q3kR8sLm2PzX7vNc", 204,
			hdr("X-RateLimit-Limit", "25", "X-RateLimit-Remaining", "24", "X-RateLimit-Reset", "1767225600"), "", nil},
		{"delete 204 with a body", "DELETE", "/me/v1/authentication-methods/passkey%7Cdev_Q3kR8sLm2PzX7vNc", 204, okHeaders(), `{}`,
			[]string{"body: response declares no content, but the body has 2 bytes"}},
		{"undocumented status", "GET", "/me/v1/authentication-methods", 500, problemHeaders(),
			`{"type":"t","status":500,"title":"Internal Server Error","detail":"d"}`,
			[]string{"status 500 is not documented for this operation (documented: 200, 400, 401, 403, 429)"}},
		{"unknown path", "GET", "/me/v1/passkeys", 200, okHeaders(), `{}`, []string{"no path of the contract matches \"/passkeys\""}},
		{"unknown method", "PUT", "/me/v1/authentication-methods", 200, okHeaders(), `{}`,
			[]string{"the contract has no PUT operation for path /authentication-methods (it has GET, POST)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			switch b := tc.body.(type) {
			case string:
				body = []byte(b)
			case []byte:
				body = b
			default:
				body = mustJSON(t, b)
			}
			err := s.ValidateResponse(tc.method, tc.path, tc.status, tc.header, body)
			checkErr(t, err, tc.want)
		})
	}
}

func TestContractRequestBodies(t *testing.T) {
	s := ForTest(t)
	attestation := func(extraResponse map[string]any) map[string]any {
		resp := map[string]any{"attestationObject": "o2NmbXRkbm9uZQ", "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0"}
		for k, v := range extraResponse {
			resp[k] = v
		}
		return map[string]any{
			"auth_session": "c2Vzc2lvbi1oYW5kbGU",
			"authn_response": map[string]any{
				"id": "a2V5LWlk", "rawId": "a2V5LWlk", "type": "public-key", "response": resp,
				"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
			},
		}
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               []string
	}{
		{"enroll passkey", "POST", "/me/v1/authentication-methods", `{"type":"passkey"}`, nil},
		{"enroll passkey with options", "POST", "/me/v1/authentication-methods",
			`{"type":"passkey","connection":"Username-Password-Authentication","identity_user_id":"auth0|user-1","use_exclude_credentials":true}`, nil},
		{"enroll passkey bad connection", "POST", "/me/v1/authentication-methods", `{"type":"passkey","connection":"not a name!"}`,
			[]string{`/connection: 'not a name!' does not match pattern '^[a-zA-Z0-9-]+$'; schema #/components/schemas/Connection/pattern`, "#/components/schemas/Connection/pattern"}},
		{"enroll unknown type", "POST", "/me/v1/authentication-methods", `{"type":"carrier-pigeon"}`,
			[]string{`/type: value must be 'passkey'; schema #/components/schemas/CreatePasskeyAuthenticationMethod/allOf/1/properties/type/const`}},
		{"verify passkey", "POST", "/me/v1/authentication-methods/passkey%7Cnew/verify", attestation(nil), nil},
		{"verify passkey with transports", "POST", "/me/v1/authentication-methods/passkey%7Cnew/verify",
			attestation(map[string]any{"transports": []any{"internal"}}), nil},
		// A browser's toJSON() adds these; the contract's schema does not allow them.
		{"verify passkey with toJSON extras", "POST", "/me/v1/authentication-methods/passkey%7Cnew/verify",
			attestation(map[string]any{"authenticatorData": "x", "publicKey": "y", "publicKeyAlgorithm": -7}),
			[]string{"/authn_response/response: additional properties ", "'authenticatorData'", "'publicKey'", "'publicKeyAlgorithm'",
				"not allowed; schema #/components/schemas/AuthenticatorAttestationResponseData/additionalProperties"}},
		{"rename", "PATCH", "/me/v1/authentication-methods/passkey%7Cdev_Q3kR8sLm2PzX7vNc", `{"name":"My laptop"}`, nil},
		{"rename with unknown member", "PATCH", "/me/v1/authentication-methods/passkey%7Cdev_Q3kR8sLm2PzX7vNc", `{"name":"x","color":"red"}`,
			[]string{`(root): additional properties 'color' not allowed; schema #/components/schemas/UpdateAuthenticationMethodRequestContent/additionalProperties`}},
		{"delete has no body", "DELETE", "/me/v1/authentication-methods/passkey%7Cdev_Q3kR8sLm2PzX7vNc", `{}`,
			[]string{"declares no requestBody"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if b, ok := tc.body.(string); ok {
				body = []byte(b)
			} else {
				body = mustJSON(t, tc.body)
			}
			checkErr(t, s.ValidateRequestBody(tc.method, tc.path, body), tc.want)
		})
	}
}

// TestContractExamples validates every example the contract gives for a request or
// response body against that body's schema: the document's own data exercises the
// validator on every schema it uses.
func TestContractExamples(t *testing.T) {
	s := ForTest(t)
	checked := 0
	for _, pt := range s.paths {
		for _, m := range httpMethods {
			op, ok := pt.item[m].(map[string]any)
			if !ok {
				continue
			}
			opLoc := pt.loc + "/" + m
			var media []string
			if rb, ok := op["requestBody"].(map[string]any); ok {
				content, _ := rb["content"].(map[string]any)
				for mt := range content {
					media = append(media, opLoc+"/requestBody/content/"+escapePointerToken(mt))
				}
			}
			responses, _ := op["responses"].(map[string]any)
			for code, r := range responses {
				rv, rloc, err := s.deref(r, opLoc+"/responses/"+code)
				if err != nil {
					t.Fatal(err)
				}
				content, _ := rv.(map[string]any)["content"].(map[string]any)
				for mt := range content {
					media = append(media, rloc+"/content/"+escapePointerToken(mt))
				}
			}
			for _, loc := range media {
				mv, err := s.resolvePointer(loc)
				if err != nil {
					t.Fatal(err)
				}
				examples, _ := mv.(map[string]any)["examples"].(map[string]any)
				for _, name := range sortedKeys(examples) {
					ex, _, err := s.deref(examples[name], loc+"/examples/"+name)
					if err != nil {
						t.Fatal(err)
					}
					value, ok := ex.(map[string]any)["value"]
					if !ok {
						continue
					}
					checked++
					if issues := s.checkJSONBody(mv, loc, mustJSON(t, value)); len(issues) > 0 {
						t.Errorf("example %s/examples/%s: %v", loc, name, report("oascheck", issues))
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("the contract has no examples to check")
	}
	t.Logf("%d examples validated", checked)
}
