package myaccount_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// shopClaims are an app's own claims, namespaced as Auth0 requires of custom ones.
type shopClaims struct {
	Roles []string `json:"https://shop.example/roles"`
	Tier  int      `json:"https://shop.example/tier"`
}

// An app mounts the API and protects its own routes with the API's validator:
// its own audience and realm, a token from a cookie, optional credentials, and
// its own claims type.
func TestAppRoutesWithTheAPIsValidator(t *testing.T) {
	h := newHarness(t)
	const shop = "https://shop.example/api"
	v := h.api.Validator()
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := myaccount.ClaimsFromContext(r.Context())
		if !ok {
			io.WriteString(w, "anonymous")
			return
		}
		var mine shopClaims
		if err := claims.Decode(&mine); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"sub": claims.Subject, "roles": mine.Roles, "tier": mine.Tier})
	})
	mux := http.NewServeMux()
	mux.Handle("/me/", h.api)
	mux.Handle("/orders", v.AuthenticateWith(myaccount.AuthOptions{Audience: shop})(myaccount.RequireScope("read:orders")(whoami)))
	mux.Handle("/catalog", v.AuthenticateWith(myaccount.AuthOptions{Audience: shop, CredentialsOptional: true})(whoami))
	mux.Handle("/cookie", v.AuthenticateWith(myaccount.AuthOptions{Audience: shop,
		Extractor: headerOrCookie("at")})(whoami))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	get := func(path string, set func(*http.Request)) (int, string, []string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if set != nil {
			set(req)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body)), resp.Header.Values("WWW-Authenticate")
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	good := h.issuer.TokenWith(t, "auth0|alice", []string{"read:orders"}, myaccounttest.WithAudience(shop),
		myaccounttest.WithClaim("https://shop.example/roles", []string{"buyer"}), myaccounttest.WithClaim("https://shop.example/tier", 2))
	want := `{"roles":["buyer"],"sub":"auth0|alice","tier":2}`
	if status, body, _ := get("/orders", bearer(good)); status != 200 || body != want {
		t.Errorf("custom claims: %d %s", status, body)
	}
	// The app's realm in its challenges, not the My Account audience.
	if status, _, ch := get("/orders", nil); status != 401 || len(ch) == 0 || ch[0] != `Bearer realm="`+shop+`"` {
		t.Errorf("no token: %d %q", status, ch)
	}
	meToken := h.token("auth0|alice") // the My Account audience
	if status, _, ch := get("/orders", bearer(meToken)); status != 401 || !strings.HasPrefix(ch[0], `Bearer realm="`+shop+`", error="invalid_token"`) {
		t.Errorf("wrong audience: %d %q", status, ch)
	}
	// Optional credentials: none passes without claims; a bad token does not pass.
	if status, body, _ := get("/catalog", nil); status != 200 || body != "anonymous" {
		t.Errorf("optional, no token: %d %s", status, body)
	}
	if status, _, _ := get("/catalog", bearer(good[:len(good)-4]+"AAAA")); status != 401 {
		t.Errorf("optional, bad token: %d", status)
	}
	if status, body, _ := get("/catalog", bearer(good)); status != 200 || body != want {
		t.Errorf("optional, good token: %d %s", status, body)
	}
	// A token from a cookie; the query string is never read unless asked for.
	if status, body, _ := get("/cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "at", Value: good}) }); status != 200 || body != want {
		t.Errorf("cookie: %d %s", status, body)
	}
	if status, _, _ := get("/cookie?access_token="+good, nil); status != 401 {
		t.Errorf("query string: %d", status)
	}
	if status, _, _ := get("/cookie", bearer(good)); status != 200 {
		t.Errorf("header through FirstTokenExtractor: %d", status)
	}
	// The API itself still reads only the Authorization header.
	if status, _, _ := get("/me/v1/factors", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "at", Value: meToken}) }); status != 401 {
		t.Errorf("API with a cookie: %d", status)
	}
}

// headerOrCookie is an app's extractor: a bearer token in the Authorization
// header, else the named cookie.
func headerOrCookie(name string) func(*http.Request) (string, error) {
	return func(r *http.Request) (string, error) {
		if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			return token, nil
		}
		if c, err := r.Cookie(name); err == nil {
			return c.Value, nil
		}
		return "", nil
	}
}

// An extractor's error answers 401, as a bad token does.
func TestExtractorErrorsAre401(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	v := newValidator(t, iss)
	fromQuery := func(r *http.Request) (string, error) {
		values := r.URL.Query()["access_token"]
		if len(values) > 1 {
			return "", errors.New("more than one token in the query")
		}
		if len(values) == 0 {
			return "", nil
		}
		return values[0], nil
	}
	h := v.AuthenticateWith(myaccount.AuthOptions{Extractor: fromQuery})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for target, want := range map[string]int{
		"/events?access_token=" + iss.Token(t, "auth0|alice"): 200,
		"/events":                               401,
		"/events?access_token=a&access_token=b": 401,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", target, rec.Code, want)
		}
	}
}

// ContextWithClaims lets a test (or an app's own middleware) put claims in a
// context; RequireScope and RequireAudience take them like verified ones.
func TestContextWithClaims(t *testing.T) {
	claims, err := myaccount.ClaimsFromJSON([]byte(`{"sub":"auth0|alice","aud":"https://shop.example/api","scope":"read:orders","https://shop.example/tier":3}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := myaccount.ClaimsFromJSON([]byte(`{"sub":"auth0|alice","exp":"9999999999"}`)); err == nil {
		t.Error("ClaimsFromJSON took exp as a string")
	}
	var tier int
	h := myaccount.RequireAudience("https://shop.example/api")(myaccount.RequireScope("read:orders")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := myaccount.ClaimsFromContext(r.Context())
		var mine shopClaims
		c.Decode(&mine)
		tier = mine.Tier
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(myaccount.ContextWithClaims(context.Background(), claims, "shop"), "GET", "/", nil))
	if rec.Code != 200 || tier != 3 {
		t.Errorf("status %d, tier %d", rec.Code, tier)
	}
	claims.Scope = "write:orders"
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(myaccount.ContextWithClaims(context.Background(), claims, "shop"), "GET", "/", nil))
	if rec.Code != 403 || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), `Bearer realm="shop", error="insufficient_scope"`) {
		t.Errorf("status %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

// newValidator is a validator of iss's tokens, closed at cleanup.
func newValidator(t *testing.T, iss *myaccounttest.Issuer) *myaccount.TokenValidator {
	t.Helper()
	v, err := myaccount.NewTokenValidator(myaccount.Config{Issuer: iss.Issuer, Token: myaccount.TokenConfig{Keyfunc: iss.Keyfunc}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}
