package auth0mgmt_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/auth0mgmt"
	"github.com/golang-jwt/jwt/v5"
)

func claimsOf(subject string) *myaccount.Claims {
	return &myaccount.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: subject}}
}

func TestNewRefusesBadConfig(t *testing.T) {
	good := auth0mgmt.Config{Domain: domain, ClientID: clientID, ClientSecret: clientSecret}
	for name, change := range map[string]func(*auth0mgmt.Config){
		"no domain":        func(c *auth0mgmt.Config) { c.Domain = "" },
		"domain with path": func(c *auth0mgmt.Config) { c.Domain = "tenant.example/api" },
		"domain with user": func(c *auth0mgmt.Config) { c.Domain = "me@tenant.example" },
		"no client id":     func(c *auth0mgmt.Config) { c.ClientID = "" },
		"no secret":        func(c *auth0mgmt.Config) { c.ClientSecret = "" },
		"base not http":    func(c *auth0mgmt.Config) { c.BaseURL = "ftp://tenant.example" },
		"base relative":    func(c *auth0mgmt.Config) { c.BaseURL = "/auth0" },
		"negative pages":   func(c *auth0mgmt.Config) { c.MaxPages = -1 },
	} {
		cfg := good
		change(&cfg)
		if _, err := auth0mgmt.New(cfg); !errors.Is(err, myaccount.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
	for _, d := range []string{"tenant.example", "https://tenant.example/", "tenant.eu.auth0.com"} {
		cfg := good
		cfg.Domain = d
		if _, err := auth0mgmt.New(cfg); err != nil {
			t.Errorf("Domain %q: %v", d, err)
		}
	}
}

// TestConsentsReadEveryPage: the user's grants, three pages of two, mapped
// field by field, with one Management API token for every call.
func TestConsentsReadEveryPage(t *testing.T) {
	f := newFake(t)
	for i, id := range []string{"g1", "g2", "g3", "g4", "g5"} {
		f.grants = append(f.grants, fakeGrant{ID: id, ClientID: "client-" + id, UserID: "auth0|alice", Audience: "https://api.example", Scope: []string{"read:tasks"}})
		if i == 2 {
			f.grants = append(f.grants, fakeGrant{ID: "bob1", ClientID: "c", UserID: "auth0|bob"})
		}
	}
	f.grants[4].Audience, f.grants[4].Scope = "", nil
	src := f.source(t, 2)
	got, err := src.Consents(context.Background(), claimsOf("auth0|alice"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
		if !c.CreatedAt.IsZero() || !c.ExpiresAt.IsZero() {
			t.Errorf("%s: times %v %v, want zero: Auth0 keeps none", c.ID, c.CreatedAt, c.ExpiresAt)
		}
	}
	if want := []string{"g1", "g2", "g3", "g4", "g5"}; !slices.Equal(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	if want := (myaccount.Consent{ID: "g1", ClientID: "client-g1", Audience: "https://api.example", Scopes: []string{"read:tasks"}}); !reflect.DeepEqual(got[0], want) {
		t.Errorf("g1 %+v, want %+v", got[0], want)
	}
	if got[3].Audience != "" || got[3].Scopes != nil {
		t.Errorf("g5 (no audience, no scope) %+v", got[3])
	}
	want := []string{
		"/api/v2/grants?include_totals=true&page=0&per_page=2&user_id=auth0%7Calice",
		"/api/v2/grants?include_totals=true&page=1&per_page=2&user_id=auth0%7Calice",
		"/api/v2/grants?include_totals=true&page=2&per_page=2&user_id=auth0%7Calice",
	}
	if calls := f.seen(); !slices.Equal(calls, want) {
		t.Errorf("calls\n%v\nwant\n%v", calls, want)
	}
	if _, err := src.Consents(context.Background(), claimsOf("auth0|bob")); err != nil {
		t.Fatal(err)
	}
	if n := f.tokensIssued(); n != 1 {
		t.Errorf("%d tokens taken, want 1 kept for every call", n)
	}
	none, err := src.Consents(context.Background(), claimsOf("auth0|carol"))
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("no grants: %v %v, want an empty slice", none, err)
	}
}

func TestConsentsReadAtMostMaxPages(t *testing.T) {
	f := newFake(t)
	for _, id := range []string{"g1", "g2", "g3", "g4", "g5", "g6", "g7"} {
		f.grants = append(f.grants, fakeGrant{ID: id, ClientID: "c", UserID: "auth0|alice"})
	}
	src := f.source(t, 2, func(c *auth0mgmt.Config) { c.MaxPages = 2 })
	got, err := src.Consents(context.Background(), claimsOf("auth0|alice"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || len(f.seen()) != 2 {
		t.Errorf("%d consents in %d calls, want 4 in 2", len(got), len(f.seen()))
	}
	if _, err := src.Consent(context.Background(), claimsOf("auth0|alice"), "g7"); !errors.Is(err, myaccount.ErrNotFound) {
		t.Errorf("grant past the bound: %v, want ErrNotFound", err)
	}
}

func TestConsentIsTheUsersGrantOnly(t *testing.T) {
	f := newFake(t)
	f.grants = []fakeGrant{
		{ID: "a1", ClientID: "client-a", UserID: "auth0|alice", Scope: []string{"openid"}},
		{ID: "b1", ClientID: "client-b", UserID: "auth0|bob"},
	}
	src := f.source(t, 100)
	ctx := context.Background()
	c, err := src.Consent(ctx, claimsOf("auth0|alice"), "a1")
	if err != nil || c.ID != "a1" || c.ClientID != "client-a" || !slices.Equal(c.Scopes, []string{"openid"}) {
		t.Fatalf("own grant: %+v %v", c, err)
	}
	for _, id := range []string{"b1", "nope", ""} {
		if _, err := src.Consent(ctx, claimsOf("auth0|alice"), id); !errors.Is(err, myaccount.ErrNotFound) {
			t.Errorf("grant %q: %v, want ErrNotFound", id, err)
		}
	}
	// A Management API that ignored the user_id filter still shows no one
	// else's grant.
	f.set(func(f *fakeAuth0) { f.ignoreUser = true })
	if _, err := src.Consent(ctx, claimsOf("auth0|alice"), "b1"); !errors.Is(err, myaccount.ErrNotFound) {
		t.Errorf("unfiltered answer, bob's grant: %v, want ErrNotFound", err)
	}
	all, err := src.Consents(ctx, claimsOf("auth0|alice"))
	if err != nil || len(all) != 1 || all[0].ID != "a1" {
		t.Errorf("unfiltered answer: %+v %v, want a1 only", all, err)
	}
	if _, err := src.Consents(ctx, claimsOf("")); err == nil {
		t.Error("no subject: no error")
	}
}

func orgIDs(orgs []myaccount.Organization) []string {
	ids := []string{}
	for _, o := range orgs {
		ids = append(ids, o.ID)
	}
	return ids
}

func TestOrganizationsPages(t *testing.T) {
	f := newFake(t)
	f.orgs["auth0|alice"] = manyOrgs(5)
	f.orgs["auth0|alice"][0].DisplayName = "Org Zero"
	f.orgs["auth0|nobody"] = nil
	src := f.source(t, 100)
	ctx, alice := context.Background(), claimsOf("auth0|alice")
	from := ""
	for _, want := range []struct {
		ids  []string
		next string
	}{{[]string{"org_0", "org_1"}, "2"}, {[]string{"org_2", "org_3"}, "4"}, {[]string{"org_4"}, ""}} {
		orgs, next, err := src.Organizations(ctx, alice, from, 2)
		if err != nil {
			t.Fatalf("from %q: %v", from, err)
		}
		if !slices.Equal(orgIDs(orgs), want.ids) || next != want.next {
			t.Fatalf("from %q: %v next %q, want %v next %q", from, orgIDs(orgs), next, want.ids, want.next)
		}
		from = next
	}
	if calls := f.seen(); len(calls) != 3 || calls[0] != "/api/v2/users/auth0%7Calice/organizations?include_totals=true&page=0&per_page=2" {
		t.Errorf("calls %v, want one per page", calls)
	}
	orgs, _, _ := src.Organizations(ctx, alice, "", 1)
	if want := (myaccount.Organization{ID: "org_0", Name: "org-0", DisplayName: "Org Zero"}); len(orgs) != 1 || orgs[0] != want {
		t.Errorf("mapped %+v, want %+v", orgs, want)
	}

	t.Run("a take that changes reads two pages", func(t *testing.T) {
		before := len(f.seen())
		orgs, next, err := src.Organizations(ctx, alice, "1", 3)
		if err != nil || !slices.Equal(orgIDs(orgs), []string{"org_1", "org_2", "org_3"}) || next != "4" {
			t.Errorf("from 1 take 3: %v next %q %v", orgIDs(orgs), next, err)
		}
		if n := len(f.seen()) - before; n != 2 {
			t.Errorf("%d calls, want 2", n)
		}
		orgs, next, err = src.Organizations(ctx, alice, "4", 3)
		if err != nil || !slices.Equal(orgIDs(orgs), []string{"org_4"}) || next != "" {
			t.Errorf("from 4 take 3: %v next %q %v", orgIDs(orgs), next, err)
		}
	})
	t.Run("exactly full last page", func(t *testing.T) {
		orgs, next, err := src.Organizations(ctx, alice, "", 5)
		if err != nil || len(orgs) != 5 || next != "" {
			t.Errorf("take 5 of 5: %d next %q %v", len(orgs), next, err)
		}
	})
	t.Run("cursors it did not write", func(t *testing.T) {
		for _, from := range []string{"x", "0", "01", "-1", "+1", "1000", "99999999999999999999", " 2"} {
			if _, _, err := src.Organizations(ctx, alice, from, 2); !errors.Is(err, myaccount.ErrInvalidCursor) {
				t.Errorf("from %q: %v, want ErrInvalidCursor", from, err)
			}
		}
	})
	t.Run("a user id that needs escaping", func(t *testing.T) {
		user := "samlp|corp|a/b?c=d#e"
		f.set(func(f *fakeAuth0) { f.orgs[user] = manyOrgs(1) })
		orgs, _, err := src.Organizations(ctx, claimsOf(user), "", 5)
		if err != nil || !slices.Equal(orgIDs(orgs), []string{"org_0"}) {
			t.Errorf("%v %v", orgIDs(orgs), err)
		}
		if calls := f.seen(); !strings.HasPrefix(calls[len(calls)-1], "/api/v2/users/samlp%7Ccorp%7Ca%2Fb%3Fc=d%23e/organizations?") {
			t.Errorf("call %s", calls[len(calls)-1])
		}
	})
	t.Run("none", func(t *testing.T) {
		for _, user := range []string{"auth0|nobody", "auth0|unknown-to-the-tenant"} {
			orgs, next, err := src.Organizations(ctx, claimsOf(user), "", 50)
			if err != nil || orgs == nil || len(orgs) != 0 || next != "" {
				t.Errorf("%s: %v next %q %v, want an empty page", user, orgs, next, err)
			}
		}
	})
}

// TestOrganizationsStopAtAuth0sOffsetLimit: Auth0 serves the first 1000
// results with offset paging; the Source never asks past them (the fake
// answers 400 if it does) and gives no next there.
func TestOrganizationsStopAtAuth0sOffsetLimit(t *testing.T) {
	f := newFake(t)
	f.orgs["auth0|many"] = manyOrgs(1005)
	src := f.source(t, 100)
	ctx, many := context.Background(), claimsOf("auth0|many")
	orgs, next, err := src.Organizations(ctx, many, "900", 100)
	if err != nil || len(orgs) != 100 || orgs[99].ID != "org_999" || next != "" {
		t.Errorf("from 900: %d, last %v, next %q, %v", len(orgs), orgIDs(orgs[len(orgs)-1:]), next, err)
	}
	orgs, next, err = src.Organizations(ctx, many, "995", 10)
	if err != nil || !slices.Equal(orgIDs(orgs), []string{"org_995", "org_996", "org_997", "org_998", "org_999"}) || next != "" {
		t.Errorf("from 995: %v next %q %v", orgIDs(orgs), next, err)
	}
	orgs, next, err = src.Organizations(ctx, many, "880", 20)
	if err != nil || len(orgs) != 20 || next != "900" {
		t.Errorf("from 880: %d next %q %v", len(orgs), next, err)
	}
}

// TestManagementAPIErrors: what a failing tenant gives, sorted into the
// core's 503 (retry), 404, or neither (a configuration error: 500).
func TestManagementAPIErrors(t *testing.T) {
	ctx, alice := context.Background(), claimsOf("auth0|alice")
	type outcome int
	const (
		unavailable outcome = iota
		configError
	)
	check := func(t *testing.T, src *auth0mgmt.Source, want outcome) {
		t.Helper()
		_, err1 := src.Consents(ctx, alice)
		_, err2 := src.Consent(ctx, alice, "a1")
		_, _, err3 := src.Organizations(ctx, alice, "", 10)
		for i, err := range []error{err1, err2, err3} {
			switch {
			case err == nil:
				t.Errorf("call %d: no error", i)
			case want == unavailable && !errors.Is(err, myaccount.ErrUnavailable):
				t.Errorf("call %d: %v, want ErrUnavailable", i, err)
			case want == configError && (errors.Is(err, myaccount.ErrUnavailable) || errors.Is(err, myaccount.ErrNotFound)):
				t.Errorf("call %d: %v, want neither ErrUnavailable nor ErrNotFound", i, err)
			}
			if err != nil && (strings.Contains(err.Error(), "mgmt-") || strings.Contains(err.Error(), "secret")) {
				t.Errorf("call %d: the error shows the token or the client secret: %v", i, err)
			}
		}
	}
	for _, tc := range []struct {
		name string
		set  func(*fakeAuth0)
		want outcome
	}{
		{"API 503", func(f *fakeAuth0) { f.apiStatus = http.StatusServiceUnavailable }, unavailable},
		{"API 500", func(f *fakeAuth0) { f.apiStatus = http.StatusInternalServerError }, unavailable},
		{"API 429", func(f *fakeAuth0) { f.apiStatus = http.StatusTooManyRequests }, unavailable},
		{"API 403", func(f *fakeAuth0) { f.apiStatus = http.StatusForbidden }, configError},
		{"token endpoint 503", func(f *fakeAuth0) { f.tokenStatus = http.StatusServiceUnavailable }, unavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.orgs["auth0|alice"] = manyOrgs(1)
			f.set(tc.set)
			check(t, f.source(t, 100), tc.want)
		})
	}
	t.Run("API 403 names Auth0's error code", func(t *testing.T) {
		f := newFake(t)
		f.set(func(f *fakeAuth0) { f.apiStatus = http.StatusForbidden })
		_, err := f.source(t, 100).Consents(ctx, alice)
		if err == nil || !strings.Contains(err.Error(), `403 Forbidden, errorCode "fake_failure"`) {
			t.Errorf("%v", err)
		}
	})
	t.Run("wrong client secret", func(t *testing.T) {
		f := newFake(t)
		check(t, f.source(t, 100, func(c *auth0mgmt.Config) { c.ClientSecret = "wrong-secret" }), configError)
	})
	t.Run("server down", func(t *testing.T) {
		f := newFake(t)
		src := f.source(t, 100)
		f.srv.Close()
		check(t, src, unavailable)
	})
	for _, slowPath := range []string{"/oauth/token", "/api/v2/"} {
		t.Run("timeout at "+slowPath, func(t *testing.T) {
			f := newFake(t)
			f.orgs["auth0|alice"] = manyOrgs(1)
			src := f.source(t, 100, func(c *auth0mgmt.Config) { c.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond} })
			mux := http.NewServeMux()
			mux.Handle("/", f.srv.Config.Handler)
			release := make(chan struct{})
			t.Cleanup(func() { close(release) }) // before the server closes
			mux.HandleFunc(slowPath, func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
			})
			f.srv.Config.Handler = mux
			check(t, src, unavailable)
		})
	}
	t.Run("a redirect is not followed with the token", func(t *testing.T) {
		var elsewhere atomic.Int32
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
		t.Cleanup(other.Close)
		f := newFake(t)
		src := f.source(t, 100)
		mux := http.NewServeMux()
		mux.Handle("POST /oauth/token", f.srv.Config.Handler)
		mux.HandleFunc("/api/v2/", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
		})
		f.srv.Config.Handler = mux
		check(t, src, configError)
		if n := elsewhere.Load(); n != 0 {
			t.Errorf("the other host got %d calls", n)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		f := newFake(t)
		src := f.source(t, 100)
		mux := http.NewServeMux()
		mux.Handle("POST /oauth/token", f.srv.Config.Handler)
		mux.HandleFunc("/api/v2/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) })
		f.srv.Config.Handler = mux
		check(t, src, configError)
	})
}

// TestARefusedTokenIsReplaced: a token the Management API refuses before it
// expires (its grant revoked, the tenant's keys rotated) is dropped and the
// call made once more with a new one; a second refusal is an error.
func TestARefusedTokenIsReplaced(t *testing.T) {
	f := newFake(t)
	f.grants = []fakeGrant{{ID: "g1", ClientID: "c", UserID: "auth0|alice"}}
	src := f.source(t, 100)
	ctx, alice := context.Background(), claimsOf("auth0|alice")
	if _, err := src.Consents(ctx, alice); err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeAuth0) { f.refusedUpTo = f.tokens })
	got, err := src.Consents(ctx, alice)
	if err != nil || len(got) != 1 {
		t.Fatalf("after the token was revoked: %v %v", got, err)
	}
	if n, calls := f.tokensIssued(), len(f.seen()); n != 2 || calls != 3 {
		t.Errorf("%d tokens, %d calls; want 2 tokens, 3 calls", n, calls)
	}
	f.set(func(f *fakeAuth0) { f.refusedUpTo = 1 << 30 })
	_, err = src.Consents(ctx, alice)
	if err == nil || errors.Is(err, myaccount.ErrUnavailable) || errors.Is(err, myaccount.ErrNotFound) {
		t.Errorf("every token refused: %v, want a configuration error", err)
	}
	if calls := len(f.seen()); calls != 5 {
		t.Errorf("%d calls, want 5: one retry only", calls)
	}
}
