package myaccounttest_test

import (
	"encoding/json"
	"fmt"

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
