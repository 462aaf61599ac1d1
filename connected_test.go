package myaccount_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// appRedirect is where the app under test has the browser come back.
const appRedirect = "https://app.example/connected"

var connectedAccountIDRe = regexp.MustCompile(`^cac_[A-Za-z0-9]+$`)

// connectedHarness is an API with one OIDC connection ("provider") and one
// plain OAuth 2.0 connection ("plain") at the same test provider.
type connectedHarness struct {
	*harness
	provider *myaccounttest.Provider
}

func newConnectedHarness(t *testing.T, configure ...func(*myaccount.Config)) *connectedHarness {
	t.Helper()
	p := myaccounttest.NewProvider(t)
	connections := func(c *myaccount.Config) {
		c.ConnectedAccounts.Connections = []myaccount.Connection{
			{
				Name: "provider", Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
				Scopes: []string{"openid", "offline_access", "read:tasks"}, AuthorizationParams: []string{"login_hint", "prompt"},
			},
			{
				Name: "plain", AuthURL: p.Issuer + "/authorize", TokenURL: p.Issuer + "/token",
				ClientID: p.ClientID, ClientSecret: p.ClientSecret, Scopes: []string{"read:tasks"},
			},
		}
		c.ConnectedAccounts.RedirectURIs = []string{appRedirect}
	}
	return &connectedHarness{harness: newHarness(t, append([]func(*myaccount.Config){connections}, configure...)...), provider: p}
}

// pkce is an app's PKCE pair, as spa-js makes it.
type pkce struct{ verifier, challenge string }

func newPKCE(seed string) pkce {
	v := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%-40s", seed)))
	sum := sha256.Sum256([]byte(v))
	return pkce{v, base64.RawURLEncoding.EncodeToString(sum[:])}
}

type connectAnswer struct {
	AuthSession   string `json:"auth_session"`
	ConnectURI    string `json:"connect_uri"`
	ConnectParams struct {
		Ticket string `json:"ticket"`
	} `json:"connect_params"`
	ExpiresIn int `json:"expires_in"`
}

// start posts /connect and requires a 201.
func (h *connectedHarness) start(token string, body map[string]any) connectAnswer {
	h.t.Helper()
	r := h.do("POST", "/me/v1/connected-accounts/connect", token, body)
	wantStatus(h.t, r, http.StatusCreated)
	var a connectAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		h.t.Fatal(err)
	}
	return a
}

// browse follows the browser's redirects from the connect_uri, through the
// provider and the callback, until one leaves for the app; it returns that
// URL, or the last answer's status when the chain ends elsewhere.
func (h *connectedHarness) browse(connectURI, ticket string) (*url.URL, int) {
	h.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := connectURI + "?ticket=" + url.QueryEscape(ticket)
	for range 5 {
		resp, err := client.Get(next)
		if err != nil {
			h.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			return nil, resp.StatusCode
		}
		loc, err := resp.Location()
		if err != nil {
			h.t.Fatal(err)
		}
		if loc.Host == "app.example" {
			return loc, resp.StatusCode
		}
		next = loc.String()
	}
	h.t.Fatal("too many redirects")
	return nil, 0
}

// connectCode runs /connect and the browser steps and returns the session
// and the connect code, checking that state came back byte for byte.
func (h *connectedHarness) connectCode(token string, body map[string]any) (authSession, code string) {
	h.t.Helper()
	a := h.start(token, body)
	back, status := h.browse(a.ConnectURI, a.ConnectParams.Ticket)
	if back == nil {
		h.t.Fatalf("browser flow ended with %d", status)
	}
	q := back.Query()
	if q.Get("error") != "" {
		h.t.Fatalf("error redirect: %s", back)
	}
	if want, _ := body["state"].(string); q.Get("state") != want {
		h.t.Fatalf("state %q, want %q", q.Get("state"), want)
	}
	return a.AuthSession, q.Get("connect_code")
}

// link connects an account with PKCE and returns the 201 body.
func (h *connectedHarness) link(token, connection string, extra map[string]any) map[string]any {
	h.t.Helper()
	p := newPKCE(connection)
	body := map[string]any{"connection": connection, "redirect_uri": appRedirect, "state": "s+/=1",
		"code_challenge": p.challenge, "code_challenge_method": "S256"}
	for k, v := range extra {
		body[k] = v
	}
	session, code := h.connectCode(token, body)
	r := h.complete(token, session, code, p.verifier)
	wantStatus(h.t, r, http.StatusCreated)
	return r.json(h.t)
}

func (h *connectedHarness) complete(token, session, code, verifier string) *response {
	h.t.Helper()
	body := map[string]any{"auth_session": session, "connect_code": code, "redirect_uri": appRedirect}
	if verifier != "" {
		body["code_verifier"] = verifier
	}
	return h.do("POST", "/me/v1/connected-accounts/complete", token, body)
}

