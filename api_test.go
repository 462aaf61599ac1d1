package myaccount_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/oascheck"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// allScopes lets a token do anything.
var allScopes = myaccount.AllScopes()

const testOrigin = "https://localhost"

// testKeys is a key ring for tests that bring their own Store.
var testKeys = [][]byte{[]byte("0123456789abcdef0123456789abcdef")}

// harness is an API behind a real HTTP server, with an issuer for its tokens and
// a software authenticator for its passkeys. Every response it sees is checked
// against what Auth0's SDK decoders need and, when the contract file is there
// (see oascheck.Locate), against Auth0's OpenAPI file.
type harness struct {
	t      *testing.T
	api    *myaccount.API
	server *httptest.Server
	issuer *myaccounttest.Issuer
	spec   *oascheck.Spec
	// errorType is the Content-Type every error response must have.
	errorType string
	// decoders checks every response against what Auth0's SDKs need to decode it.
	decoders oascheck.Decoders
	// attachmentHint is the deployment's WebAuthn.AttachmentHint: a departure
	// from the contract's AuthenticatorSelection that the deployment chose.
	attachmentHint bool
}

// newHarness starts an API whose rate limits are too high to trip (so their
// headers still show) unless configure sets them.
func newHarness(t *testing.T, configure ...func(*myaccount.Config)) *harness {
	t.Helper()
	iss := myaccounttest.NewIssuer(t)
	cfg := myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL()},
		WebAuthn:   myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{testOrigin}},
		Logger:     slog.New(slog.DiscardHandler),
		RateLimits: myaccount.RateLimitConfig{Tenant: myaccount.RateLimit{Rate: 1e6, Burst: 1e6}, User: myaccount.RateLimit{Rate: 1e6, Burst: 1e6}},
	}
	for _, f := range configure {
		f(&cfg)
	}
	api, err := myaccount.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(api.Close)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	errorType := "application/json"
	if cfg.ProblemJSON {
		errorType = "application/problem+json"
	}
	return &harness{t: t, api: api, server: srv, issuer: iss, spec: oascheck.ForTest(t), errorType: errorType,
		decoders: oascheck.Decoders{ProblemJSON: cfg.ProblemJSON}, attachmentHint: cfg.WebAuthn.AttachmentHint}
}

// token mints a token for subject with every scope.
func (h *harness) token(subject string) string {
	return h.issuer.Token(h.t, subject, allScopes...)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// do sends a request with a bearer token (none when token is "") and a JSON
// body (none when body is nil; a string or []byte is sent as is).
func (h *harness) do(method, path, token string, body any) *response {
	h.t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	case []byte:
		reader = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.server.URL+path, reader)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return h.send(req)
}

// send performs req and checks the response against the contract.
func (h *harness) send(req *http.Request) *response {
	h.t.Helper()
	resp, err := h.server.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	r := &response{status: resp.StatusCode, header: resp.Header, body: data}
	h.checkContract(req, r)
	return r
}

// checkContract validates a response against the OpenAPI operation and status, and
// against what Auth0's SDK decoders require of that operation and status.
// Statuses the file does not list for an operation (404 on an unknown path, 405,
// 409 on verify, 413, 503) are errors, whose body must still be an ErrorResponse.
func (h *harness) checkContract(req *http.Request, r *response) {
	h.t.Helper()
	if req.Method == http.MethodOptions {
		return
	}
	if ct := r.header.Get("Content-Type"); r.status >= 400 && ct != h.errorType {
		h.t.Errorf("%s %s → %d: error Content-Type %q, want %q", req.Method, req.URL.Path, r.status, ct, h.errorType)
	}
	if req.Method == http.MethodHead {
		return
	}
	if err := h.decoders.Check(req.Method, req.URL.EscapedPath(), r.status, r.header, r.body); err != nil {
		h.t.Errorf("%v\n%s", err, r.body)
	}
	if h.spec == nil {
		return
	}
	body := r.body
	if h.attachmentHint && r.status == http.StatusAccepted {
		body = withoutAttachmentHint(h.t, body)
	}
	err := h.spec.ValidateResponse(req.Method, req.URL.EscapedPath(), r.status, r.header, body)
	if err != nil && r.status >= 400 && !h.spec.Documents(req.Method, req.URL.EscapedPath(), r.status) {
		err = h.spec.ValidateSchema("#/components/schemas/ErrorResponse", r.body)
	}
	if err != nil {
		h.t.Errorf("%s %s → %d does not follow the contract: %v\n%s", req.Method, req.URL.Path, r.status, err, r.body)
	}
}

