package myaccount_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/golang-jwt/jwt/v5"
)

var noKeys = func(*jwt.Token) (any, error) { return nil, errors.New("no keys") }

// newLogged makes an API logging to a buffer, and returns the log.
func newLogged(t *testing.T, cfg myaccount.Config) (*myaccount.API, *testenv.Buffer) {
	t.Helper()
	var buf testenv.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	if cfg.Token.Keyfunc == nil {
		cfg.Token.Keyfunc = noKeys
	}
	api, err := myaccount.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(api.Close)
	return api, &buf
}

func TestNewWarnsOfQuietMisconfigurations(t *testing.T) {
	const (
		origin   = "an origin's host is not the relying party id"
		audience = "lacks its trailing slash"
		memory   = "no Store set"
	)
	for _, c := range []struct {
		name string
		cfg  myaccount.Config
		want []string
	}{
		{"defaults", myaccount.Config{Domain: "tenant.auth0.com"}, []string{memory}},
		{"own store", myaccount.Config{Domain: "tenant.auth0.com", Store: myaccount.NewMemoryStore()}, nil},
		{"origins under the RP ID", myaccount.Config{Domain: "tenant.example.com", Store: myaccount.NewMemoryStore(),
			WebAuthn: myaccount.WebAuthnConfig{Origins: []string{"https://tenant.example.com", "https://app.tenant.example.com:8443"}}}, nil},
		{"origin elsewhere", myaccount.Config{Domain: "tenant.example.com", Store: myaccount.NewMemoryStore(),
			WebAuthn: myaccount.WebAuthnConfig{Origins: []string{"https://tenant.example.com", "https://other.example"}}}, []string{origin, "origin=https://other.example"}},
		{"look-alike origin", myaccount.Config{Domain: "example.com", Store: myaccount.NewMemoryStore(),
			WebAuthn: myaccount.WebAuthnConfig{Origins: []string{"https://badexample.com"}}}, []string{origin}},
		{"Auth0 audience without slash", myaccount.Config{Domain: "tenant.eu.auth0.com", Store: myaccount.NewMemoryStore(),
			Audience: "https://tenant.eu.auth0.com/me"}, []string{audience}},
		{"custom domain audience without slash", myaccount.Config{Domain: "login.example.com", Store: myaccount.NewMemoryStore(),
			Audience: "https://login.example.com/me"}, []string{audience}},
		{"another API's audience", myaccount.Config{Domain: "tenant.auth0.com", Store: myaccount.NewMemoryStore(),
			Audience: "https://api.example.com"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, log := newLogged(t, c.cfg)
			got := log.String()
			for _, want := range c.want {
				if strings.Count(got, want) != 1 {
					t.Errorf("log lacks one %q:\n%s", want, got)
				}
			}
			for _, never := range []string{origin, audience, memory} {
				if len(c.want) == 0 && strings.Contains(got, never) {
					t.Errorf("unexpected %q:\n%s", never, got)
				}
			}
		})
	}
}

// A Store or Limiter holding a nil pointer is refused at New, not by a panic
// on the first request.
func TestNewRefusesTypedNilStoreAndLimiter(t *testing.T) {
	var store *storeImpl
	var limiter *limiterImpl
	for name, cfg := range map[string]myaccount.Config{
		"Store":   {Domain: "tenant.example.com", Token: myaccount.TokenConfig{Keyfunc: noKeys}, Store: store},
		"Limiter": {Domain: "tenant.example.com", Token: myaccount.TokenConfig{Keyfunc: noKeys}, RateLimits: myaccount.RateLimitConfig{Limiter: limiter}},
	} {
		api, err := myaccount.New(cfg)
		if err == nil {
			api.Close()
			t.Errorf("%s: a typed nil accepted", name)
			continue
		}
		if !errors.Is(err, myaccount.ErrConfig) || !strings.Contains(err.Error(), name+" is a nil") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A request under a prefix while BasePath is empty stays 404, and the log says
// once which BasePath would serve it.
func TestRequestUnderAPrefixHintsBasePath(t *testing.T) {
	api, log := newLogged(t, myaccount.Config{Domain: "tenant.example.com", Store: myaccount.NewMemoryStore()})
	get := func(path string) int {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	for _, path := range []string{"/me/v1/nothing", "/static/app.js", "/x/me/v1/nothing", "/a%2Fb/me/v1/factors"} {
		if status := get(path); status != http.StatusNotFound {
			t.Errorf("%s: %d", path, status)
		}
	}
	if got := log.String(); strings.Contains(got, "BasePath") {
		t.Fatalf("a hint for paths no BasePath serves:\n%s", got)
	}
	for _, path := range []string{"/api/me/v1/factors", "/api/me/authentication-methods", "/v2/api/me/v1/factors"} {
		if status := get(path); status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404 still", path, status)
		}
	}
	got := log.String()
	if strings.Count(got, "set BasePath") != 1 || !strings.Contains(got, "base_path=/api") {
		t.Errorf("log:\n%s", got)
	}
	// Once BasePath is set, the request is served (401: it has no token).
	api2, _ := newLogged(t, myaccount.Config{Domain: "tenant.example.com", BasePath: "/api"})
	rec := httptest.NewRecorder()
	api2.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/me/v1/factors", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("with BasePath /api: %d", rec.Code)
	}
}

// With the default logger, a test binary's API logs no audit event and no
// note of the in-memory store; a Logger set asks for them.
func TestQuietInTestsUnlessAsked(t *testing.T) {
	var buf testenv.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	api, err := myaccount.New(myaccount.Config{Domain: "tenant.example.com", Token: myaccount.TokenConfig{Keyfunc: noKeys}})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/me/v1/factors", nil)
	req.Header.Set("Authorization", "Bearer not.a.token") // a refused token: an audit event
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d", rec.Code)
	}
	if got := buf.String(); got != "" {
		t.Errorf("the default logger got:\n%s", got)
	}
	// Asked for: a Logger of the test's own.
	api2, log := newLogged(t, myaccount.Config{Domain: "tenant.example.com"})
	api2.ServeHTTP(httptest.NewRecorder(), req)
	if got := log.String(); !strings.Contains(got, "myaccount_token_refused") || !strings.Contains(got, "no Store set") {
		t.Errorf("the test's logger got:\n%s", got)
	}
}

// storeImpl and limiterImpl are a Store and a Limiter of the test's own, whose
// nil pointers are typed nils.
type (
	storeImpl   struct{ myaccount.Store }
	limiterImpl struct{ myaccount.Limiter }
)
