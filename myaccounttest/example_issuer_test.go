package myaccounttest_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// Test an app that mounts the API: the Issuer mints the tokens a tenant
// would, and its keys stand in for the tenant's JWKS. In a test, NewIssuer(t)
// also serves the JWKS over HTTP and closes its server when the test ends.
func ExampleIssuer() {
	issuer, err := myaccounttest.NewDevIssuer("https://tenant.example.com/", "https://tenant.example.com/me/")
	if err != nil {
		log.Fatal(err)
	}
	api, err := myaccount.New(myaccount.Config{Domain: "tenant.example.com", Token: myaccount.TokenConfig{Keyfunc: issuer.Keyfunc}})
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()

	for _, scopes := range [][]string{myaccount.AllScopes(), {"read:orders"}} {
		token, err := issuer.Mint("auth0|alice", scopes)
		if err != nil {
			log.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/me/v1/factors", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// 200
	// 403
}
