package auth0mgmt_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/oascheck"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// TestMountedAPI drives the core API with a Source on the fake tenant, as an
// app's user would: GET /me/v1/consents, /consents/{id} and /organizations
// with a bearer token whose subject is the Auth0 user id.
func TestMountedAPI(t *testing.T) {
	f := newFake(t)
	f.grants = []fakeGrant{
		{ID: "cgr_1", ClientID: "client-a", UserID: "auth0|alice", Audience: "https://api.example", Scope: []string{"read:tasks", "openid"}},
		{ID: "cgr_2", ClientID: "client-b", UserID: "auth0|alice"},
		{ID: "cgr_bob", ClientID: "client-a", UserID: "auth0|bob"},
	}
	f.orgs["auth0|alice"] = []fakeOrg{
		{ID: "org_1", Name: "acme", DisplayName: "Acme"}, {ID: "org_2", Name: "globex"}, {ID: "org_3", Name: "initech"},
	}
	src := f.source(t, 100)
	iss := myaccounttest.NewIssuer(t)
	api, err := myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL()},
		Logger:            slog.New(slog.DiscardHandler),
		ConnectedAccounts: myaccount.ConnectedAccountsConfig{Consents: src, Organizations: src},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	alice := iss.Token(t, "auth0|alice", "read:me:consents", "read:me:organizations")

	spec := oascheck.ForTest(t) // nil when the contract file is absent
	get := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+alice)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if spec != nil && resp.StatusCode == http.StatusOK {
			if err := spec.ValidateResponse(http.MethodGet, req.URL.EscapedPath(), resp.StatusCode, resp.Header, body); err != nil {
				t.Errorf("GET %s: not the OAS's body: %v", path, err)
			}
		}
		return resp.StatusCode, string(body)
	}
	errorType := func(body string) string {
		var e struct{ Type string }
		_ = json.Unmarshal([]byte(body), &e)
		return e.Type
	}
	for _, tc := range []struct{ path, want string }{
		{"/me/v1/consents", `{"consents":[` +
			`{"id":"cgr_1","client_id":"client-a","requested_details":{"audience":"https://api.example","scope":["read:tasks","openid"]},"created_at":"0001-01-01T00:00:00.000Z","expires_at":"0001-01-01T00:00:00.000Z"},` +
			`{"id":"cgr_2","client_id":"client-b","created_at":"0001-01-01T00:00:00.000Z","expires_at":"0001-01-01T00:00:00.000Z"}]}`},
		{"/me/v1/consents/cgr_2", `{"id":"cgr_2","client_id":"client-b","created_at":"0001-01-01T00:00:00.000Z","expires_at":"0001-01-01T00:00:00.000Z"}`},
		{"/me/v1/organizations?take=2", `{"organizations":[{"id":"org_1","name":"acme","display_name":"Acme"},{"id":"org_2","name":"globex"}],"next":"2"}`},
		{"/me/v1/organizations?take=2&from=2", `{"organizations":[{"id":"org_3","name":"initech"}]}`},
	} {
		status, body := get(tc.path)
		if status != http.StatusOK || body != tc.want+"\n" && body != tc.want {
			t.Errorf("GET %s: %d %s\nwant %s", tc.path, status, body, tc.want)
		}
	}
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/me/v1/consents/cgr_bob", http.StatusNotFound, "A0E-404-0001"},
		{"/me/v1/consents/cgr_unknown", http.StatusNotFound, "A0E-404-0001"},
		{"/me/v1/organizations?from=abc", http.StatusBadRequest, "A0E-400-0003"},
	} {
		if status, body := get(tc.path); status != tc.status || errorType(body) != "https://auth0.com/api-errors/"+tc.code {
			t.Errorf("GET %s: %d %s, want %d %s", tc.path, status, body, tc.status, tc.code)
		}
	}
	f.set(func(f *fakeAuth0) { f.apiStatus = http.StatusServiceUnavailable })
	for _, path := range []string{"/me/v1/consents", "/me/v1/consents/cgr_1", "/me/v1/organizations"} {
		if status, body := get(path); status != http.StatusServiceUnavailable || errorType(body) != "https://auth0.com/api-errors/A0E-503-0001" {
			t.Errorf("GET %s, Management API down: %d %s, want 503", path, status, body)
		}
	}
}
