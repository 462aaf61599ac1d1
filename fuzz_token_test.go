package myaccount_test

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// FuzzTokens sends mutated access tokens, seeded with the malformed ones in
// testdata/tokens.txt and a few good ones minted here, through the token
// validator and through the API. Neither may fail in any other way than a
// clean 401 or 403, and only a token exactly as the issuer signed it passes.
func FuzzTokens(f *testing.F) {
	file, err := os.Open("testdata/tokens.txt")
	if err != nil {
		f.Fatal(err)
	}
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		if line := scanner.Text(); line != "" && !strings.HasPrefix(line, "#") {
			f.Add(line)
		}
	}
	file.Close()
	if err := scanner.Err(); err != nil {
		f.Fatal(err)
	}

	iss := myaccounttest.NewIssuer(f)
	api, err := myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{Keyfunc: iss.Keyfunc},
		WebAuthn: myaccount.WebAuthnConfig{RPID: "localhost", Origins: []string{testOrigin}}, Logger: slog.New(slog.DiscardHandler),
		RateLimits: myaccount.RateLimitConfig{Tenant: myaccount.RateLimit{Disabled: true}, User: myaccount.RateLimit{Disabled: true}},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(api.Close)
	// signed holds the signing input (header.payload) of every good token.
	signed := map[string]bool{}
	for _, opts := range [][]myaccounttest.TokenOption{nil, {myaccounttest.ES256()}, {myaccounttest.WithPermissions("read:me:factors")}} {
		token, err := iss.Mint("auth0|alice", allScopes, opts...)
		if err != nil {
			f.Fatal(err)
		}
		signed[token[:strings.LastIndexByte(token, '.')]] = true
		f.Add(token)
	}
	genuine := func(token string) bool {
		i := strings.LastIndexByte(token, '.')
		return i >= 0 && signed[token[:i]]
	}

	f.Fuzz(func(t *testing.T, token string) {
		claims, err := api.Validator().Validate(context.Background(), token)
		if err == nil && (!genuine(token) || claims.Subject != "auth0|alice") {
			t.Fatalf("a token the issuer did not sign was accepted: %q", token)
		}
		req := httptest.NewRequest("GET", "/me/v1/factors", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		checkAnswer(t, rec, token)
		switch {
		case rec.Code == http.StatusOK && !genuine(token):
			t.Fatalf("the API accepted a token the issuer did not sign: %q", token)
		case rec.Code != http.StatusOK && rec.Code != http.StatusUnauthorized:
			t.Fatalf("status %d for token %q", rec.Code, token)
		}
	})
}
