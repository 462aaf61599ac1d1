package myaccount_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

func TestBadInputGetsAClearErrorAndChangesNothing(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	id := fmt.Sprint(h.enroll(alice, myaccounttest.NewAuthenticator())["id"])
	method := "/me/v1/authentication-methods/" + id
	enroll := "/me/v1/authentication-methods"
	verify := "/me/v1/authentication-methods/passkey%7Cnew/verify"
	huge := `{"type":"passkey","identity_user_id":"` + strings.Repeat("a", 70<<10) + `"}`
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, pointer      string
	}{
		{"malformed JSON", "POST", enroll, `{"type":`, 400, "A0E-400-0003", ""},
		{"not an object", "POST", enroll, `["passkey"]`, 400, "A0E-400-0003", ""},
		{"null body", "POST", enroll, `null`, 400, "A0E-400-0003", ""},
		{"missing type", "POST", enroll, `{}`, 400, "A0E-400-0003", "/type"},
		{"type is a number", "POST", enroll, `{"type":7}`, 400, "A0E-400-0003", "/type"},
		{"type is null", "POST", enroll, `{"type":null}`, 400, "A0E-400-0003", "/type"},
		{"type not offered", "POST", enroll, `{"type":"push-notification"}`, 400, "A0E-400-0003", "/type"},
		{"unknown member", "POST", enroll, `{"type":"passkey","admin":true}`, 400, "A0E-400-0003", "/admin"},
		{"member with slash", "POST", enroll, `{"type":"passkey","a/b":1}`, 400, "A0E-400-0003", "/a~1b"},
		{"flag is a string", "POST", enroll, `{"type":"passkey","use_exclude_credentials":"yes"}`, 400, "A0E-400-0003", "/use_exclude_credentials"},
		{"huge body", "POST", enroll, huge, 413, "A0E-413-0001", ""},
		{"verify without session", "POST", verify, `{"authn_response":{}}`, 400, "A0E-400-0003", "/auth_session"},
		{"verify response not an object", "POST", verify, `{"auth_session":"x","authn_response":"abc"}`, 400, "A0E-400-0003", "/authn_response"},
		{"verify response missing members", "POST", verify, `{"auth_session":"x","authn_response":{"id":"a","rawId":"a","type":"public-key"}}`, 400, "A0E-400-0003", "/authn_response/response"},
		{"verify wrong credential type", "POST", verify, `{"auth_session":"x","authn_response":{"id":"a","rawId":"a","type":"password","response":{"attestationObject":"a","clientDataJSON":"a"}}}`, 400, "A0E-400-0003", "/authn_response/type"},
		{"verify unknown nested member", "POST", verify, `{"auth_session":"x","authn_response":{"id":"a","rawId":"a","type":"public-key","response":{"attestationObject":"a","clientDataJSON":"a","evil":1}}}`, 400, "A0E-400-0003", "/authn_response/response/evil"},
		{"verify an existing id", "POST", method + "/verify", `{"auth_session":"x","authn_response":{"id":"a","rawId":"a","type":"public-key","response":{"attestationObject":"a","clientDataJSON":"a"}}}`, 404, "A0E-404-0001", ""},
		{"rename to empty", "PATCH", method, `{"name":""}`, 400, "A0E-400-0003", "/name"},
		{"rename too long", "PATCH", method, `{"name":"` + strings.Repeat("é", 101) + `"}`, 400, "A0E-400-0003", "/name"},
		{"rename blank", "PATCH", method, `{"name":"   "}`, 400, "A0E-400-0003", "/name"},
		{"rename with control character", "PATCH", method, `{"name":"a\u0000b"}`, 400, "A0E-400-0003", "/name"},
		{"rename to a number", "PATCH", method, `{"name":5}`, 400, "A0E-400-0003", "/name"},
		{"empty patch", "PATCH", method, `{}`, 400, "A0E-400-0003", ""},
		{"phone-only member on a passkey", "PATCH", method, `{"preferred_authentication_method":"sms"}`, 400, "A0E-400-0003", "/preferred_authentication_method"},
		{"unknown patch member", "PATCH", method, `{"name":"x","key_id":"forged"}`, 400, "A0E-400-0003", "/key_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := wantError(t, h.do(c.method, c.path, alice, c.body), c.status, c.code)
			if c.pointer != "" {
				if !hasPointer(body, c.pointer) {
					t.Errorf("no validation error at %s: %v", c.pointer, body)
				}
			}
		})
	}
	// Nothing above changed the method.
	r := h.do("GET", method, alice, nil)
	if m := r.json(t); m["name"] != nil || m["id"] != id {
		t.Errorf("method changed: %s", r.body)
	}
	if n := len(h.do("GET", enroll, alice, nil).json(t)["authentication_methods"].([]any)); n != 1 {
		t.Errorf("%d methods, want 1", n)
	}
}

