package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// devConnection is the name of the development provider's connection.
const devConnection = "dev-provider"

// configureConnected sets Config.ConnectedAccounts from the flags and, with
// the dev issuer, adds the development provider (served by the demo itself
// under /dev/provider, its consent step approving at once) and development
// consents and organizations, so the whole flow runs offline.
func configureConnected(o *connectedOptions, cfg *myaccount.Config, mux *http.ServeMux, base string, dev bool) error {
	ca := &cfg.ConnectedAccounts
	ca.RedirectURIs = o.redirectURIs
	if len(ca.RedirectURIs) == 0 {
		ca.RedirectURIs = []string{base, base + "/"} // spa-js's default is the origin; the page's own URL ends in /
	}
	ca.Connections = append(ca.Connections, o.connections...)
	if !dev {
		return nil
	}
	provider, err := myaccounttest.NewDevProvider(base + "/dev/provider")
	if err != nil {
		return err
	}
	mux.Handle("/dev/provider/", provider.Handler())
	ca.Connections = append(ca.Connections, myaccount.Connection{
		Name: devConnection, Issuer: provider.Issuer, ClientID: provider.ClientID, ClientSecret: provider.ClientSecret,
		Scopes: []string{"openid", "offline_access", "read:demo"}, AuthorizationParams: []string{"login_hint", "prompt"},
	})
	ca.Consents, ca.Organizations = devConsents{}, devOrganizations{}
	return nil
}

// vaultCallHandler is POST /dev/vault-call: the app's back end at work. It
// takes the user's My Account token, gets the user's development-provider
// access token from the vault and calls the provider's UserInfo with it,
// answering what the provider said. The provider's token never leaves the
// server.
func vaultCallHandler(api *myaccount.API, audience, providerIssuer string) http.Handler {
	call := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := myaccount.ClaimsFromContext(r.Context())
		tok, err := api.ConnectedAccountToken(r.Context(), claims.Issuer, claims.Subject, devConnection)
		switch {
		case errors.Is(err, myaccount.ErrNotFound):
			http.Error(w, "no account of the development provider is connected", http.StatusNotFound)
			return
		case errors.Is(err, myaccount.ErrAccessRevoked):
			http.Error(w, "the provider revoked the access: connect the account again", http.StatusConflict)
			return
		case err != nil:
			http.Error(w, "the vault could not give a token", http.StatusBadGateway)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, providerIssuer+"/userinfo", nil)
		tok.SetAuthHeader(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, "the provider did not answer", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"provider_status": resp.StatusCode, "provider_response": json.RawMessage(orJSON(body))})
	})
	return api.Validator().Authenticate(myaccount.RequireAudience(audience)(myaccount.RequireScope("read:me:connected_accounts")(call)))
}

// orJSON is body when it is JSON, else null.
func orJSON(body []byte) []byte {
	if json.Valid(body) {
		return body
	}
	return []byte("null")
}

// devConsents are a few consents every demo user has.
type devConsents struct{}

var devConsentList = []myaccount.Consent{
	{ID: "cns_demo1", ClientID: "demo-spa", Audience: "https://api.demo.example", Scopes: []string{"read:tasks", "write:tasks"},
		CreatedAt: time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC)},
	{ID: "cns_demo2", ClientID: "demo-cli", Audience: "https://api.demo.example", Scopes: []string{"read:tasks"},
		CreatedAt: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)},
}

func (devConsents) Consents(context.Context, *myaccount.Claims) ([]myaccount.Consent, error) {
	return devConsentList, nil
}

func (devConsents) Consent(_ context.Context, _ *myaccount.Claims, id string) (*myaccount.Consent, error) {
	for _, c := range devConsentList {
		if c.ID == id {
			return &c, nil
		}
	}
	return nil, myaccount.ErrNotFound
}

// devOrganizations are the organizations every demo user belongs to, paged
// by position.
type devOrganizations struct{}

var devOrganizationList = []myaccount.Organization{
	{ID: "org_demo1", Name: "acme", DisplayName: "Acme Corporation"},
	{ID: "org_demo2", Name: "globex", DisplayName: "Globex"},
	{ID: "org_demo3", Name: "initech"},
}

func (devOrganizations) Organizations(_ context.Context, _ *myaccount.Claims, from string, take int) ([]myaccount.Organization, string, error) {
	start := 0
	if from != "" {
		n, err := strconv.Atoi(from)
		if err != nil || n < 0 || n > len(devOrganizationList) {
			return nil, "", myaccount.ErrInvalidCursor
		}
		start = n
	}
	end := min(start+take, len(devOrganizationList))
	next := ""
	if end < len(devOrganizationList) {
		next = strconv.Itoa(end)
	}
	return devOrganizationList[start:end], next, nil
}
