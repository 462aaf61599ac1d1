package myaccount_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// Mount the API in an existing app. In production Config{Domain: "tenant.auth0.com"}
// is all it takes; here a dev issuer's keys stand in for the tenant's JWKS.
func Example() {
	issuer, _ := myaccounttest.NewDevIssuer("https://tenant.example.com/", "https://tenant.example.com/me/")
	api, err := myaccount.New(myaccount.Config{
		Domain: "tenant.example.com",
		// Keyfunc instead of fetching https://tenant.example.com/.well-known/jwks.json.
		Token: myaccount.TokenConfig{Keyfunc: issuer.Keyfunc},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()

	mux := http.NewServeMux()
	mux.Handle("/me/", api) // serves /me/v1/... and /me/...
	srv := httptest.NewServer(mux)
	defer srv.Close()

	token, _ := issuer.Mint("auth0|alice", []string{"read:me:authentication_methods"})
	req, _ := http.NewRequest("GET", srv.URL+"/me/v1/authentication-methods", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	fmt.Println(string(body))
	// Output:
	// 200 OK
	// {"authentication_methods":[]}
}

// Protect an app's own routes with the same token checks, without the API.
func ExampleRequireScope() {
	issuer, _ := myaccounttest.NewDevIssuer("https://tenant.example.com/", "https://api.example.com/")
	validator, err := myaccount.NewTokenValidator(myaccount.Config{
		Issuer: "https://tenant.example.com/",
		Token:  myaccount.TokenConfig{Keyfunc: issuer.Keyfunc},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer validator.Close()

	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := myaccount.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "orders of %s", claims.Subject)
	})
	protected := validator.Authenticate(
		myaccount.RequireAudience("https://api.example.com/")(
			myaccount.RequireScope("read:orders")(orders)))

	for _, scope := range []string{"read:orders", "write:orders"} {
		token, _ := issuer.Mint("auth0|alice", []string{scope})
		req := httptest.NewRequest("GET", "/orders", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		protected.ServeHTTP(rec, req)
		fmt.Println(strings.TrimSpace(fmt.Sprint(rec.Code, " ", rec.Header().Get("WWW-Authenticate"))))
	}
	// Output:
	// 200
	// 403 Bearer realm="https://tenant.example.com/", error="insufficient_scope", error_description="The access token lacks the scope read:orders.", scope="read:orders"
}

// Enroll a passkey: POST the type, hand authn_params_public_key to
// navigator.credentials.create (here a software authenticator stands in for the
// browser), then POST the credential with the auth_session to .../verify.
func Example_passkeyEnrollment() {
	issuer, _ := myaccounttest.NewDevIssuer("https://tenant.example.com/", "https://tenant.example.com/me/")
	api, err := myaccount.New(myaccount.Config{Domain: "tenant.example.com", Token: myaccount.TokenConfig{Keyfunc: issuer.Keyfunc}})
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()
	srv := httptest.NewServer(api)
	defer srv.Close()
	token, _ := issuer.Mint("auth0|alice", []string{"create:me:authentication_methods"})

	// call POSTs body as JSON with the token and decodes the JSON answer.
	call := func(path string, body any) (*http.Response, map[string]json.RawMessage) {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		var answer map[string]json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&answer)
		return resp, answer
	}

	// 1. Start: 202 with an auth_session and the creation options.
	resp, started := call("/me/v1/authentication-methods", map[string]string{"type": "passkey"})
	fmt.Println(resp.Status, strings.TrimPrefix(resp.Header.Get("Location"), srv.URL))

	// 2. The browser: navigator.credentials.create({publicKey: options}) on a page
	// of an allowed origin (Config.WebAuthn.Origins: here https://tenant.example.com),
	// then credential.toJSON(). The authenticator returns that JSON.
	credential, err := myaccounttest.NewAuthenticator().Create(started["authn_params_public_key"], "https://tenant.example.com")
	if err != nil {
		log.Fatal(err)
	}

	// 3. Verify: {auth_session, authn_response} to the 202's Location + /verify;
	// 201 with the new passkey and its Location.
	resp, method := call("/me/v1/authentication-methods/passkey%7Cnew/verify", map[string]any{
		"auth_session":   started["auth_session"],
		"authn_response": json.RawMessage(credential),
	})
	fmt.Println(resp.Status, string(method["type"]), string(method["credential_device_type"]))
	fmt.Println(strings.HasPrefix(resp.Header.Get("Location"), srv.URL+"/me/v1/authentication-methods/passkey%7C"))
	// Output:
	// 202 Accepted /me/v1/authentication-methods/passkey%7Cnew
	// 201 Created "passkey" "single_device"
	// true
}
