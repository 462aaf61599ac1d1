package myaccounttest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/go-myaccount/myaccount/myaccounttest"
	"golang.org/x/oauth2"
)

// authorize runs the provider's authorization endpoint as a browser would
// and returns the query it redirects back with.
func authorize(t *testing.T, oc *oauth2.Config, verifier string, opts ...oauth2.AuthCodeOption) url.Values {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(oc.AuthCodeURL("st", append(opts, oauth2.S256ChallengeOption(verifier))...))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorize: %d without Location", resp.StatusCode)
	}
	return loc.Query()
}

func TestProviderRotatesAndRevokes(t *testing.T) {
	p := myaccounttest.NewProvider(t)
	oc := &oauth2.Config{
		ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: "https://app.example/cb", Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: p.Issuer + "/authorize", TokenURL: p.Issuer + "/token"},
	}
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, oc, verifier, oauth2.SetAuthURLParam("login_hint", "user-7"))
	if q.Get("state") != "st" || q.Get("code") == "" {
		t.Fatalf("authorize answered %v", q)
	}
	if _, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Error("a wrong verifier was accepted")
	}
	q = authorize(t, oc, verifier)
	tok, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.Extra("id_token") == nil {
		t.Fatalf("exchange: %v", err)
	}
	if _, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err == nil {
		t.Error("a code was exchanged twice")
	}
	// Rotation: a refresh token works once.
	renewed, err := oc.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || renewed.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %v", err)
	}
	var re *oauth2.RetrieveError
	if _, err := oc.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("a spent refresh token: %v", err)
	}
	if access, refresh := p.Tokens(); len(access) != 2 || len(refresh) != 1 || p.Refreshes() != 1 {
		t.Errorf("%d access, %d live refresh tokens, %d refreshes", len(access), len(refresh), p.Refreshes())
	}
	// The user withdraws access at the provider.
	p.RevokeUser("provider-user")
	if _, err := oc.TokenSource(ctx, &oauth2.Token{RefreshToken: renewed.RefreshToken}).Token(); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("a revoked grant's refresh token: %v", err)
	}
	// A denial goes back to the client with the state.
	p.DenyNext("access_denied")
	if q := authorize(t, oc, verifier); q.Get("error") != "access_denied" || q.Get("state") != "st" || q.Has("code") {
		t.Errorf("denied: %v", q)
	}
	if got := p.LastAuthorization().Get("code_challenge_method"); got != "S256" {
		t.Errorf("last authorization %v", p.LastAuthorization())
	}
}
