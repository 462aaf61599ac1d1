package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// startDemo runs the demo on a free loopback port until the test ends.
func startDemo(t *testing.T, args ...string) (base string, output *testenv.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	output = &testenv.Buffer{}
	go func() { done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), output, ready) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("demo did not start: %v", err)
	}
	return base, output
}

func call(t *testing.T, method, url, token, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

// TestPrintedCommandsEnrollAPasskey follows the printed curl commands, then
// finishes the enrollment with a software authenticator, as a browser would.
func TestPrintedCommandsEnrollAPasskey(t *testing.T) {
	base, out := startDemo(t)
	printed := out.String()
	for _, want := range []string{base + "/dev/token?sub=auth0%7Calice", base + "/me/v1/authentication-methods", `{"type":"passkey"}`} {
		if !strings.Contains(printed, want) {
			t.Fatalf("the printed commands lack %q:\n%s", want, printed)
		}
	}
	req, _ := http.NewRequest("POST", base+"/dev/token?sub=auth0%7Calice", nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	tokenBytes, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token := string(tokenBytes)

	status, _, body := call(t, "GET", base+"/me/v1/authentication-methods", token, "")
	if status != 200 || string(body) != `{"authentication_methods":[]}` {
		t.Fatalf("list: %d %s", status, body)
	}
	status, header, body := call(t, "POST", base+"/me/v1/authentication-methods", token, `{"type":"passkey"}`)
	if status != 202 || header.Get("Location") != base+"/me/v1/authentication-methods/passkey%7Cnew" {
		t.Fatalf("enroll: %d %v %s", status, header, body)
	}
	var e struct {
		AuthSession string          `json:"auth_session"`
		Options     json.RawMessage `json:"authn_params_public_key"`
	}
	_ = json.Unmarshal(body, &e)
	attestation, err := myaccounttest.NewAuthenticator().Create(e.Options, base)
	if err != nil {
		t.Fatal(err)
	}
	verifyBody, _ := json.Marshal(map[string]any{"auth_session": e.AuthSession, "authn_response": json.RawMessage(attestation)})
	status, _, body = call(t, "POST", base+"/me/v1/authentication-methods/passkey%7Cnew/verify", token, string(verifyBody))
	if status != 201 {
		t.Fatalf("verify: %d %s", status, body)
	}
	status, _, body = call(t, "GET", base+"/me/v1/authentication-methods", token, "")
	var list struct {
		Methods []map[string]any `json:"authentication_methods"`
	}
	_ = json.Unmarshal(body, &list)
	if status != 200 || len(list.Methods) != 1 {
		t.Fatalf("list after enrollment: %d %s", status, body)
	}
	for _, field := range []string{"id", "type", "credential_device_type", "credential_backed_up", "identity_user_id",
		"key_id", "public_key", "user_handle", "aaguid", "relying_party_id", "transports", "user_agent", "usage", "created_at"} {
		if _, ok := list.Methods[0][field]; !ok {
			t.Errorf("listed passkey lacks %s: %s", field, body)
		}
	}
}

func TestDevIssuerRefusesNonLoopbackAddresses(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "0.0.0.0:0"}, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("run: %v", err)
	}
	if err := run(context.Background(), []string{"-issuer", "https://tenant.example.com/", "-dev-issuer=false", "-tenant-rate", "-1"}, io.Discard, nil); err == nil {
		t.Fatal("negative rate accepted")
	}
}

func TestDevTokenScopesAndExpiry(t *testing.T) {
	base, _ := startDemo(t, "-tenant-rate", "0", "-user-rate", "0")
	status, _, body := call(t, "POST", base+"/dev/token", "", `{"sub":"auth0|bob","scopes":["read:me:factors"]}`)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &tok); status != 200 || err != nil || tok.TokenType != "Bearer" {
		t.Fatalf("token: %d %s", status, body)
	}
	if status, _, _ := call(t, "GET", base+"/me/v1/factors", tok.AccessToken, ""); status != 200 {
		t.Errorf("factors: %d", status)
	}
	if status, h, _ := call(t, "GET", base+"/me/v1/authentication-methods", tok.AccessToken, ""); status != 403 || h.Get("X-Ratelimit-Limit") != "" {
		t.Errorf("without the scope: %d, limits off: %v", status, h)
	}
	if status, _, _ := call(t, "POST", base+"/dev/token", "", `{"scopes":[]}`); status != 400 {
		t.Errorf("token without sub: %d", status)
	}
}

// TestDemoOffersEveryMethodType: with the dev issuer the demo enables all nine
// method types, password and push-notification included.
func TestDemoOffersEveryMethodType(t *testing.T) {
	base, _ := startDemo(t)
	status, _, body := call(t, "GET", base+"/me/v1/factors", devToken(t, base), "")
	var got struct {
		Factors []struct {
			Type string `json:"type"`
		} `json:"factors"`
	}
	if err := json.Unmarshal(body, &got); status != 200 || err != nil {
		t.Fatalf("factors: %d %s", status, body)
	}
	var types []string
	for _, f := range got.Factors {
		types = append(types, f.Type)
	}
	slices.Sort(types)
	want := []string{"email", "passkey", "password", "phone", "push-notification", "recovery-code", "totp", "webauthn-platform", "webauthn-roaming"}
	if !slices.Equal(types, want) {
		t.Errorf("factors %q, want %q", types, want)
	}
}
