package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDemoConnectsTheDevelopmentProvider runs the whole connected-account
// flow against the demo alone, as the page does: /connect with PKCE, the
// browser through the development provider (which approves at once) and back
// to the page with a connect code, /complete, the list, the vault's token
// used at the provider, consents and organizations, and the disconnect.
func TestDemoConnectsTheDevelopmentProvider(t *testing.T) {
	base, _ := startDemo(t)
	token := devTokenFor(t, base, "auth0|alice")

	status, _, body := call(t, "GET", base+"/me/v1/connected-accounts/connections", token, "")
	if status != 200 || !strings.Contains(string(body), `"name":"dev-provider","strategy":"oidc"`) {
		t.Fatalf("connections: %d %s", status, body)
	}
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	connect, _ := json.Marshal(map[string]any{
		"connection": "dev-provider", "redirect_uri": base, "state": "page+state/=",
		"code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]), "code_challenge_method": "S256",
		"scopes": []string{"openid", "offline_access"},
	})
	status, _, body = call(t, "POST", base+"/me/v1/connected-accounts/connect", token, string(connect))
	if status != 201 {
		t.Fatalf("connect: %d %s", status, body)
	}
	var start struct {
		AuthSession   string                  `json:"auth_session"`
		ConnectURI    string                  `json:"connect_uri"`
		ConnectParams struct{ Ticket string } `json:"connect_params"`
	}
	_ = json.Unmarshal(body, &start)

	// The browser: connect_uri, the provider, the callback, then the page.
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := start.ConnectURI + "?ticket=" + url.QueryEscape(start.ConnectParams.Ticket)
	var back *url.URL
	for range 4 {
		resp, err := browser.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("%s: %d without Location", next, resp.StatusCode)
		}
		if !strings.HasPrefix(loc.Path, "/me/") && !strings.HasPrefix(loc.Path, "/dev/provider/") {
			back = loc
			break
		}
		next = loc.String()
	}
	if back == nil || back.Query().Get("state") != "page+state/=" || back.Query().Get("connect_code") == "" {
		t.Fatalf("back at the page with %v", back)
	}
	complete, _ := json.Marshal(map[string]any{
		"auth_session": start.AuthSession, "connect_code": back.Query().Get("connect_code"),
		"redirect_uri": base, "code_verifier": verifier,
	})
	status, _, body = call(t, "POST", base+"/me/v1/connected-accounts/complete", token, string(complete))
	if status != 201 {
		t.Fatalf("complete: %d %s", status, body)
	}
	var acct struct{ ID string }
	_ = json.Unmarshal(body, &acct)

	status, _, body = call(t, "GET", base+"/me/v1/connected-accounts/accounts", token, "")
	if status != 200 || !strings.Contains(string(body), acct.ID) {
		t.Fatalf("accounts: %d %s", status, body)
	}
	status, _, body = call(t, "POST", base+"/dev/vault-call", token, "")
	if status != 200 || !strings.Contains(string(body), `"provider_status":200`) || !strings.Contains(string(body), `"sub":"provider-user"`) {
		t.Fatalf("vault call: %d %s", status, body)
	}
	for path, want := range map[string]string{
		"/me/v1/consents":             `"id":"cns_demo1"`,
		"/me/v1/consents/cns_demo2":   `"client_id":"demo-cli"`,
		"/me/v1/organizations?take=2": `"next":"2"`,
		"/me/v1/organizations?from=2": `"name":"initech"`,
		"/me/v1/connected-accounts/accounts?connection=%5B%22dev-provider%22%5D": acct.ID,
	} {
		if status, _, body := call(t, "GET", base+path, token, ""); status != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %s", path, status, body)
		}
	}

	status, _, body = call(t, "DELETE", base+"/me/v1/connected-accounts/accounts/"+acct.ID, token, "")
	if status != 204 {
		t.Fatalf("disconnect: %d %s", status, body)
	}
	if status, _, _ := call(t, "POST", base+"/dev/vault-call", token, ""); status != http.StatusNotFound {
		t.Errorf("vault call after disconnecting: %d", status)
	}
}

func TestConnectionFlag(t *testing.T) {
	files := func(path string) ([]byte, error) {
		if path == "/run/secret" {
			return []byte("file-secret\n"), nil
		}
		return nil, errors.New("no such file")
	}
	env := func(name string) string {
		if name == "GH_SECRET" {
			return "env-secret"
		}
		return ""
	}
	c, err := parseConnection("name=github,auth-url=https://github.com/login/oauth/authorize,token-url=https://github.com/login/oauth/access_token,"+
		"client-id=abc,client-secret-env=GH_SECRET,scopes=read:user repo", files, env)
	if err != nil || c.Name != "github" || c.ClientSecret != "env-secret" || len(c.Scopes) != 2 || c.TokenURL == "" {
		t.Errorf("github: %+v, %v", c, err)
	}
	c, err = parseConnection("name=google,issuer=https://accounts.google.com,client-id=abc,client-secret-file=/run/secret", files, env)
	if err != nil || c.Issuer != "https://accounts.google.com" || c.ClientSecret != "file-secret" {
		t.Errorf("google: %+v, %v", c, err)
	}
	for _, bad := range []string{
		"name=x,client-id=abc,client-secret=hunter2",
		"name=x,client-id=abc,client-secret-env=UNSET",
		"name=x,client-id=abc,client-secret-file=/nope",
		"name=x,client-id=abc",
		"name=x,color=blue,client-id=abc,client-secret-env=GH_SECRET",
	} {
		_, err := parseConnection(bad, files, env)
		if err == nil {
			t.Errorf("%s: accepted", bad)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error echoes the secret: %v", err)
		}
	}
	// A bad -connection stops the demo before it serves.
	if _, err := parseFlags([]string{"-connection", "name=x"}, io.Discard); err == nil {
		t.Error("parseFlags accepted an incomplete -connection")
	}
}
