package myaccount_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// Issue 11, defect 1: a route behind the API's validator that edits the claims
// it is handed, slices and dates included, changes nothing for later requests,
// even though the token comes from the verified-token cache.
func TestClaimsEditedByAnAppRouteNeverReachALaterRequest(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.Handle("/me/", h.api)
	mux.Handle("/tamper", h.api.Validator().Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := myaccount.ClaimsFromContext(r.Context())
		for i := range claims.Audience {
			claims.Audience[i] = h.issuer.Audience
		}
		for i := range claims.Permissions {
			claims.Permissions[i] = "read:me:authentication_methods"
		}
		claims.ExpiresAt.Time = time.Now().Add(100 * 365 * 24 * time.Hour)
		w.WriteHeader(http.StatusNoContent)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	get := func(path, token string) int {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	// A token of another API, with a permission of that API.
	other := h.issuer.TokenWith(t, "auth0|alice", nil,
		myaccounttest.WithAudience("https://shop.example/api"), myaccounttest.WithPermissions("read:orders"))
	for range 2 { // the second time from the cache
		if status := get("/tamper", other); status != 204 {
			t.Fatalf("app route: %d", status)
		}
		if status := get("/me/v1/authentication-methods", other); status != 401 {
			t.Fatalf("after the app route edited the audience: %d, want 401", status)
		}
	}
	// Permissions: a token of the right audience, with another permission.
	perm := h.issuer.TokenWith(t, "auth0|alice", nil, myaccounttest.WithPermissions("read:orders"))
	for range 2 {
		get("/tamper", perm)
		if status := get("/me/v1/authentication-methods", perm); status != 403 {
			t.Fatalf("after the app route edited the permissions: %d, want 403", status)
		}
	}
}

// Defect 1 through Validate: what it returns is the caller's own.
func TestValidateReturnsClaimsOfTheCallersOwn(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	v := newValidator(t, iss)
	tok := iss.TokenWith(t, "auth0|alice", nil, myaccounttest.WithPermissions("read:orders"), myaccounttest.AuthTime(time.Now()))
	for range 3 {
		c, err := v.Validate(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if c.Audience[0] != iss.Audience || c.Permissions[0] != "read:orders" || time.Until(c.ExpiresAt.Time) > time.Hour {
			t.Fatalf("claims changed by an earlier caller: %v %v %v", c.Audience, c.Permissions, c.ExpiresAt)
		}
		c.Audience[0], c.Permissions[0] = "https://evil.example/", "admin"
		c.ExpiresAt.Time, c.AuthTime.Time = time.Now().Add(1000*time.Hour), time.Time{}
		c.Audience = append(c.Audience, "x")
		c.Permissions = append(c.Permissions, "y")
	}
}

// Issue 11, defect 5: a crit header naming an extension nobody here knows, and
// exp, nbf, iat or auth_time given as strings, are refused.
func TestTokensLooserThanTheSpecsAreRefused(t *testing.T) {
	h := newHarness(t)
	far := time.Now().Add(time.Hour).Unix()
	cases := map[string]myaccounttest.TokenOption{
		"crit unknown extension": myaccounttest.WithHeader("crit", []string{"urn:example:unknown"}),
		"crit with b64":          myaccounttest.WithHeader("crit", []string{"b64"}),
		"exp as a string":        myaccounttest.WithClaim("exp", "9999999999"),
		"nbf as a string":        myaccounttest.WithClaim("nbf", "0"),
		"iat as a string":        myaccounttest.WithClaim("iat", "1"),
		"auth_time as a string":  myaccounttest.WithClaim("auth_time", "1"),
		"exp as a bool":          myaccounttest.WithClaim("exp", true),
	}
	for name, opt := range cases {
		t.Run(name, func(t *testing.T) {
			tok := h.issuer.TokenWith(t, "auth0|alice", allScopes, opt)
			r := h.do("GET", "/me/v1/authentication-methods", tok, nil)
			wantError(t, r, 401, "A0E-401-0001")
			if c := r.header.Get("WWW-Authenticate"); !strings.Contains(c, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate %q", c)
			}
		})
	}
	// The same token with numbers passes.
	wantStatus(t, h.do("GET", "/me/v1/authentication-methods", h.issuer.TokenWith(t, "auth0|alice", allScopes,
		myaccounttest.WithClaim("exp", far), myaccounttest.WithClaim("nbf", 0)), nil), 200)
}

func TestClaimsDecodeReadsTheAppsOwnClaims(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	v := newValidator(t, iss)
	tok := iss.TokenWith(t, "auth0|alice", nil, myaccounttest.WithClaim("https://shop.example/roles", []string{"buyer"}),
		myaccounttest.WithClaim("tier", 3))
	c, err := v.Validate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	var mine struct {
		Roles []string `json:"https://shop.example/roles"`
		Tier  int      `json:"tier"`
	}
	if err := c.Decode(&mine); err != nil || len(mine.Roles) != 1 || mine.Roles[0] != "buyer" || mine.Tier != 3 {
		t.Fatalf("Decode: %v %+v", err, mine)
	}
}

// An app type embedding Claims still decodes its own members: Claims has no
// UnmarshalJSON of its own to shadow them.
func TestClaimsEmbeddedInAnAppType(t *testing.T) {
	var mine struct {
		myaccount.Claims
		Tier int `json:"tier"`
	}
	if err := json.Unmarshal([]byte(`{"sub":"auth0|alice","tier":3}`), &mine); err != nil || mine.Subject != "auth0|alice" || mine.Tier != 3 {
		t.Fatalf("%v %+v", err, mine)
	}
}