func TestConnectedAccountLifecycle(t *testing.T) {
	h := newConnectedHarness(t)
	alice := h.token("auth0|alice")
	p := newPKCE("lifecycle")
	// spa-js's state holds +, / and =; it must come back byte for byte.
	state := "a+b/c=d=="
	start := h.start(alice, map[string]any{
		"connection": "provider", "redirect_uri": appRedirect, "state": state,
		"code_challenge": p.challenge, "code_challenge_method": "S256",
		"scopes":               []string{"openid", "offline_access", "read:tasks"},
		"authorization_params": map[string]any{"prompt": "consent", "audience": "ignored", "max_age": 10},
	})
	if !strings.HasPrefix(start.ConnectURI, h.server.URL+"/me/v1/connected-accounts/") || start.ExpiresIn != 300 ||
		len(start.AuthSession) > 64 || start.ConnectParams.Ticket == "" {
		t.Fatalf("connect answer %+v", start)
	}
	back, _ := h.browse(start.ConnectURI, start.ConnectParams.Ticket)
	if back == nil || back.Scheme+"://"+back.Host+back.Path != appRedirect {
		t.Fatalf("back to %v", back)
	}
	if !strings.Contains(back.RawQuery, "state="+url.QueryEscape(state)) || back.Query().Get("state") != state {
		t.Errorf("state in %q", back.RawQuery)
	}
	// What the library asked the provider for: its own PKCE and state, the
	// scopes asked, the authorization_params the connection passes on.
	auth := h.provider.LastAuthorization()
	if auth.Get("code_challenge_method") != "S256" || auth.Get("code_challenge") == p.challenge || auth.Get("state") == state ||
		auth.Get("scope") != "openid offline_access read:tasks" || auth.Get("prompt") != "consent" || auth.Get("nonce") == "" ||
		auth.Has("audience") || auth.Has("max_age") || auth.Get("redirect_uri") != h.server.URL+"/me/v1/connected-accounts/callback" {
		t.Errorf("authorization request %v", auth)
	}
	code := back.Query().Get("connect_code")
	if code == "" || len(code) > 46 {
		t.Fatalf("connect_code %q", code)
	}
	r := h.complete(alice, start.AuthSession, code, p.verifier)
	wantStatus(t, r, http.StatusCreated)
	acct := r.json(t)
	id, _ := acct["id"].(string)
	if !connectedAccountIDRe.MatchString(id) || acct["connection"] != "provider" || acct["access_type"] != "offline" ||
		!createdAtFormat.MatchString(acct["created_at"].(string)) || fmt.Sprint(acct["scopes"]) != "[openid offline_access read:tasks]" {
		t.Errorf("account %v", acct)
	}

	// The list and the connections.
	r = h.do("GET", "/me/v1/connected-accounts/accounts", alice, nil)
	wantStatus(t, r, http.StatusOK)
	if list := r.json(t)["accounts"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Errorf("list %s", r.body)
	}
	r = h.do("GET", "/me/v1/connected-accounts/connections", alice, nil)
	wantStatus(t, r, http.StatusOK)
	if got := string(r.body); got != `{"connections":[{"name":"provider","strategy":"oidc","scopes":["openid","offline_access","read:tasks"]},{"name":"plain","strategy":"oauth2","scopes":["read:tasks"]}]}` {
		t.Errorf("connections %s", got)
	}

	// The vault's token works at the provider, by id and by connection.
	claims := func(sub string) (string, string) { return h.issuer.Issuer, sub }
	iss, sub := claims("auth0|alice")
	for _, ref := range []string{id, "provider"} {
		tok, err := h.api.ConnectedAccountToken(context.Background(), iss, sub, ref)
		if err != nil {
			t.Fatalf("vault %s: %v", ref, err)
		}
		if got := h.userinfo(tok.AccessToken); got != "provider-user" {
			t.Errorf("userinfo sub %q", got)
		}
		if tok.RefreshToken != "" {
			t.Error("the vault hands out the refresh token")
		}
	}
	if _, err := h.api.ConnectedAccountToken(context.Background(), iss, "auth0|bob", id); !errors.Is(err, myaccount.ErrNotFound) {
		t.Errorf("another user's account: %v", err)
	}

	// Delete revokes at the provider; a second delete is 404.
	if n := h.liveRefreshTokens(); n != 1 {
		t.Fatalf("live refresh tokens %d", n)
	}
	r = h.do("DELETE", "/me/v1/connected-accounts/accounts/"+id, h.token("auth0|bob"), nil)
	wantError(t, r, http.StatusNotFound, "A0E-404-0001")
	r = h.do("DELETE", "/me/v1/connected-accounts/accounts/"+id, alice, nil)
	wantStatus(t, r, http.StatusNoContent)
	if h.liveRefreshTokens() != 0 {
		t.Errorf("the provider's refresh token was not revoked")
	}
	r = h.do("DELETE", "/me/v1/connected-accounts/accounts/"+id, alice, nil)
	wantError(t, r, http.StatusNotFound, "A0E-404-0001")
	r = h.do("DELETE", "/me/v1/connected-accounts/accounts/not-an-id", alice, nil)
	wantStatus(t, r, http.StatusNotFound)
}

// liveRefreshTokens counts the refresh tokens that still work at the provider.
func (h *connectedHarness) liveRefreshTokens() int {
	_, refresh := h.provider.Tokens()
	return len(refresh)
}

// userinfo calls the provider with an access token and returns the sub.
func (h *connectedHarness) userinfo(accessToken string) string {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.provider.Issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct{ Sub string }
	_ = json.NewDecoder(resp.Body).Decode(&info)
	return info.Sub
}

