package myaccount_test

import (
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
		Domain:  "tenant.example.com",
		Keyfunc: issuer.Keyfunc, // instead of fetching https://tenant.example.com/.well-known/jwks.json
	})
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()

	mux := http.NewServeMux()
	mux.Handle("/me/", api) // serves /me/v1/... and /me/...
	srv := httptest.NewServer(mux)
	defer srv.Close()

	token, _ := issuer.Mint("auth0|alice", []string{myaccount.ScopeReadMethods})
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
	validator, err := myaccount.NewTokenValidator(myaccount.TokenConfig{
		Issuer:  "https://tenant.example.com/",
		Keyfunc: issuer.Keyfunc,
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
