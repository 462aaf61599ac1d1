package myaccount_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// fuzzAPI is an API with limits too high to trip, called in process.
func fuzzAPI(f *testing.F) (*myaccount.API, string) {
	iss := myaccounttest.NewIssuer(f)
	api, err := myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{Keyfunc: iss.Keyfunc},
		WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{testOrigin}}, Logger: slog.New(slog.DiscardHandler),
		RateLimits: myaccount.RateLimitConfig{Tenant: myaccount.RateLimit{Disabled: true}, User: myaccount.RateLimit{Disabled: true}},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(api.Close)
	token, err := iss.Mint("auth0|alice", allScopes)
	if err != nil {
		f.Fatal(err)
	}
	return api, token
}

func serve(api *myaccount.API, method, path, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	return rec
}

// checkAnswer requires a well-formed answer: never a server error, and a problem
// body on every client error.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, input string) {
	if rec.Code >= 500 {
		t.Fatalf("status %d for %q: %s", rec.Code, input, rec.Body)
	}
	if rec.Code >= 400 {
		var p struct {
			Type   string `json:"type"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || p.Type == "" {
			t.Fatalf("status %d with body %q for %q", rec.Code, rec.Body, input)
		}
	}
}

// FuzzVerify sends mutated registration responses, seeded with the recorded
// ones in testdata, to a freshly opened enrollment each time.
func FuzzVerify(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/registration-*.json")
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add(`{"id":"","rawId":"","type":"public-key","response":{"attestationObject":"","clientDataJSON":""}}`)
	api, token := fuzzAPI(f)
	f.Fuzz(func(t *testing.T, authnResponse string) {
		begin := serve(api, "POST", "/me/v1/authentication-methods", token, `{"type":"passkey"}`)
		var e enrollment
		if err := json.Unmarshal(begin.Body.Bytes(), &e); err != nil || begin.Code != http.StatusAccepted {
			t.Fatalf("begin: %d %s", begin.Code, begin.Body)
		}
		body := `{"auth_session":"` + e.AuthSession + `","authn_response":` + authnResponse + `}`
		rec := serve(api, "POST", "/me/v1/authentication-methods/passkey%7Cnew/verify", token, body)
		checkAnswer(t, rec, authnResponse)
		if rec.Code == http.StatusCreated {
			t.Fatalf("a recorded or mutated attestation for another challenge was accepted: %q", authnResponse)
		}
	})
}

// FuzzRequestBodies sends arbitrary bodies to every endpoint that reads one.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{`{"type":"passkey"}`, `{"name":"Work laptop"}`, `{"type":"passkey","identity":"alice","connection":"Username-Password-Authentication"}`,
		`{"auth_session":"x","authn_response":{"id":"a","rawId":"a","type":"public-key","response":{"attestationObject":"a","clientDataJSON":"a"}}}`,
		`{"a/b~c":[1,{"x":null}]}`, `"\ud800"`, `{"name":"\u0000"}`} {
		f.Add(seed)
	}
	api, token := fuzzAPI(f)
	f.Fuzz(func(t *testing.T, body string) {
		checkAnswer(t, serve(api, "POST", "/me/v1/authentication-methods", token, body), body)
		checkAnswer(t, serve(api, "PATCH", "/me/v1/authentication-methods/passkey|dev_AAAAAAAAAAAAAAAA", token, body), body)
		checkAnswer(t, serve(api, "POST", "/me/v1/authentication-methods/passkey%7Cnew/verify", token, body), body)
	})
}