func hasPointer(body map[string]any, pointer string) bool {
	errs, _ := body["validation_errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["pointer"] == pointer {
			return true
		}
	}
	return false
}

func TestProtocolErrors(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")

	r := h.do("PUT", "/me/v1/authentication-methods", alice, map[string]any{"type": "passkey"})
	wantError(t, r, 405, "A0E-405-0001")
	if got := r.header.Get("Allow"); got != "GET, HEAD, POST" {
		t.Errorf("Allow %q", got)
	}
	r = h.do("POST", "/me/v1/factors", alice, map[string]any{})
	wantError(t, r, 405, "A0E-405-0001")
	if got := r.header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow %q", got)
	}
	for _, path := range []string{"/me/v1/nope", "/me/v2/factors", "/me/v1/authentication-methods/", "/me/v1/authentication-methods/a/b", "/other"} {
		wantError(t, h.do("GET", path, alice, nil), 404, "A0E-404-0000")
	}

	// POST and PATCH bodies must be JSON.
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/jsonx"} {
		req, _ := http.NewRequest("POST", h.server.URL+"/me/v1/authentication-methods", strings.NewReader(`{"type":"passkey"}`))
		req.Header.Set("Authorization", "Bearer "+alice)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		wantError(t, h.send(req), 415, "A0E-415-0001")
	}
	req, _ := http.NewRequest("POST", h.server.URL+"/me/v1/authentication-methods", strings.NewReader(`{"type":"passkey"}`))
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	wantStatus(t, h.send(req), 202)

	// HEAD answers like GET without a body.
	req, _ = http.NewRequest("HEAD", h.server.URL+"/me/v1/factors", nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	if r := h.send(req); r.status != 200 || len(r.body) != 0 {
		t.Errorf("HEAD: %d %q", r.status, r.body)
	}
}

// failingStore fails every call the way a backend that is down does.
type failingStore struct{ myaccount.Store }

var errDown = fmt.Errorf("%w: dial tcp 10.0.0.7:5432: connection refused (secret internals)", myaccount.ErrUnavailable)

func (failingStore) ListMethods(context.Context, string, string, string) ([]*myaccount.Method, error) {
	return nil, errDown
}

func (failingStore) GetMethod(context.Context, string, string, string) (*myaccount.Method, error) {
	return nil, errors.New("pq: relation methods does not exist (secret internals)")
}

func TestBackendFailuresDoNotLeak(t *testing.T) {
	var handled []error
	h := newHarness(t, func(c *myaccount.Config) {
		c.Store = failingStore{myaccount.NewMemoryStore()}
		c.SecretKeys = testKeys
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			handled = append(handled, err)
			myaccount.WriteError(w, r, err)
		}
	})
	alice := h.token("auth0|alice")
	r := h.do("GET", "/me/v1/authentication-methods", alice, nil)
	wantError(t, r, 503, "A0E-503-0001")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	r2 := h.do("GET", "/me/v1/authentication-methods/passkey|dev_AAAAAAAAAAAAAAAA", alice, nil)
	wantError(t, r2, 500, "A0E-500-0001")
	for _, body := range [][]byte{r.body, r2.body} {
		if strings.Contains(string(body), "secret") || strings.Contains(string(body), "10.0.0.7") {
			t.Errorf("internal error text leaked: %s", body)
		}
	}
	if len(handled) != 2 || !errors.Is(handled[0], myaccount.ErrUnavailable) {
		t.Errorf("ErrorHandler saw %v", handled)
	}
}

