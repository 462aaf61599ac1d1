package myaccount_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// fuzzConnectedAPI is an API with one plain OAuth 2.0 connection whose
// endpoints are never called: /connect, /complete and the lists answer
// without the provider.
func fuzzConnectedAPI(f *testing.F) (*myaccount.API, string) {
	iss := myaccounttest.NewIssuer(f)
	api, err := myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{Keyfunc: iss.Keyfunc},
		Logger:     slog.New(slog.DiscardHandler),
		RateLimits: myaccount.RateLimitConfig{Tenant: myaccount.RateLimit{Disabled: true}, User: myaccount.RateLimit{Disabled: true}},
		ConnectedAccounts: myaccount.ConnectedAccountsConfig{
			Connections: []myaccount.Connection{{
				Name: "plain", AuthURL: "https://provider.example/authorize", TokenURL: "https://provider.example/token",
				ClientID: "id", Scopes: []string{"read", "write"}, AuthorizationParams: []string{"prompt", "max_age"},
			}},
			RedirectURIs: []string{appRedirect},
		},
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

// FuzzConnectedAccountRequests sends arbitrary bodies to /connect and
// /complete and arbitrary queries to the lists: every answer is a success or
// a problem body, never a server error.
func FuzzConnectedAccountRequests(f *testing.F) {
	api, token := fuzzConnectedAPI(f)
	f.Add(`{"connection":"plain","redirect_uri":"`+appRedirect+`","state":"a+b","scopes":["read"],"authorization_params":{"prompt":"consent","max_age":3}}`, "connection=plain&take=5")
	f.Add(`{"connection":"plain","redirect_uri":"`+appRedirect+`","code_challenge":"`+newPKCE("x").challenge+`","code_challenge_method":"S256"}`, `connection=["plain"]`)
	f.Add(`{"auth_session":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","connect_code":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","redirect_uri":"x","code_verifier":"`+newPKCE("x").verifier+`"}`, "from=AAAAAA&take=100")
	f.Add(`{"scopes":[1,2],"authorization_params":[]}`, "take=-1&from=%ZZ")
	f.Fuzz(func(t *testing.T, body, query string) {
		for _, path := range []string{"/me/v1/connected-accounts/connect", "/me/v1/connected-accounts/complete"} {
			checkAnswer(t, serve(api, "POST", path, token, body), body)
		}
		if strings.ContainsFunc(query, func(r rune) bool { return r <= ' ' || r == '#' || r >= 0x7f }) {
			return // not a request target a client can send
		}
		for _, path := range []string{"/me/v1/connected-accounts/accounts", "/me/v1/connected-accounts/connections", "/me/v1/organizations",
			"/me/v1/connected-accounts/authorize", "/me/v1/connected-accounts/callback"} {
			checkAnswer(t, serve(api, "GET", path+"?"+query, token, ""), query)
		}
	})
}
