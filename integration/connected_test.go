package integration_test

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/go-myaccount/myaccount/pgstore"
	"github.com/jackc/pgx/v5"
)

const appRedirect = "https://app.example/connected"

// TestNoProviderTokenInThePostgresRows links a provider account over HTTP
// across the two instances on PostgreSQL, leaves a second flow waiting at
// its connect code, then reads every row of the connected-account tables as
// text: no provider access or refresh token, no ticket, connect code or
// auth_session, and no client secret may be there.
func TestNoProviderTokenInThePostgresRows(t *testing.T) {
	p := myaccounttest.NewProvider(t)
	p.ClientSecret = "client-secret-" + strings.Repeat("x", 20)
	c := newCluster(t, func(cfg *myaccount.Config) {
		cfg.ConnectedAccounts.Connections = []myaccount.Connection{{
			Name: "provider", Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
			Scopes: []string{"openid", "offline_access"},
		}}
		cfg.ConnectedAccounts.RedirectURIs = []string{appRedirect}
	})
	u := c.newUser(t)
	u.token = c.iss.Token(t, u.subject, myaccount.AllScopes()...)
	secrets := []string{p.ClientSecret}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// connect runs /connect on instance 0 and the browser steps, and
	// returns the auth_session and the connect code.
	connect := func() (session, code string) {
		r := c.do(0, http.MethodPost, "/me/v1/connected-accounts/connect", u.token,
			map[string]any{"connection": "provider", "redirect_uri": appRedirect, "state": "s"})
		if r.status != http.StatusCreated {
			t.Fatalf("connect: %d %s", r.status, r.body)
		}
		var start struct {
			AuthSession   string                  `json:"auth_session"`
			ConnectURI    string                  `json:"connect_uri"`
			ConnectParams struct{ Ticket string } `json:"connect_params"`
		}
		_ = json.Unmarshal(r.body, &start)
		next := start.ConnectURI + "?ticket=" + url.QueryEscape(start.ConnectParams.Ticket)
		for range 4 {
			resp, err := browser.Get(next)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, err := resp.Location()
			if err != nil {
				t.Fatalf("step %s: %d, no Location", next, resp.StatusCode)
			}
			if loc.Host == "app.example" {
				secrets = append(secrets, start.AuthSession, start.ConnectParams.Ticket, loc.Query().Get("connect_code"))
				return start.AuthSession, loc.Query().Get("connect_code")
			}
			next = loc.String()
		}
		t.Fatal("the browser never came back to the app")
		return "", ""
	}
	session, code := connect()
	r := c.do(1, http.MethodPost, "/me/v1/connected-accounts/complete", u.token,
		map[string]any{"auth_session": session, "connect_code": code, "redirect_uri": appRedirect})
	if r.status != http.StatusCreated {
		t.Fatalf("complete: %d %s", r.status, r.body)
	}
	var acct struct{ ID string }
	_ = json.Unmarshal(r.body, &acct)
	connect() // left at its connect code: the flow's row holds the second grant's tokens
	access, refresh := p.Tokens()
	if len(access) != 2 || len(refresh) != 2 {
		t.Fatalf("the provider issued %d access and %d live refresh tokens, want 2 and 2", len(access), len(refresh))
	}
	secrets = append(append(secrets, access...), refresh...)

	var dump strings.Builder
	for _, table := range []string{"myaccount_connected_accounts", "myaccount_connect_flows"} {
		rows, err := newPool(t).Query(t.Context(), `SELECT t::text FROM `+pgx.Identifier{c.schema, table}.Sanitize()+` t`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var text string
			if err := rows.Scan(&text); err != nil {
				t.Fatal(err)
			}
			dump.WriteString(text + "\n")
			n++
		}
		if rows.Err() != nil || n != 1 {
			t.Fatalf("%s: %d rows, want 1 (%v)", table, n, rows.Err())
		}
	}
	if !strings.Contains(dump.String(), acct.ID) {
		t.Fatalf("the dump misses the account it should read:\n%s", dump.String())
	}
	lower := strings.ToLower(dump.String())
	for _, secret := range secrets {
		if secret == "" {
			t.Fatal("an empty secret")
		}
		for _, form := range []string{secret, hexOf(secret)} {
			if strings.Contains(lower, strings.ToLower(form)) {
				t.Errorf("secret %q is in the PostgreSQL rows", secret)
			}
		}
	}
	if t.Failed() {
		t.Logf("rows:\n%s", dump.String())
	}
}

