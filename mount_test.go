package myaccount_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// The setup a newcomer writes first: an issuer, New with the issuer alone and
// an authenticator with its defaults. With a loopback issuer the relying party
// id and origin default to what the authenticator reports by default.
func TestLoopbackDefaultsEnrollAPasskey(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	api, err := myaccount.New(myaccount.Config{Issuer: iss.Issuer})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	srv := httptest.NewServer(api)
	defer srv.Close()

	c := client{t: t, base: srv.URL, token: iss.Token(t, "auth0|alice", myaccount.AllScopes()...)}
	location, method := c.enroll("/me/v1/authentication-methods", myaccounttest.NewAuthenticator())
	if method["type"] != "passkey" || !strings.HasPrefix(location, srv.URL+"/me/v1/authentication-methods/passkey%7C") {
		t.Errorf("enrolled %v at %s", method, location)
	}
}

// Mounted under /api with BasePath, the API answers there and only there, and
// every Location it sends is under /api/me/.
func TestBasePathMountsUnderAPrefix(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	api, err := myaccount.New(myaccount.Config{Issuer: iss.Issuer, BasePath: "/api"})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	mux := http.NewServeMux()
	mux.Handle("/api/me/", api)
	mux.Handle("/me/", api) // a path outside BasePath reaching the API is refused
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c := client{t: t, base: srv.URL, token: iss.Token(t, "auth0|alice", myaccount.AllScopes()...)}
	location, _ := c.enroll("/api/me/authentication-methods", myaccounttest.NewAuthenticator())
	if !strings.HasPrefix(location, srv.URL+"/api/me/v1/authentication-methods/passkey%7C") {
		t.Fatalf("Location %s is not under /api/me/v1/", location)
	}
	if status, _, body := c.do("GET", strings.TrimPrefix(location, srv.URL), nil); status != http.StatusOK {
		t.Errorf("GET Location: %d %s", status, body)
	}
	if status, _, _ := c.do("GET", "/me/v1/factors", nil); status != http.StatusNotFound {
		t.Errorf("GET /me/v1/factors outside BasePath: %d, want 404", status)
	}
}

// Registered route by route in a ServeMux next to the app's own /me/profile,
// the routes serve the enrollment cycle and ids sent raw or escaped.
func TestRoutesRegisterOneByOne(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	api, err := myaccount.New(myaccount.Config{Issuer: iss.Issuer, BasePath: "/api", CORS: myaccount.CORSConfig{Origins: []string{"https://app.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	mux := http.NewServeMux()
	patterns := map[string]bool{}
	for _, r := range api.Routes() {
		mux.Handle(r.Method+" "+r.Pattern, r.Handler)
		patterns[r.Method+" "+r.Pattern] = true
	}
	for _, want := range []string{
		"GET /api/me/v1/factors", "GET /api/me/factors", "POST /api/me/v1/authentication-methods",
		"GET /api/me/v1/authentication-methods/{id}", "PATCH /api/me/authentication-methods/{id}",
		"DELETE /api/me/v1/authentication-methods/{id}", "POST /api/me/v1/authentication-methods/{id}/verify",
		"OPTIONS /api/me/v1/authentication-methods/{id}",
	} {
		if !patterns[want] {
			t.Errorf("Routes lacks %s", want)
		}
	}
	mux.HandleFunc("GET /api/me/profile", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "profile") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c := client{t: t, base: srv.URL, token: iss.Token(t, "auth0|alice", myaccount.AllScopes()...)}
	location, method := c.enroll("/api/me/v1/authentication-methods", myaccounttest.NewAuthenticator())
	id := method["id"].(string)
	if location != srv.URL+"/api/me/v1/authentication-methods/"+strings.ReplaceAll(id, "|", "%7C") {
		t.Errorf("Location %s for id %s", location, id)
	}
	for _, path := range []string{"/api/me/v1/authentication-methods/" + id, "/api/me/authentication-methods/" + strings.ReplaceAll(id, "|", "%7C")} {
		if status, _, body := c.do("GET", path, nil); status != http.StatusOK || !strings.Contains(string(body), id) {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}
	if status, _, body := c.do("GET", "/api/me/profile", nil); status != http.StatusOK || string(body) != "profile" {
		t.Errorf("app route: %d %s", status, body)
	}

	// A route's handler serves its own path only, whatever a router sends it.
	var factors myaccount.Route
	for _, r := range api.Routes() {
		if r.Method == "GET" && r.Pattern == "/api/me/v1/factors" {
			factors = r
		}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/me/v1/authentication-methods", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	factors.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("%s %s served %s: %d", factors.Method, factors.Pattern, req.URL.Path, rec.Code)
	}
}

func TestBadBasePath(t *testing.T) {
	for _, base := range []string{"api", "/a b", "/a%2Fb", "/a//b", "/a/../b", "/a;b"} {
		api, err := myaccount.New(myaccount.Config{Domain: "tenant.example.com", BasePath: base})
		if err == nil {
			api.Close()
			t.Errorf("New accepted BasePath %q", base)
		}
	}
}

// client calls an API server with a bearer token.
type client struct {
	t     *testing.T
	base  string
	token string
}

// do sends body as JSON (none when nil) and returns the status, Location and body.
func (c client) do(method, path string, body any) (status int, location string, data []byte) {
	c.t.Helper()
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, reader)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if data, err = io.ReadAll(resp.Body); err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), data
}

// enroll starts a passkey enrollment at collection, has a answer the options
// with its default origin, verifies at the 202's Location + "/verify" and
// returns the 201's Location and body.
func (c client) enroll(collection string, a *myaccounttest.Authenticator) (location string, method map[string]any) {
	c.t.Helper()
	status, pending, body := c.do("POST", collection, map[string]any{"type": "passkey"})
	if status != http.StatusAccepted {
		c.t.Fatalf("POST %s: %d %s", collection, status, body)
	}
	var started struct {
		AuthSession string          `json:"auth_session"`
		Options     json.RawMessage `json:"authn_params_public_key"`
	}
	if err := json.Unmarshal(body, &started); err != nil {
		c.t.Fatal(err)
	}
	attestation, err := a.Create(started.Options, "")
	if err != nil {
		c.t.Fatalf("authenticator: %v", err)
	}
	verify := strings.TrimPrefix(pending, c.base) + "/verify"
	status, location, body = c.do("POST", verify, map[string]any{"auth_session": started.AuthSession, "authn_response": json.RawMessage(attestation)})
	if status != http.StatusCreated {
		c.t.Fatalf("POST %s: %d %s", verify, status, body)
	}
	if err := json.Unmarshal(body, &method); err != nil {
		c.t.Fatal(err)
	}
	return location, method
}