// errorPaths sends one request down each way an error is written: the router (404,
// 405), the token middleware (401), the scope check (403) and a handler (400).
func errorPaths(t *testing.T, h *harness) []*response {
	t.Helper()
	alice := h.token("auth0|alice")
	readOnly := h.issuer.Token(t, "auth0|alice", "read:me:authentication_methods")
	return []*response{
		h.do("GET", "/me/v1/nowhere", alice, nil),
		h.do("PUT", "/me/v1/factors", alice, nil),
		h.do("GET", "/me/v1/factors", "", nil),
		h.do("GET", "/me/v1/factors", readOnly, nil),
		h.do("POST", "/me/v1/authentication-methods", alice, `{"type":7}`),
	}
}

func TestErrorsAreJSONUnlessProblemJSONIsChosen(t *testing.T) {
	plain := newHarness(t)
	var viaHandler int
	custom := func(w http.ResponseWriter, r *http.Request, err error) {
		viaHandler++
		myaccount.WriteError(w, r, err)
	}
	opted := newHarness(t, func(c *myaccount.Config) { c.ProblemJSON = true; c.ErrorHandler = custom })
	want := errorPaths(t, plain)
	got := errorPaths(t, opted)
	for i := range want {
		if ct := want[i].header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("default error %d: Content-Type %q, want application/json", want[i].status, ct)
		}
		if ct := got[i].header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("opted-in error %d: Content-Type %q, want application/problem+json", got[i].status, ct)
		}
		if got[i].status != want[i].status || !bytes.Equal(got[i].body, want[i].body) {
			t.Errorf("opting in changed the error: %d %s, was %d %s", got[i].status, got[i].body, want[i].status, want[i].body)
		}
	}
	if viaHandler != len(got) {
		t.Errorf("the custom ErrorHandler wrote %d of %d errors", viaHandler, len(got))
	}
}

func TestMiddlewareAloneServesErrorsAsJSON(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	app := func(cfg myaccount.Config) *httptest.Server {
		cfg.Issuer, cfg.Token.Keyfunc = iss.Issuer, iss.Keyfunc
		v, err := myaccount.NewTokenValidator(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(v.Close)
		ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
		srv := httptest.NewServer(v.Authenticate(myaccount.RequireAudience("https://shop.example/api")(myaccount.RequireScope("read:orders")(ok))))
		t.Cleanup(srv.Close)
		return srv
	}
	noScope := iss.TokenWith(t, "auth0|alice", []string{"write:orders"}, myaccounttest.WithAudience("https://shop.example/api"))
	wrongAudience := iss.Token(t, "auth0|alice", "read:orders")
	for _, c := range []struct {
		name string
		cfg  myaccount.Config
		want string
	}{
		{"default", myaccount.Config{}, "application/json"},
		{"opted in", myaccount.Config{ProblemJSON: true}, "application/problem+json"},
		{"opted in, custom handler", myaccount.Config{ProblemJSON: true, ErrorHandler: myaccount.WriteError}, "application/problem+json"},
	} {
		srv := app(c.cfg)
		for token, status := range map[string]int{"": 401, "not-a-jwt": 401, wrongAudience: 401, noScope: 403} {
			req, _ := http.NewRequest("GET", srv.URL+"/orders", nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != status || err != nil || body["status"] != float64(status) || body["type"] == nil {
				t.Errorf("%s: status %d, body %v (%v), want %d with the error body", c.name, resp.StatusCode, body, err, status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != c.want {
				t.Errorf("%s: %d error with Content-Type %q, want %q", c.name, status, ct, c.want)
			}
		}
	}
}
