package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount/myaccounttest"
)

// mintDevToken asks the dev issuer for a token, bound to key unless it is nil.
func mintDevToken(t *testing.T, base string, key *myaccounttest.DPoPKey) string {
	t.Helper()
	body := `{"sub":"auth0|carol"}`
	if key != nil {
		body = `{"sub":"auth0|carol","jkt":"` + key.Thumbprint() + `"}`
	}
	status, _, data := call(t, "POST", base+"/dev/token", "", body)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(data, &tok); status != 200 || err != nil {
		t.Fatalf("dev token: %d %s", status, data)
	}
	if want := map[bool]string{true: "DPoP", false: "Bearer"}[key != nil]; tok.TokenType != want {
		t.Errorf("token_type %q, want %q", tok.TokenType, want)
	}
	return tok.AccessToken
}

// dpopCall sends a request with a DPoP-bound token and a proof, and a nonce
// when given.
func dpopCall(t *testing.T, key *myaccounttest.DPoPKey, method, url, token, nonce string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	var opts []myaccounttest.ProofOption
	if nonce != "" {
		opts = append(opts, myaccounttest.ProofNonce(nonce))
	}
	if err := key.Authorize(req, token, opts...); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

func TestDemoDPoPRequiredWithNonces(t *testing.T) {
	base, _ := startDemo(t, "-dpop", "required", "-dpop-nonce", "-user-rate", "0")
	// curl with a Bearer token: 401 with a DPoP challenge.
	status, h, _ := call(t, "GET", base+"/me/v1/factors", mintDevToken(t, base, nil), "")
	if ch := h.Values("WWW-Authenticate"); status != 401 || len(ch) != 1 || !strings.HasPrefix(ch[0], `DPoP realm=`) {
		t.Fatalf("Bearer token: %d %q", status, ch)
	}
	key := myaccounttest.NewTestDPoPKey(t)
	tok := mintDevToken(t, base, key)
	status, h = dpopCall(t, key, "GET", base+"/me/v1/factors", tok, "")
	nonce := h.Get("DPoP-Nonce")
	if status != 401 || nonce == "" || !strings.Contains(h.Get("WWW-Authenticate"), `error="use_dpop_nonce"`) {
		t.Fatalf("first DPoP request: %d %q %q", status, h.Get("WWW-Authenticate"), nonce)
	}
	if status, _ := dpopCall(t, key, "GET", base+"/me/v1/factors", tok, nonce); status != 200 {
		t.Fatalf("with the nonce: %d", status)
	}
}

func TestDemoStepUpMaxAge(t *testing.T) {
	base, _ := startDemo(t, "-step-up-max-age", "1s", "-user-rate", "0")
	tok := mintDevToken(t, base, nil) // auth_time: now
	if status, _, _ := call(t, "POST", base+"/me/v1/authentication-methods", tok, `{"type":"passkey"}`); status != 202 {
		t.Fatalf("fresh login: %d", status)
	}
	time.Sleep(1100 * time.Millisecond) // past MaxAge; the 5 s leeway still holds it
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, h, _ := call(t, "POST", base+"/me/v1/authentication-methods", tok, `{"type":"passkey"}`)
		if status == 401 {
			if ch := h.Get("WWW-Authenticate"); !strings.Contains(ch, `error="insufficient_user_authentication"`) || !strings.HasSuffix(ch, `max_age="1"`) {
				t.Errorf("WWW-Authenticate %q", ch)
			}
			break
		}
		if status != 202 || time.Now().After(deadline) {
			t.Fatalf("old login: %d", status)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Listing needs no step-up.
	if status, _, _ := call(t, "GET", base+"/me/v1/authentication-methods", tok, ""); status != 200 {
		t.Errorf("list: %d", status)
	}
}

func TestDemoDPoPFlagsAreChecked(t *testing.T) {
	for _, args := range [][]string{{"-dpop", "sometimes"}, {"-step-up-max-age", "-1s"}} {
		if _, err := parseFlags(args, &strings.Builder{}); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	base, _ := startDemo(t, "-user-rate", "0")
	if status, _, _ := call(t, "POST", base+"/dev/token", "", `{"sub":"auth0|x","jkt":"not-a-thumbprint"}`); status != 400 {
		t.Errorf("bad jkt: %d", status)
	}
}
