// Package flowtest drives an example app the way a client of it would: a
// passkey enrollment through the My Account API, its method ids sent with a
// raw "|" and as "%7C", a CORS preflight from a browser app, and the app's own
// route protected by the API's token checks for the app's own audience. Every
// example runs it, so each router is held to the same behaviour.
package flowtest

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
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// ProfileScope is the scope an example's GET /me/profile requires.
const ProfileScope = "read:profile"

// AppAudience is the audience of the app's own API, which its GET /me/profile
// requires: a token for the My Account API is not one for the app.
const AppAudience = "https://app.example.com/api/"

// AppOrigin is the browser app allowed to call the API cross-origin.
const AppOrigin = "https://spa.example.com"

// Run builds the app with newApp around an API on a test issuer and checks
// it. The app must serve the API's routes and GET /me/profile, answering
// "profile of {sub}" to a token for the audience it is given with
// [ProfileScope].
func Run(t *testing.T, newApp func(api *myaccount.API, audience string) http.Handler) {
	iss := myaccounttest.NewIssuer(t)
	api, err := myaccount.New(myaccount.Config{Issuer: iss.Issuer, CORS: myaccount.CORSConfig{Origins: []string{AppOrigin}},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	srv := httptest.NewServer(newApp(api, AppAudience))
	t.Cleanup(srv.Close)
	c := client{t: t, base: srv.URL, token: iss.Token(t, "auth0|alice", myaccount.AllScopes()...)}

	// The enrollment cycle.
	status, pending, body := c.do("POST", "/me/v1/authentication-methods", `{"type":"passkey"}`)
	if status != http.StatusAccepted || pending != srv.URL+"/me/v1/authentication-methods/passkey%7Cnew" {
		t.Fatalf("enroll: %d %s %s", status, pending, body)
	}
	var started struct {
		AuthSession string          `json:"auth_session"`
		Options     json.RawMessage `json:"authn_params_public_key"`
	}
	if err := json.Unmarshal(body, &started); err != nil {
		t.Fatal(err)
	}
	credential, err := myaccounttest.NewAuthenticator().Create(started.Options, "")
	if err != nil {
		t.Fatal(err)
	}
	verify, _ := json.Marshal(map[string]any{"auth_session": started.AuthSession, "authn_response": json.RawMessage(credential)})
	status, location, body := c.do("POST", strings.TrimPrefix(pending, srv.URL)+"/verify", string(verify))
	var method struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &method); status != http.StatusCreated || err != nil || !strings.HasPrefix(method.ID, "passkey|") {
		t.Fatalf("verify: %d %s", status, body)
	}
	escaped := strings.ReplaceAll(method.ID, "|", "%7C")
	if location != srv.URL+"/me/v1/authentication-methods/"+escaped {
		t.Errorf("Location %s for %s", location, method.ID)
	}

	// Ids with a raw "|" and with "%7C", under /me/v1/ and /me/.
	for _, path := range []string{"/me/v1/authentication-methods/" + method.ID, "/me/authentication-methods/" + escaped} {
		if status, _, body := c.do("GET", path, ""); status != http.StatusOK || !bytes.Contains(body, []byte(method.ID)) {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}
	if status, _, body := c.do("PATCH", "/me/v1/authentication-methods/"+escaped, `{"name":"Laptop"}`); status != http.StatusOK || !bytes.Contains(body, []byte(`"Laptop"`)) {
		t.Errorf("PATCH: %d %s", status, body)
	}
	if status, _, body := c.do("DELETE", "/me/v1/authentication-methods/"+method.ID, ""); status != http.StatusNoContent {
		t.Errorf("DELETE: %d %s", status, body)
	}
	if status, _, _ := c.do("GET", "/me/v1/authentication-methods/"+escaped, ""); status != http.StatusNotFound {
		t.Errorf("GET after DELETE: %d", status)
	}
	if status, _, body := c.do("GET", "/me/factors", ""); status != http.StatusOK {
		t.Errorf("GET /me/factors: %d %s", status, body)
	}

	// A browser app's preflight, as the router passes OPTIONS to the API.
	preflight(t, srv.URL)

	// The app's own route, behind the same token checks, for its own audience:
	// a token for the My Account API (iss.Audience) is valid but not the app's.
	forApp := myaccounttest.WithAudience(AppAudience)
	for _, tc := range []struct {
		token  string
		status int
		body   string
	}{
		{"", http.StatusUnauthorized, ""},
		{iss.TokenWith(t, "auth0|alice", []string{ProfileScope}), http.StatusUnauthorized, ""},
		{iss.TokenWith(t, "auth0|alice", []string{"read:orders"}, forApp), http.StatusForbidden, ""},
		{iss.TokenWith(t, "auth0|alice", []string{ProfileScope}, forApp), http.StatusOK, "profile of auth0|alice"},
	} {
		c.token = tc.token
		status, _, body := c.do("GET", "/me/profile", "")
		reached := bytes.Contains(body, []byte("profile of"))
		if status != tc.status || (tc.body != "" && string(body) != tc.body) || (tc.body == "" && reached) {
			t.Errorf("GET /me/profile: %d %s, want %d %s", status, body, tc.status, tc.body)
		}
	}
}

// preflight sends the CORS preflight of an enrollment from AppOrigin, and from
// an origin not allowed, to the app.
func preflight(t *testing.T, base string) {
	t.Helper()
	for _, tc := range []struct {
		origin, allowed string
	}{{AppOrigin, AppOrigin}, {"https://evil.example", ""}} {
		req, _ := http.NewRequest(http.MethodOptions, base+"/me/v1/authentication-methods", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode >= 300 || h.Get("Access-Control-Allow-Origin") != tc.allowed {
			t.Errorf("preflight from %s: %d, Access-Control-Allow-Origin %q, want %q", tc.origin, resp.StatusCode,
				h.Get("Access-Control-Allow-Origin"), tc.allowed)
		}
		if tc.allowed != "" && (!strings.Contains(h.Get("Access-Control-Allow-Methods"), http.MethodPost) ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization")) {
			t.Errorf("preflight from %s: headers %v", tc.origin, h)
		}
	}
}

// client calls the app with a bearer token (none when empty).
type client struct {
	t     *testing.T
	base  string
	token string
}

// do sends body as JSON (none when empty) and returns the status, the
// Location header and the body.
func (c client) do(method, path, body string) (int, string, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	// Sent as written: Go would otherwise escape a raw "|" to %7C.
	req.URL.Opaque = path
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), data
}