func TestConnectRefusals(t *testing.T) {
	h := newConnectedHarness(t)
	alice := h.token("auth0|alice")
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"connection": "provider", "redirect_uri": appRedirect}
		for k, v := range extra {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	for name, tc := range map[string]struct {
		body    map[string]any
		pointer string
	}{
		"unknown connection":      {base(map[string]any{"connection": "nope"}), "/connection"},
		"redirect not allowed":    {base(map[string]any{"redirect_uri": appRedirect + "/"}), "/redirect_uri"},
		"no redirect_uri":         {base(map[string]any{"redirect_uri": nil}), "/redirect_uri"},
		"scope not allowed":       {base(map[string]any{"scopes": []string{"openid", "admin"}}), "/scopes/1"},
		"scope repeated":          {base(map[string]any{"scopes": []string{"openid", "openid"}}), "/scopes/1"},
		"challenge without S256":  {base(map[string]any{"code_challenge": newPKCE("x").challenge}), "/code_challenge_method"},
		"plain challenge method":  {base(map[string]any{"code_challenge": newPKCE("x").challenge, "code_challenge_method": "plain"}), "/code_challenge_method"},
		"short challenge":         {base(map[string]any{"code_challenge": "abc", "code_challenge_method": "S256"}), "/code_challenge"},
		"unknown member":          {base(map[string]any{"extra": true}), "/extra"},
		"empty state":             {base(map[string]any{"state": ""}), "/state"},
		"authorization_params []": {base(map[string]any{"authorization_params": []string{}}), "/authorization_params"},
	} {
		t.Run(name, func(t *testing.T) {
			r := h.do("POST", "/me/v1/connected-accounts/connect", alice, tc.body)
			e := wantError(t, r, http.StatusBadRequest, "A0E-400-0003")
			if ve := e["validation_errors"].([]any); ve[0].(map[string]any)["pointer"] != tc.pointer {
				t.Errorf("validation_errors %v", ve)
			}
		})
	}
	t.Run("missing scope", func(t *testing.T) {
		tok := h.issuer.Token(t, "auth0|alice", "read:me:connected_accounts")
		r := h.do("POST", "/me/v1/connected-accounts/connect", tok, base(nil))
		wantError(t, r, http.StatusForbidden, "A0E-403-0002")
		r = h.do("DELETE", "/me/v1/connected-accounts/accounts/cac_abc", tok, nil)
		wantError(t, r, http.StatusForbidden, "A0E-403-0002")
	})
}

func TestCompleteRefusalsSpendTheCode(t *testing.T) {
	h := newConnectedHarness(t)
	alice, bob := h.token("auth0|alice"), h.token("auth0|bob")
	p := newPKCE("complete")
	body := map[string]any{"connection": "provider", "redirect_uri": appRedirect, "state": "st",
		"code_challenge": p.challenge, "code_challenge_method": "S256"}
	for name, tc := range map[string]struct {
		token, verifier string
		redirect        string
		pointer         string
	}{
		"bad verifier":         {token: alice, verifier: newPKCE("other").verifier, pointer: "/code_verifier"},
		"no verifier":          {token: alice, pointer: "/code_verifier"},
		"other redirect":       {token: alice, verifier: p.verifier, redirect: "https://app.example/other", pointer: "/redirect_uri"},
		"another user":         {token: bob, verifier: p.verifier, pointer: "/auth_session"},
		"bad verifier grammar": {token: alice, verifier: strings.Repeat("!", 43), pointer: "/code_verifier"},
	} {
		t.Run(name, func(t *testing.T) {
			session, code := h.connectCode(alice, body)
			req := map[string]any{"auth_session": session, "connect_code": code, "redirect_uri": appRedirect}
			if tc.redirect != "" {
				req["redirect_uri"] = tc.redirect
			}
			if tc.verifier != "" {
				req["code_verifier"] = tc.verifier
			}
			r := h.do("POST", "/me/v1/connected-accounts/complete", tc.token, req)
			e := wantError(t, r, http.StatusBadRequest, "A0E-400-0003")
			if ve := e["validation_errors"].([]any); ve[0].(map[string]any)["pointer"] != tc.pointer {
				t.Errorf("validation_errors %v", ve)
			}
			// The right request now fails too, except after a grammar
			// error that never reached the code.
			r = h.complete(alice, session, code, p.verifier)
			if name == "bad verifier grammar" {
				wantStatus(t, r, http.StatusCreated)
				return
			}
			wantError(t, r, http.StatusBadRequest, "A0E-400-0003")
		})
	}
	t.Run("replayed code", func(t *testing.T) {
		session, code := h.connectCode(alice, body)
		wantStatus(t, h.complete(alice, session, code, p.verifier), http.StatusCreated)
		wantError(t, h.complete(alice, session, code, p.verifier), http.StatusBadRequest, "A0E-400-0003")
	})
	t.Run("another session", func(t *testing.T) {
		session1, _ := h.connectCode(alice, body)
		_, code2 := h.connectCode(alice, body)
		wantError(t, h.complete(alice, session1, code2, p.verifier), http.StatusBadRequest, "A0E-400-0003")
	})
	t.Run("replayed ticket and state", func(t *testing.T) {
		a := h.start(alice, body)
		if back, _ := h.browse(a.ConnectURI, a.ConnectParams.Ticket); back == nil {
			t.Fatal("first use of the ticket failed")
		}
		if _, status := h.browse(a.ConnectURI, a.ConnectParams.Ticket); status != http.StatusBadRequest {
			t.Errorf("replayed ticket: %d", status)
		}
		if _, status := h.browse(a.ConnectURI, "not-a-ticket"); status != http.StatusBadRequest {
			t.Errorf("bad ticket: %d", status)
		}
		resp, err := http.Get(h.server.URL + "/me/v1/connected-accounts/callback?state=" + a.ConnectParams.Ticket + "&code=x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("callback with an unknown state: %d", resp.StatusCode)
		}
	})
	t.Run("no challenge needs no verifier", func(t *testing.T) {
		session, code := h.connectCode(alice, map[string]any{"connection": "plain", "redirect_uri": appRedirect})
		wantStatus(t, h.complete(alice, session, code, ""), http.StatusCreated)
	})
}