// TestVaultRefreshRaceOnPostgres has two API instances, each with its own
// pool on one PostgreSQL schema, ask the vault for one account's token at
// once, with access tokens that always need refreshing and a provider that
// rotates refresh tokens: every caller gets a working token, one refresh
// token stays live at the provider, and it is the one stored.
func TestVaultRefreshRaceOnPostgres(t *testing.T) {
	p := myaccounttest.NewProvider(t)
	p.AccessTokenTTL = 10 * time.Second // inside the vault's 30-second margin: always refreshed
	iss := myaccounttest.NewIssuer(t)
	schema := freshSchema(t)
	keys := [][]byte{make([]byte, 32)}
	_, _ = rand.Read(keys[0])
	apis := make([]*myaccount.API, 2)
	for i := range apis {
		store := pgstore.New(newPool(t), pgstore.WithSchema(schema))
		if err := store.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		api, err := myaccount.New(myaccount.Config{
			Issuer: iss.Issuer, Audience: iss.Audience, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL()}, Store: store, SecretKeys: keys,
			Logger:     slog.New(slog.DiscardHandler),
			RateLimits: myaccount.RateLimitConfig{User: myaccount.RateLimit{Disabled: true}, Tenant: myaccount.RateLimit{Disabled: true}},
			ConnectedAccounts: myaccount.ConnectedAccountsConfig{
				Connections: []myaccount.Connection{{
					Name: "provider", Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
					Scopes: []string{"openid", "offline_access"},
				}},
				RedirectURIs: []string{appRedirect},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(api.Close)
		apis[i] = api
	}
	srv := httptest.NewServer(apis[0])
	t.Cleanup(srv.Close)
	c := &cluster{iss: iss, urls: [2]string{srv.URL, srv.URL}, schema: schema, client: &http.Client{Timeout: requestLimit}}
	t.Cleanup(c.client.CloseIdleConnections)
	subject := "auth0|" + rand.Text()[:16]
	token := iss.Token(t, subject, myaccount.AllScopes()...)
	r := c.do(0, http.MethodPost, "/me/v1/connected-accounts/connect", token,
		map[string]any{"connection": "provider", "redirect_uri": appRedirect})
	var start struct {
		AuthSession   string                  `json:"auth_session"`
		ConnectURI    string                  `json:"connect_uri"`
		ConnectParams struct{ Ticket string } `json:"connect_params"`
	}
	if err := json.Unmarshal(r.body, &start); err != nil || r.status != http.StatusCreated {
		t.Fatalf("connect: %d %s", r.status, r.body)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next, code := start.ConnectURI+"?ticket="+url.QueryEscape(start.ConnectParams.Ticket), ""
	for code == "" {
		resp, err := browser.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("%s: %d", next, resp.StatusCode)
		}
		code, next = loc.Query().Get("connect_code"), loc.String()
	}
	r = c.do(0, http.MethodPost, "/me/v1/connected-accounts/complete", token,
		map[string]any{"auth_session": start.AuthSession, "connect_code": code, "redirect_uri": appRedirect})
	var acct struct{ ID string }
	if err := json.Unmarshal(r.body, &acct); err != nil || r.status != http.StatusCreated {
		t.Fatalf("complete: %d %s", r.status, r.body)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for i := range 24 {
		wg.Go(func() {
			tok, err := apis[i%2].ConnectedAccountToken(t.Context(), iss.Issuer, subject, acct.ID)
			if err == nil && tok.AccessToken == "" {
				err = errors.New("no access token")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("vault: %v", err)
		}
	}
	if n := p.Refreshes(); n < 2 {
		t.Fatalf("%d refreshes: no race", n)
	}
	if _, refresh := p.Tokens(); len(refresh) != 1 {
		t.Errorf("%d live refresh tokens at the provider, want 1", len(refresh))
	}
	if _, err := apis[1].ConnectedAccountToken(t.Context(), iss.Issuer, subject, acct.ID); err != nil {
		t.Errorf("a refresh after the race: %v (the stored refresh token is not the live one)", err)
	}
}
