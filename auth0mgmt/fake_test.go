package auth0mgmt_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-myaccount/myaccount/auth0mgmt"
)

// The fake tenant's settings, as a deployment would configure them.
const (
	domain       = "tenant.example"
	clientID     = "m2m-client"
	clientSecret = "m2m-secret"
)

type fakeGrant struct {
	ID       string   `json:"id"`
	ClientID string   `json:"clientID"`
	UserID   string   `json:"user_id"`
	Audience string   `json:"audience,omitempty"`
	Scope    []string `json:"scope"`
}

type fakeOrg struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
	Metadata    any    `json:"metadata"`
}

// fakeAuth0 is the part of an Auth0 tenant the Source calls: the token
// endpoint with the client credentials grant, GET /api/v2/grants and GET
// /api/v2/users/{id}/organizations, with Auth0's offset paging and its 1000
// results limit. Every refusal a real tenant gives for a wrong call (a bad
// token, a missing parameter) is a 400 or 401 here, so a test sees it.
type fakeAuth0 struct {
	srv *httptest.Server

	mu          sync.Mutex
	grants      []fakeGrant
	orgs        map[string][]fakeOrg // by user id; a user absent is unknown
	tokens      int                  // access tokens issued
	calls       []string             // API calls, as "path?query"
	apiStatus   int                  // when set, the API answers it
	tokenStatus int                  // when set, the token endpoint answers it
	ignoreUser  bool                 // when set, grants ignores its user_id filter
	refusedUpTo int                  // tokens mgmt-1 … mgmt-refusedUpTo are revoked
}

func newFake(t *testing.T) *fakeAuth0 {
	f := &fakeAuth0{orgs: map[string][]fakeOrg{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("GET /api/v2/grants", f.authorized(f.listGrants))
	mux.HandleFunc("GET /api/v2/users/{id}/organizations", f.authorized(f.listOrgs))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// source is a Source reading the fake, with grants paged by pageSize.
func (f *fakeAuth0) source(t *testing.T, pageSize int, configure ...func(*auth0mgmt.Config)) *auth0mgmt.Source {
	t.Helper()
	cfg := auth0mgmt.Config{Domain: domain, ClientID: clientID, ClientSecret: clientSecret, BaseURL: f.srv.URL}
	for _, c := range configure {
		c(&cfg)
	}
	s, err := auth0mgmt.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	auth0mgmt.SetPageSize(s, pageSize)
	return s
}

func (f *fakeAuth0) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeAuth0) tokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens
}

func (f *fakeAuth0) set(change func(*fakeAuth0)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func auth0Error(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"statusCode": status, "error": http.StatusText(status), "message": message, "errorCode": code})
}

func (f *fakeAuth0) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tokenStatus != 0 {
		writeJSON(w, f.tokenStatus, map[string]string{"error": "temporarily_unavailable"})
		return
	}
	if r.PostFormValue("grant_type") != "client_credentials" || r.PostFormValue("audience") != "https://"+domain+"/api/v2/" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "grant_type or audience"})
		return
	}
	if r.PostFormValue("client_id") != clientID || r.PostFormValue("client_secret") != clientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "access_denied", "error_description": "Unauthorized"})
		return
	}
	f.tokens++
	writeJSON(w, http.StatusOK, map[string]any{"access_token": "mgmt-" + strconv.Itoa(f.tokens), "token_type": "Bearer", "expires_in": 86400})
}

// authorized checks the Management API token and the common paging
// parameters, records the call, then serves it with page and perPage.
func (f *fakeAuth0) authorized(serve func(w http.ResponseWriter, r *http.Request, page, perPage int)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, r.RequestURI)
		issued, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer mgmt-")
		if n, err := strconv.Atoi(issued); !ok || err != nil || n <= f.refusedUpTo || n > f.tokens {
			auth0Error(w, http.StatusUnauthorized, "invalid_token", "Invalid token")
			return
		}
		if f.apiStatus != 0 {
			auth0Error(w, f.apiStatus, "fake_failure", "failing on purpose")
			return
		}
		q := r.URL.Query()
		page, err1 := strconv.Atoi(q.Get("page"))
		perPage, err2 := strconv.Atoi(q.Get("per_page"))
		if err1 != nil || err2 != nil || page < 0 || perPage < 1 || perPage > 100 || q.Get("include_totals") != "true" {
			auth0Error(w, http.StatusBadRequest, "invalid_query_string", "bad paging")
			return
		}
		if page*perPage >= 1000 {
			auth0Error(w, http.StatusBadRequest, "invalid_paging", "offset paging is limited to the first 1000 results")
			return
		}
		serve(w, r, page, perPage)
	}
}

func pageOf[T any](all []T, page, perPage int) []T {
	start := min(page*perPage, len(all))
	return all[start:min(start+perPage, len(all))]
}

func (f *fakeAuth0) listGrants(w http.ResponseWriter, r *http.Request, page, perPage int) {
	user := r.URL.Query().Get("user_id")
	var mine []fakeGrant
	for _, g := range f.grants {
		if g.UserID == user || f.ignoreUser {
			mine = append(mine, g)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"start": page * perPage, "limit": perPage, "total": len(mine), "grants": nonNil(pageOf(mine, page, perPage)),
	})
}

func (f *fakeAuth0) listOrgs(w http.ResponseWriter, r *http.Request, page, perPage int) {
	orgs, ok := f.orgs[r.PathValue("id")]
	if !ok {
		auth0Error(w, http.StatusNotFound, "inexistent_user", "The user does not exist.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"start": page * perPage, "limit": perPage, "total": len(orgs), "organizations": nonNil(pageOf(orgs, page, perPage)),
	})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// manyOrgs returns n organizations named org-0 … org-(n-1).
func manyOrgs(n int) []fakeOrg {
	orgs := make([]fakeOrg, n)
	for i := range orgs {
		orgs[i] = fakeOrg{ID: fmt.Sprintf("org_%d", i), Name: fmt.Sprintf("org-%d", i), Metadata: map[string]string{}}
	}
	return orgs
}