func TestConnectFlowExpires(t *testing.T) {
	h := newConnectedHarness(t, func(c *myaccount.Config) { c.ConnectedAccounts.TTL = 300 * time.Millisecond })
	alice := h.token("auth0|alice")
	body := map[string]any{"connection": "plain", "redirect_uri": appRedirect}
	a := h.start(alice, body)
	time.Sleep(400 * time.Millisecond)
	if _, status := h.browse(a.ConnectURI, a.ConnectParams.Ticket); status != http.StatusBadRequest {
		t.Errorf("expired ticket: %d", status)
	}
	session, code := h.connectCode(alice, body)
	time.Sleep(400 * time.Millisecond)
	wantError(t, h.complete(alice, session, code, ""), http.StatusBadRequest, "A0E-400-0003")
}

func TestProviderErrorGoesBackToTheApp(t *testing.T) {
	h := newConnectedHarness(t)
	alice := h.token("auth0|alice")
	h.provider.DenyNext("access_denied")
	a := h.start(alice, map[string]any{"connection": "provider", "redirect_uri": appRedirect, "state": "x+y/z="})
	back, _ := h.browse(a.ConnectURI, a.ConnectParams.Ticket)
	if back == nil {
		t.Fatal("no redirect back")
	}
	q := back.Query()
	if q.Get("error") != "access_denied" || q.Get("error_description") == "" || q.Get("state") != "x+y/z=" || q.Has("connect_code") {
		t.Errorf("error redirect %s", back)
	}
}

func TestConnectedAccountLimitAndReconnect(t *testing.T) {
	h := newConnectedHarness(t)
	alice := h.token("auth0|alice")
	first := h.link(alice, "provider", map[string]any{"authorization_params": map[string]any{"login_hint": "user-0"}})
	again := h.link(alice, "provider", map[string]any{"authorization_params": map[string]any{"login_hint": "user-0"}})
	if again["id"] != first["id"] || again["created_at"] != first["created_at"] {
		t.Errorf("connecting the same account again made another: %v, %v", first, again)
	}
	for i := 1; i < 20; i++ {
		h.link(alice, "provider", map[string]any{"authorization_params": map[string]any{"login_hint": fmt.Sprint("user-", i)}})
	}
	p := newPKCE("limit")
	session, code := h.connectCode(alice, map[string]any{"connection": "provider", "redirect_uri": appRedirect,
		"code_challenge": p.challenge, "code_challenge_method": "S256",
		"authorization_params": map[string]any{"login_hint": "user-20"}})
	wantError(t, h.complete(alice, session, code, p.verifier), http.StatusConflict, "A0E-409-0001")
	// Reconnecting one the user has still works at the limit.
	h.link(alice, "provider", map[string]any{"authorization_params": map[string]any{"login_hint": "user-3"}})

	// Paging: take is clamped to 20; next pages on; from is opaque.
	r := h.do("GET", "/me/v1/connected-accounts/accounts?take=50", alice, nil)
	wantStatus(t, r, http.StatusOK)
	if m := r.json(t); len(m["accounts"].([]any)) != 20 || m["next"] != nil {
		t.Errorf("take=50: %d accounts, next %v", len(m["accounts"].([]any)), m["next"])
	}
	seen := map[string]bool{}
	next := ""
	for pages := 0; ; pages++ {
		path := "/me/v1/connected-accounts/accounts?take=10"
		if next != "" {
			path += "&from=" + url.QueryEscape(next)
		}
		r = h.do("GET", path, alice, nil)
		wantStatus(t, r, http.StatusOK)
		m := r.json(t)
		for _, a := range m["accounts"].([]any) {
			seen[a.(map[string]any)["id"].(string)] = true
		}
		next, _ = m["next"].(string)
		if next == "" {
			if pages != 1 {
				t.Errorf("%d pages of 10 for 20 accounts", pages+1)
			}
			break
		}
	}
	if len(seen) != 20 {
		t.Errorf("paging saw %d accounts", len(seen))
	}
	for _, q := range []string{"take=0", "take=x", "from=zzz", "connection=" + url.QueryEscape(`["a"`)} {
		r = h.do("GET", "/me/v1/connected-accounts/accounts?"+q, alice, nil)
		wantError(t, r, http.StatusBadRequest, "A0E-400-0003")
	}
}

func TestConnectedAccountsConnectionFilter(t *testing.T) {
	h := newConnectedHarness(t)
	alice := h.token("auth0|alice")
	h.link(alice, "provider", nil)
	h.link(alice, "plain", nil)
	for q, want := range map[string]int{
		"":                                     2,
		"connection=provider":                  1,
		"connection=plain&connection=provider": 2,
		"connection=" + url.QueryEscape(`["plain","provider"]`): 2,
		"connection=" + url.QueryEscape(`["plain"]`):            1,
		"connection=other": 0,
	} {
		r := h.do("GET", "/me/v1/connected-accounts/accounts?"+q, alice, nil)
		wantStatus(t, r, http.StatusOK)
		if got := len(r.json(t)["accounts"].([]any)); got != want {
			t.Errorf("%s: %d accounts, want %d", q, got, want)
		}
	}
	// Bob sees none of Alice's.
	r := h.do("GET", "/me/v1/connected-accounts/accounts", h.token("auth0|bob"), nil)
	wantStatus(t, r, http.StatusOK)
	if string(r.body) != `{"accounts":[]}` {
		t.Errorf("bob's list %s", r.body)
	}
}