// withoutAttachmentHint removes authenticatorSelection.authenticatorAttachment
// from an enrollment's 202, so that the rest of a deployment's options that opted
// in to the hint is still held to the contract.
func withoutAttachmentHint(t *testing.T, body []byte) []byte {
	t.Helper()
	var reply map[string]json.RawMessage
	var options map[string]json.RawMessage
	var selection map[string]json.RawMessage
	if json.Unmarshal(body, &reply) != nil || json.Unmarshal(reply["authn_params_public_key"], &options) != nil ||
		json.Unmarshal(options["authenticatorSelection"], &selection) != nil || selection == nil {
		return body
	}
	delete(selection, "authenticatorAttachment")
	var err error
	options["authenticatorSelection"], err = json.Marshal(selection)
	if err == nil {
		reply["authn_params_public_key"], err = json.Marshal(options)
	}
	if err == nil {
		body, err = json.Marshal(reply)
	}
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// enrollment is the 202 answer of POST /authentication-methods.
type enrollment struct {
	AuthSession string          `json:"auth_session"`
	Options     json.RawMessage `json:"authn_params_public_key"`
}

// begin starts a passkey enrollment and requires a 202.
func (h *harness) begin(token string) enrollment {
	h.t.Helper()
	return h.beginWith(token, map[string]any{"type": "passkey"})
}

// beginWith starts a passkey enrollment with the body given and requires a 202.
func (h *harness) beginWith(token string, body map[string]any) enrollment {
	h.t.Helper()
	r := h.do("POST", "/me/v1/authentication-methods", token, body)
	if r.status != http.StatusAccepted {
		h.t.Fatalf("enroll: status %d: %s", r.status, r.body)
	}
	var e enrollment
	if err := json.Unmarshal(r.body, &e); err != nil {
		h.t.Fatal(err)
	}
	return e
}

// attest has the authenticator answer an enrollment's options.
func attest(t *testing.T, a *myaccounttest.Authenticator, e enrollment) json.RawMessage {
	t.Helper()
	resp, err := a.Create(e.Options, testOrigin)
	if err != nil {
		t.Fatalf("authenticator: %v", err)
	}
	return resp
}

func (h *harness) verify(token, authSession string, authnResponse json.RawMessage) *response {
	h.t.Helper()
	return h.do("POST", "/me/v1/authentication-methods/passkey%7Cnew/verify", token, map[string]any{
		"auth_session": authSession, "authn_response": authnResponse,
	})
}

// enroll runs the whole ceremony and returns the new method.
func (h *harness) enroll(token string, a *myaccounttest.Authenticator) map[string]any {
	h.t.Helper()
	e := h.begin(token)
	r := h.verify(token, e.AuthSession, attest(h.t, a, e))
	if r.status != http.StatusCreated {
		h.t.Fatalf("verify: status %d: %s", r.status, r.body)
	}
	return r.json(h.t)
}

func wantStatus(t *testing.T, r *response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

// wantError checks an error response's status and its problem code.
func wantError(t *testing.T, r *response, status int, code string) map[string]any {
	t.Helper()
	wantStatus(t, r, status)
	body := r.json(t)
	if got := body["type"]; got != "https://auth0.com/api-errors/"+code {
		t.Errorf("type %v, want code %s", got, code)
	}
	if got := body["status"]; got != float64(status) {
		t.Errorf("body status %v, want %d", got, status)
	}
	return body
}
