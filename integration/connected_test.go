package integration_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
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
