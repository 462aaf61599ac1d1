package auth0mgmt_test

import (
	"log"
	"net/http"
	"os"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/auth0mgmt"
)

// Serve GET /consents and /organizations from the tenant that issues the
// users' tokens, read with a machine-to-machine application granted
// read:grants and read:organizations on the Management API.
func Example() {
	src, err := auth0mgmt.New(auth0mgmt.Config{
		Domain:       "tenant.eu.auth0.com",
		ClientID:     os.Getenv("AUTH0_MGMT_CLIENT_ID"),
		ClientSecret: os.Getenv("AUTH0_MGMT_CLIENT_SECRET"),
	})
	if err != nil {
		log.Fatal(err)
	}
	api, err := myaccount.New(myaccount.Config{
		Domain:            "tenant.eu.auth0.com",
		ConnectedAccounts: myaccount.ConnectedAccountsConfig{Consents: src, Organizations: src},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()
	http.Handle("/me/", api)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
