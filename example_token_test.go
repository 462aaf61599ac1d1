package myaccount_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// Protect an app's own route with its own audience, its own claims type and
// DPoP-bound tokens, as a client with a DPoP key sends them.
func ExampleTokenValidator_AuthenticateWith() {
	issuer, _ := myaccounttest.NewDevIssuer("https://tenant.example.com/", "https://shop.example/api")
	validator, err := myaccount.NewTokenValidator(myaccount.Config{
		Issuer: "https://tenant.example.com/",
		Token: myaccount.TokenConfig{
			Keyfunc: issuer.Keyfunc,
			DPoP:    myaccount.DPoPConfig{Mode: "required"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer validator.Close()

	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := myaccount.ClaimsFromContext(r.Context())
		var mine struct {
			Roles []string `json:"https://shop.example/roles"`
		}
		_ = claims.Decode(&mine) // the app's own claims, without parsing the token again
		fmt.Fprintf(w, "orders of %s, roles %v", claims.Subject, mine.Roles)
	})
	protected := validator.AuthenticateWith(myaccount.AuthOptions{Audience: "https://shop.example/api"})(orders)

	key, _ := myaccounttest.NewDPoPKey("ES256")
	token, _ := issuer.Mint("auth0|alice", nil, myaccounttest.BoundTo(key.Thumbprint()),
		myaccounttest.WithClaim("https://shop.example/roles", []string{"buyer"}))

	req := httptest.NewRequest("GET", "https://shop.example/orders", nil)
	_ = key.Authorize(req, token) // Authorization: DPoP <token>, and a DPoP proof
	rec := httptest.NewRecorder()
	protected.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body)

	req = httptest.NewRequest("GET", "https://shop.example/orders", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec = httptest.NewRecorder()
	protected.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	// Output:
	// 200 orders of auth0|alice, roles [buyer]
	// 401 DPoP realm="https://shop.example/api", algs="RS256 PS256 ES256 EdDSA", error="invalid_token", error_description="This resource needs a DPoP-bound access token, sent with the DPoP scheme and a DPoP proof."
}
