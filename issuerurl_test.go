package myaccount_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/golang-jwt/jwt/v5"
)

// An issuer given without its trailing slash still finds its keys at
// /.well-known/jwks.json and derives the audience /me/, so its tokens pass.
func TestIssuerWithoutTrailingSlashVerifiesTokens(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	iss.Issuer = iss.URL() // "http://127.0.0.1:port", no slash: the tokens' iss too
	api, err := myaccount.New(myaccount.Config{Issuer: iss.URL(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New: %v", err) // before: JWKSURL "http://127.0.0.1:port.well-known/jwks.json" ...
	}
	defer api.Close()
	srv := httptest.NewServer(api)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/me/v1/factors", nil)
	req.Header.Set("Authorization", "Bearer "+iss.Token(t, "auth0|u1", "read:me:factors"))
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d (%s), want 200", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
}

func TestAuth0IssuerMustEndInSlash(t *testing.T) {
	keys := func(*jwt.Token) (any, error) { return nil, errors.New("no keys") }
	for _, issuer := range []string{
		"https://tenant.auth0.com", "https://tenant.us.auth0.com", "https://tenant.eu.auth0.com",
		"https://tenant.au.auth0.com", "https://tenant.jp.auth0.com", "https://TENANT.Auth0.com",
	} {
		t.Run(issuer, func(t *testing.T) {
			api, err := myaccount.New(myaccount.Config{Issuer: issuer, Token: myaccount.TokenConfig{Keyfunc: keys}})
			if err == nil {
				api.Close()
				t.Fatal("New accepted it")
			}
			if !errors.Is(err, myaccount.ErrConfig) || !strings.Contains(err.Error(), `Auth0 issuers end in "/"`) {
				t.Errorf("error %q", err)
			}
			v, err := myaccount.NewTokenValidator(myaccount.Config{Issuer: issuer, Token: myaccount.TokenConfig{Keyfunc: keys}})
			if err == nil {
				v.Close()
				t.Fatal("NewTokenValidator accepted it")
			}
			api, err = myaccount.New(myaccount.Config{Issuer: issuer + "/", Token: myaccount.TokenConfig{Keyfunc: keys}})
			if err != nil {
				t.Fatalf("with the slash: %v", err)
			}
			api.Close()
		})
	}
	// Another issuer's form is its own: no slash is no error.
	api, err := myaccount.New(myaccount.Config{Issuer: "https://login.example.com", Token: myaccount.TokenConfig{Keyfunc: keys}})
	if err != nil {
		t.Fatalf("non-Auth0 issuer: %v", err)
	}
	api.Close()
}

// With no JWKSURL set, no error names it: a loopback issuer without its slash
// is accepted, and a derived URL is never reported as the caller's setting.
func TestLoopbackIssuerErrorsNameNoUnsetField(t *testing.T) {
	for _, issuer := range []string{"http://localhost:8080", "http://127.0.0.1:9", "http://[::1]:9/tenant"} {
		v, err := myaccount.NewTokenValidator(myaccount.Config{Issuer: issuer})
		if err != nil {
			t.Errorf("%s: %v", issuer, err)
			continue
		}
		v.Close()
	}
	_, err := myaccount.New(myaccount.Config{Issuer: "http://tenant.example.com"})
	if err == nil || strings.Contains(err.Error(), "JWKSURL") || !strings.Contains(err.Error(), "Issuer") {
		t.Errorf("an http issuer: %v, want an error naming Issuer only", err)
	}
}
