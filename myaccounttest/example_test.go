package myaccounttest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

func ExampleAuthenticator_Create() {
	// Options as a relying party sends them, e.g. the My Account API's
	// authn_params_public_key.
	options := []byte(`{
		"challenge": "c2lnbi1tZS11cA",
		"rp": {"id": "localhost", "name": "Example"},
		"user": {"id": "dXNlci0x", "name": "alice", "displayName": "Alice"},
		"pubKeyCredParams": [{"type": "public-key", "alg": -7}]
	}`)

	a := myaccounttest.NewAuthenticator()
	resp, err := a.Create(options, "http://localhost:8080")
	if err != nil {
		fmt.Println(err)
		return
	}

	// resp is what the browser would post back to finish the enrolment.
	var cred struct {
		Type     string `json:"type"`
		Response struct {
			PublicKeyAlgorithm int `json:"publicKeyAlgorithm"`
		} `json:"response"`
	}
	_ = json.Unmarshal(resp, &cred)
	fmt.Println(cred.Type, cred.Response.PublicKeyAlgorithm, len(a.Credentials()))
	// Output: public-key -7 1
}

// A user's test of an authenticator app and a passkey: an API on a test
// issuer, and a Client enrolling both as the user's app would.
func ExampleClient() {
	// In a test, myaccounttest.NewIssuer(t) also serves the JWKS; an example
	// has no t, so the API takes the issuer's keys directly.
	iss, _ := myaccounttest.NewDevIssuer("http://localhost/", "http://localhost/me/")
	api, err := myaccount.New(myaccount.Config{Issuer: iss.Issuer, Token: myaccount.TokenConfig{Keyfunc: iss.Keyfunc}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer api.Close()
	srv := httptest.NewServer(api)
	defer srv.Close()

	token, _ := iss.Mint("auth0|alice", myaccount.AllScopes())
	c := myaccounttest.NewClient(srv.URL, token)
	ctx := context.Background()
	if _, err := c.EnrollTOTP(ctx, time.Now()); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.EnrollPasskey(ctx, myaccounttest.NewAuthenticator(), ""); err != nil {
		fmt.Println(err)
		return
	}
	methods, _ := c.Methods(ctx)
	for _, m := range methods {
		fmt.Println(m.Type)
	}
	// Unordered output:
	// totp
	// passkey
}