// TestVaultRefreshRace has two API instances sharing a store call the vault
// at once, with access tokens that always need refreshing and a provider
// that rotates refresh tokens: every call must get a token that works, and
// the stored refresh token must still be the live one afterwards.
func TestVaultRefreshRace(t *testing.T) {
	store := myaccount.NewMemoryStore()
	keys := [][]byte{[]byte(strings.Repeat("k", 32))}
	h := newConnectedHarness(t, func(c *myaccount.Config) { c.Store, c.SecretKeys = store, keys })
	h.provider.AccessTokenTTL = 10 * time.Second // inside the vault's 30-second margin: always refreshed
	second, err := myaccount.New(myaccount.Config{
		Issuer: h.issuer.Issuer, Audience: h.issuer.Audience, Token: myaccount.TokenConfig{JWKSURL: h.issuer.JWKSURL()},
		Store: store, SecretKeys: keys, ConnectedAccounts: myaccount.ConnectedAccountsConfig{
			Connections: []myaccount.Connection{{
				Name: "provider", Issuer: h.provider.Issuer, ClientID: h.provider.ClientID,
				ClientSecret: h.provider.ClientSecret, Scopes: []string{"openid", "offline_access"},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.Close)
	alice := h.token("auth0|alice")
	id := h.link(alice, "provider", map[string]any{"scopes": []string{"openid", "offline_access"}})["id"].(string)

	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		api := h.api
		if i%2 == 1 {
			api = second
		}
		wg.Go(func() {
			tok, err := api.ConnectedAccountToken(context.Background(), h.issuer.Issuer, "auth0|alice", id)
			if err == nil && tok.AccessToken == "" {
				err = errors.New("empty access token")
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
	if h.provider.Refreshes() < 2 {
		t.Fatalf("only %d refreshes: the race did not happen", h.provider.Refreshes())
	}
	if n := h.liveRefreshTokens(); n != 1 {
		t.Errorf("%d live refresh tokens at the provider, want 1", n)
	}
	// The stored refresh token is the live one: one more refresh works.
	tok, err := second.ConnectedAccountToken(context.Background(), h.issuer.Issuer, "auth0|alice", id)
	if err != nil {
		t.Fatalf("refresh after the race: %v", err)
	}
	if h.userinfo(tok.AccessToken) != "provider-user" {
		t.Error("the refreshed token does not work at the provider")
	}
}

func TestVaultRevokedAtProvider(t *testing.T) {
	h := newConnectedHarness(t)
	h.provider.AccessTokenTTL = 10 * time.Second
	alice := h.token("auth0|alice")
	id := h.link(alice, "provider", nil)["id"].(string)
	h.provider.RevokeUser("provider-user")
	for range 2 {
		if _, err := h.api.ConnectedAccountToken(context.Background(), h.issuer.Issuer, "auth0|alice", id); !errors.Is(err, myaccount.ErrAccessRevoked) {
			t.Fatalf("vault after revocation: %v", err)
		}
	}
	r := h.do("GET", "/me/v1/connected-accounts/accounts", alice, nil)
	wantStatus(t, r, http.StatusOK)
	acct := r.json(t)["accounts"].([]any)[0].(map[string]any)
	expires, err := time.Parse(time.RFC3339, fmt.Sprint(acct["expires_at"]))
	if err != nil || expires.After(time.Now()) {
		t.Errorf("a revoked account is listed with expires_at %v", acct["expires_at"])
	}
	// Connecting it again makes it usable.
	h.link(alice, "provider", nil)
	if _, err := h.api.ConnectedAccountToken(context.Background(), h.issuer.Issuer, "auth0|alice", id); err != nil {
		t.Errorf("vault after reconnecting: %v", err)
	}
}

// unavailableOnce fails the first CompleteConnectFlow as a backend outage.
type unavailableOnce struct {
	myaccount.Store
	failed sync.Once
}

func (s *unavailableOnce) CompleteConnectFlow(ctx context.Context, handle string, a *myaccount.ConnectedAccount, limit int) (*myaccount.ConnectedAccount, error) {
	fail := false
	s.failed.Do(func() { fail = true })
	if fail {
		return nil, myaccount.ErrUnavailable
	}
	return s.Store.CompleteConnectFlow(ctx, handle, a, limit)
}

func TestCompleteUnavailableDoesNotSpendTheCode(t *testing.T) {
	store := &unavailableOnce{Store: myaccount.NewMemoryStore()}
	h := newConnectedHarness(t, func(c *myaccount.Config) {
		c.Store, c.SecretKeys = store, [][]byte{[]byte(strings.Repeat("k", 32))}
	})
	alice := h.token("auth0|alice")
	session, code := h.connectCode(alice, map[string]any{"connection": "plain", "redirect_uri": appRedirect})
	wantError(t, h.complete(alice, session, code, ""), http.StatusServiceUnavailable, "A0E-503-0001")
	wantStatus(t, h.complete(alice, session, code, ""), http.StatusCreated)
}

type devConsents struct{}

func (devConsents) Consents(_ context.Context, c *myaccount.Claims) ([]myaccount.Consent, error) {
	if c.Subject != "auth0|alice" {
		return nil, nil
	}
	at := time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)
	return []myaccount.Consent{
		{ID: "cns_1", ClientID: "client-a", Audience: "https://api.example", Scopes: []string{"read:tasks"}, CreatedAt: at, ExpiresAt: at.AddDate(1, 0, 0)},
		{ID: "cns_2", ClientID: "client-b", CreatedAt: at, ExpiresAt: at.AddDate(1, 0, 0)},
	}, nil
}

func (d devConsents) Consent(ctx context.Context, c *myaccount.Claims, id string) (*myaccount.Consent, error) {
	all, _ := d.Consents(ctx, c)
	for _, x := range all {
		if x.ID == id {
			return &x, nil
		}
	}
	return nil, myaccount.ErrNotFound
}

type devOrganizations struct{}

func (devOrganizations) Organizations(_ context.Context, _ *myaccount.Claims, from string, take int) ([]myaccount.Organization, string, error) {
	all := []myaccount.Organization{{ID: "org_1", Name: "acme", DisplayName: "Acme"}, {ID: "org_2", Name: "globex"}, {ID: "org_3", Name: "initech"}}
	start := 0
	if from != "" {
		if _, err := fmt.Sscan(from, &start); err != nil || start < 0 || start > len(all) {
			return nil, "", myaccount.ErrInvalidCursor
		}
	}
	end := min(start+take, len(all))
	next := ""
	if end < len(all) {
		next = fmt.Sprint(end)
	}
	return all[start:end], next, nil
}

func TestConsentsAndOrganizations(t *testing.T) {
	t.Run("no source", func(t *testing.T) {
		h := newHarness(t)
		alice := h.token("auth0|alice")
		for path, want := range map[string]string{
			"/me/v1/consents": `{"consents":[]}`, "/me/v1/organizations": `{"organizations":[]}`,
		} {
			r := h.do("GET", path, alice, nil)
			wantStatus(t, r, http.StatusOK)
			if string(r.body) != want {
				t.Errorf("%s: %s", path, r.body)
			}
		}
		wantError(t, h.do("GET", "/me/v1/consents/cns_1", alice, nil), http.StatusNotFound, "A0E-404-0001")
	})
	t.Run("sources", func(t *testing.T) {
		h := newHarness(t, func(c *myaccount.Config) {
			c.ConnectedAccounts.Consents, c.ConnectedAccounts.Organizations = devConsents{}, devOrganizations{}
		})
		alice := h.token("auth0|alice")
		r := h.do("GET", "/me/v1/consents", alice, nil)
		wantStatus(t, r, http.StatusOK)
		if want := `{"consents":[{"id":"cns_1","client_id":"client-a","requested_details":{"audience":"https://api.example","scope":["read:tasks"]},"created_at":"2025-01-15T10:30:00.000Z","expires_at":"2026-01-15T10:30:00.000Z"},{"id":"cns_2","client_id":"client-b","created_at":"2025-01-15T10:30:00.000Z","expires_at":"2026-01-15T10:30:00.000Z"}]}`; string(r.body) != want {
			t.Errorf("consents %s", r.body)
		}
		r = h.do("GET", "/me/v1/consents/cns_2", alice, nil)
		wantStatus(t, r, http.StatusOK)
		if r.json(t)["client_id"] != "client-b" {
			t.Errorf("consent %s", r.body)
		}
		wantError(t, h.do("GET", "/me/v1/consents/cns_2", h.token("auth0|bob"), nil), http.StatusNotFound, "A0E-404-0001")
		r = h.do("GET", "/me/v1/organizations?take=2", alice, nil)
		wantStatus(t, r, http.StatusOK)
		if want := `{"organizations":[{"id":"org_1","name":"acme","display_name":"Acme"},{"id":"org_2","name":"globex"}],"next":"2"}`; string(r.body) != want {
			t.Errorf("organizations %s", r.body)
		}
		r = h.do("GET", "/me/v1/organizations?from=2", alice, nil)
		wantStatus(t, r, http.StatusOK)
		if want := `{"organizations":[{"id":"org_3","name":"initech"}]}`; string(r.body) != want {
			t.Errorf("organizations page 2 %s", r.body)
		}
		wantError(t, h.do("GET", "/me/v1/organizations?from=x", alice, nil), http.StatusBadRequest, "A0E-400-0003")
		wantError(t, h.do("GET", "/me/v1/organizations?take=0", alice, nil), http.StatusBadRequest, "A0E-400-0003")
		tok := h.issuer.Token(t, "auth0|alice", "read:me:consents")
		wantError(t, h.do("GET", "/me/v1/organizations", tok, nil), http.StatusForbidden, "A0E-403-0002")
	})
}

// TestBrowserStepsAreRateLimited: the connect_uri and the callback carry no
// token, so the tenant's bucket bounds them.
func TestBrowserStepsAreRateLimited(t *testing.T) {
	h := newConnectedHarness(t, func(c *myaccount.Config) {
		c.RateLimits.Tenant = myaccount.RateLimit{Rate: 0.001, Burst: 2}
	})
	for i, want := range []int{http.StatusBadRequest, http.StatusBadRequest, http.StatusTooManyRequests} {
		step := []string{"authorize?ticket=x", "callback?state=x"}[i%2]
		resp, err := http.Get(h.server.URL + "/me/v1/connected-accounts/" + step)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("request %d: %d, want %d", i, resp.StatusCode, want)
		}
		if resp.Header.Get("Referrer-Policy") != "no-referrer" && want != http.StatusTooManyRequests {
			t.Errorf("request %d: Referrer-Policy %q", i, resp.Header.Get("Referrer-Policy"))
		}
	}
}

// loseFirstSwap is a store on which another instance changes the account
// just before the vault's first compare-and-swap, which then loses.
type loseFirstSwap struct {
	myaccount.Store
	once sync.Once
}

func (s *loseFirstSwap) SwapConnectedAccountTokens(ctx context.Context, issuer, userID, id string, version int64, tokens []byte, revoked bool, expiresAt time.Time) (bool, error) {
	lost := false
	s.once.Do(func() {
		current, err := s.Store.GetConnectedAccount(ctx, issuer, userID, id)
		if err == nil {
			lost, _ = s.Store.SwapConnectedAccountTokens(ctx, issuer, userID, id, current.Version, current.Tokens, current.Revoked, time.Time{})
		}
	})
	if lost {
		return false, nil
	}
	return s.Store.SwapConnectedAccountTokens(ctx, issuer, userID, id, version, tokens, revoked, expiresAt)
}

func TestVaultRetriesALostSwap(t *testing.T) {
	store := &loseFirstSwap{Store: myaccount.NewMemoryStore()}
	h := newConnectedHarness(t, func(c *myaccount.Config) {
		c.Store, c.SecretKeys = store, [][]byte{[]byte(strings.Repeat("k", 32))}
	})
	h.provider.AccessTokenTTL = 10 * time.Second
	id := h.link(h.token("auth0|alice"), "provider", nil)["id"].(string)
	tok, err := h.api.ConnectedAccountToken(context.Background(), h.issuer.Issuer, "auth0|alice", id)
	if err != nil {
		t.Fatalf("vault: %v", err)
	}
	if h.userinfo(tok.AccessToken) != "provider-user" || h.provider.Refreshes() != 1 {
		t.Errorf("token works: %v; refreshes %d, want 1", h.userinfo(tok.AccessToken) == "provider-user", h.provider.Refreshes())
	}
}

// cancelAfterRefresh is a transport that ends the vault caller's context
// once the provider has answered a refresh: the provider has rotated the
// refresh token by then.
type cancelAfterRefresh struct {
	cancel func()
}

func (c *cancelAfterRefresh) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if strings.HasSuffix(req.URL.Path, "/token") && c.cancel != nil {
		c.cancel()
	}
	return resp, err
}

// TestVaultKeepsARotatedTokenWhenTheCallerGivesUp: a caller whose context
// ends after the provider rotated the refresh token must not lose the new
// one.
func TestVaultKeepsARotatedTokenWhenTheCallerGivesUp(t *testing.T) {
	transport := &cancelAfterRefresh{}
	h := newConnectedHarness(t, func(c *myaccount.Config) {
		c.ConnectedAccounts.HTTPClient = &http.Client{Transport: transport, Timeout: 5 * time.Second}
	})
	h.provider.AccessTokenTTL = 10 * time.Second
	id := h.link(h.token("auth0|alice"), "provider", nil)["id"].(string)
	ctx, cancel := context.WithCancel(context.Background())
	transport.cancel = cancel
	_, _ = h.api.ConnectedAccountToken(ctx, h.issuer.Issuer, "auth0|alice", id) // its outcome may be either
	transport.cancel = nil
	if h.provider.Refreshes() != 1 {
		t.Fatalf("%d refreshes", h.provider.Refreshes())
	}
	if _, err := h.api.ConnectedAccountToken(context.Background(), h.issuer.Issuer, "auth0|alice", id); err != nil {
		t.Errorf("the next call: %v (the rotated refresh token was lost)", err)
	}
}

// TestConnectFlowUnderBasePath: mounted under /api, the connect_uri and the
// provider's callback are under /api too, and the flow runs through them.
func TestConnectFlowUnderBasePath(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	p := myaccounttest.NewProvider(t)
	api, err := myaccount.New(myaccount.Config{
		Issuer: iss.Issuer, BasePath: "/api", Logger: slog.New(slog.DiscardHandler),
		ConnectedAccounts: myaccount.ConnectedAccountsConfig{
			Connections:  []myaccount.Connection{{Name: "provider", Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret}},
			RedirectURIs: []string{appRedirect},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	mux := http.NewServeMux()
	mux.Handle("/api/me/", api)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := client{t: t, base: srv.URL + "/api", token: iss.Token(t, "auth0|alice", myaccount.AllScopes()...)}
	status, _, body := c.do("POST", "/me/v1/connected-accounts/connect", map[string]any{"connection": "provider", "redirect_uri": appRedirect})
	var start connectAnswer
	if err := json.Unmarshal(body, &start); err != nil || status != http.StatusCreated {
		t.Fatalf("connect: %d %s", status, body)
	}
	if start.ConnectURI != srv.URL+"/api/me/v1/connected-accounts/authorize" {
		t.Errorf("connect_uri %s", start.ConnectURI)
	}
	h := &connectedHarness{harness: &harness{t: t}, provider: p}
	back, code := h.browse(start.ConnectURI, start.ConnectParams.Ticket)
	if back == nil {
		t.Fatalf("the browser flow ended with %d", code)
	}
	if got := p.LastAuthorization().Get("redirect_uri"); got != srv.URL+"/api/me/v1/connected-accounts/callback" {
		t.Errorf("callback %s", got)
	}
	status, _, body = c.do("POST", "/me/v1/connected-accounts/complete", map[string]any{
		"auth_session": start.AuthSession, "connect_code": back.Query().Get("connect_code"), "redirect_uri": appRedirect})
	if status != http.StatusCreated {
		t.Fatalf("complete: %d %s", status, body)
	}
}

func TestConnectedAccountAuditEvents(t *testing.T) {
	log := &auditLog{}
	h := newConnectedHarness(t, func(c *myaccount.Config) { c.Audit.Handler = log.handle })
	alice := h.token("auth0|alice")
	id := h.link(alice, "plain", nil)["id"].(string)
	session, code := h.connectCode(alice, map[string]any{"connection": "plain", "redirect_uri": appRedirect})
	r := h.do("POST", "/me/v1/connected-accounts/complete", alice,
		map[string]any{"auth_session": session, "connect_code": code, "redirect_uri": "https://app.example/other"})
	wantError(t, r, http.StatusBadRequest, "A0E-400-0003")
	wantStatus(t, h.do("DELETE", "/me/v1/connected-accounts/accounts/"+id, alice, nil), http.StatusNoContent)
	var got []string
	for _, ev := range log.take() {
		if ev.MethodType == "connected-account" {
			if ev.UserID != "auth0|alice" {
				t.Errorf("event %+v", ev)
			}
			got = append(got, ev.Type+" "+ev.MethodID)
		}
	}
	want := []string{myaccount.AuditAccountConnected + " " + id, myaccount.AuditConnectRefused + " ", myaccount.AuditAccountDisconnected + " " + id}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// A code_verifier sent to /complete of a flow whose /connect sent no
// code_challenge is refused (a PKCE downgrade, OAuth 2.1 section 4.1.3), and
// spends the code as every refusal does.
func TestCompleteRefusesAVerifierWithoutAChallenge(t *testing.T) {
	h := newConnectedHarness(t)
	alice := h.token("auth0|alice")
	session, code := h.connectCode(alice, map[string]any{"connection": "provider", "redirect_uri": appRedirect, "state": "s"})
	r := h.complete(alice, session, code, newPKCE("any").verifier)
	wantStatus(t, r, http.StatusBadRequest)
	wantPointer(t, r, "/code_verifier")
	wantStatus(t, h.complete(alice, session, code, ""), http.StatusBadRequest)
}

// A connection may not pass on, from a client's authorization_params, a
// parameter the flow sets itself: it would replace the flow's scopes, PKCE
// or state.
func TestConnectionCannotPassProtocolParams(t *testing.T) {
	for _, name := range []string{"scope", "state", "code_challenge", "redirect_uri", "Nonce"} {
		_, err := myaccount.New(myaccount.Config{
			Issuer: "https://tenant.example.com/", Token: myaccount.TokenConfig{Keyfunc: noKeys},
			Logger: slog.New(slog.DiscardHandler),
			ConnectedAccounts: myaccount.ConnectedAccountsConfig{Connections: []myaccount.Connection{{
				Name: "p", ClientID: "c", AuthURL: "https://p.example/authorize", TokenURL: "https://p.example/token",
				AuthorizationParams: []string{"prompt", name},
			}}},
		})
		if !errors.Is(err, myaccount.ErrConfig) {
			t.Errorf("%s: New gave %v, want ErrConfig", name, err)
		}
	}
}

// The browser steps spend their ticket or state on GET alone: a HEAD (a link
// checker's) is 405 and spends nothing.
func TestBrowserStepsRefuseHEAD(t *testing.T) {
	h := newConnectedHarness(t)
	alice := h.token("auth0|alice")
	p := newPKCE("head")
	start := h.start(alice, map[string]any{"connection": "provider", "redirect_uri": appRedirect,
		"code_challenge": p.challenge, "code_challenge_method": "S256"})
	r := h.do("HEAD", "/me/v1/connected-accounts/authorize?ticket="+start.ConnectParams.Ticket, "", nil)
	wantStatus(t, r, http.StatusMethodNotAllowed)
	if back, _ := h.browse(start.ConnectURI, start.ConnectParams.Ticket); back == nil || back.Query().Get("connect_code") == "" {
		t.Fatalf("the ticket was spent by HEAD: back to %v", back)
	}
}

// Of concurrent callbacks with one state (a reloaded page, a replay), one
// is served: the state is spent before the provider's code is exchanged, so
// the code is exchanged once.
func TestCallbackExchangesTheCodeOnce(t *testing.T) {
	h := newConnectedHarness(t)
	alice := h.token("auth0|alice")
	p := newPKCE("once")
	start := h.start(alice, map[string]any{"connection": "provider", "redirect_uri": appRedirect,
		"code_challenge": p.challenge, "code_challenge_method": "S256"})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := start.ConnectURI + "?ticket=" + url.QueryEscape(start.ConnectParams.Ticket)
	for !strings.Contains(next, "/connected-accounts/callback") { // to the provider, and back
		resp, err := client.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("%s: %d, no Location", next, resp.StatusCode)
		}
		next = loc.String()
	}
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := client.Get(next)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	served := 0
	for s := range statuses {
		if s == http.StatusFound {
			served++
		} else if s != http.StatusBadRequest {
			t.Errorf("a replayed callback got %d", s)
		}
	}
	if exchanged := h.provider.Exchanges(); served != 1 || exchanged != 1 {
		t.Errorf("%d of %d callbacks served, the code presented %d times; want 1 and 1", served, n, exchanged)
	}
}
