package myaccount_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/golang-jwt/jwt/v5"
)

func TestTokenAttacksAreRefused(t *testing.T) {
	h := newHarness(t)
	iss := h.issuer
	valid := h.token("auth0|alice")
	tok := func(opts ...myaccounttest.TokenOption) string {
		return iss.TokenWith(t, "auth0|alice", allScopes, opts...)
	}
	// A token signed by a key the issuer never published, with the right claims.
	impostor := myaccounttest.NewIssuer(t)
	impostor.Issuer, impostor.Audience = iss.Issuer, iss.Audience

	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tamperedPayload := strings.Replace(string(payload), "auth0|alice", "auth0|admin", 1)

	pubDER, _ := x509.MarshalPKIXPublicKey(iss.RSAPublicKey())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hsClaims := jwt.MapClaims{"iss": iss.Issuer, "aud": iss.Audience, "sub": "auth0|alice",
		"exp": time.Now().Add(time.Hour).Unix(), "scope": strings.Join(allScopes, " ")}
	hs256 := func(key []byte) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, hsClaims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	bare := `Bearer realm="` + iss.Audience + `"`
	cases := []struct {
		name, authorization, query string
		wantBare                   bool // a bare challenge (no token) rather than invalid_token
	}{
		{name: "no token", wantBare: true},
		{name: "other scheme", authorization: "Basic YWxpY2U6c2VjcmV0", wantBare: true},
		{name: "token in the query string", query: "?access_token=" + valid, wantBare: true},
		{name: "empty bearer", authorization: "Bearer "},
		{name: "malformed", authorization: "Bearer not-a-jwt"},
		{name: "alg none", authorization: "Bearer " + b64json(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + "."},
		{name: "HS256 with the RSA public key", authorization: "Bearer " + hs256(pubPEM)},
		{name: "HS256 with the RSA public key DER", authorization: "Bearer " + hs256(pubDER)},
		{name: "tampered payload", authorization: "Bearer " + parts[0] + "." + b64json(tamperedPayload) + "." + parts[2]},
		{name: "signed by another key", authorization: "Bearer " + impostor.Token(t, "auth0|alice", allScopes...)},
		{name: "expired", authorization: "Bearer " + tok(myaccounttest.ExpiresIn(-time.Minute))},
		{name: "not yet valid", authorization: "Bearer " + tok(myaccounttest.NotBefore(time.Now().Add(time.Hour)))},
		{name: "issued in the future", authorization: "Bearer " + tok(myaccounttest.IssuedAt(time.Now().Add(time.Hour)))},
		{name: "missing exp", authorization: "Bearer " + tok(myaccounttest.WithClaim("exp", nil))},
		{name: "wrong iss", authorization: "Bearer " + tok(myaccounttest.WithIssuer("https://evil.example/"))},
		{name: "wrong aud", authorization: "Bearer " + tok(myaccounttest.WithAudience("https://other.example/api/"))},
		{name: "unknown kid", authorization: "Bearer " + tok(myaccounttest.WithKeyID("no-such-key"))},
		{name: "client credentials", authorization: "Bearer " + tok(myaccounttest.ClientCredentials())},
		{name: "no subject", authorization: "Bearer " + tok(myaccounttest.WithClaim("sub", nil))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/me/v1/authentication-methods", "/me/v1/factors"} {
				req, _ := http.NewRequest("GET", h.server.URL+path+c.query, nil)
				if c.authorization != "" {
					req.Header.Set("Authorization", c.authorization)
				}
				r := h.send(req)
				wantError(t, r, 401, "A0E-401-0001")
				challenge := r.header.Get("WWW-Authenticate")
				if c.wantBare && challenge != bare {
					t.Errorf("WWW-Authenticate %q, want %q", challenge, bare)
				}
				if !c.wantBare && !strings.HasPrefix(challenge, bare+`, error="invalid_token", error_description="`) {
					t.Errorf("WWW-Authenticate %q", challenge)
				}
				if r.header.Get("X-Ratelimit-Limit") != "" {
					t.Errorf("401 carries rate-limit headers")
				}
			}
		})
	}
	// The same checks pass a good token, and ES256 too.
	wantStatus(t, h.do("GET", "/me/v1/factors", valid, nil), 200)
	wantStatus(t, h.do("GET", "/me/v1/factors", tok(myaccounttest.ES256()), nil), 200)
}

func b64json(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestEachOperationNeedsItsScope(t *testing.T) {
	h := newHarness(t)
	id := "/me/v1/authentication-methods/passkey%7Cdev_AAAAAAAAAAAAAAAA"
	ops := []struct {
		method, path, scope string
		body                any
	}{
		{"GET", "/me/v1/factors", "read:me:factors", nil},
		{"GET", "/me/v1/authentication-methods", "read:me:authentication_methods", nil},
		{"POST", "/me/v1/authentication-methods", "create:me:authentication_methods", map[string]any{"type": "passkey"}},
		{"GET", id, "read:me:authentication_methods", nil},
		{"PATCH", id, "update:me:authentication_methods", map[string]any{"name": "x"}},
		{"DELETE", id, "delete:me:authentication_methods", nil},
		{"POST", "/me/v1/authentication-methods/passkey%7Cnew/verify", "create:me:authentication_methods", map[string]any{"auth_session": "x", "authn_response": map[string]any{}}},
	}
	for _, op := range ops {
		var others []string
		for _, s := range allScopes {
			if s != op.scope {
				others = append(others, s)
			}
		}
		r := h.do(op.method, op.path, h.issuer.Token(t, "auth0|alice", others...), op.body)
		wantError(t, r, 403, "A0E-403-0002")
		challenge := r.header.Get("WWW-Authenticate")
		if !strings.Contains(challenge, `error="insufficient_scope"`) || !strings.Contains(challenge, `scope="`+op.scope+`"`) {
			t.Errorf("%s %s: WWW-Authenticate %q", op.method, op.path, challenge)
		}
		// The scope spelled with hyphens, or granted as a permission, is enough.
		hyphenated := strings.ReplaceAll(op.scope, "_", "-")
		if r := h.do(op.method, op.path, h.issuer.Token(t, "auth0|alice", hyphenated), op.body); r.status == 403 {
			t.Errorf("%s %s: hyphenated scope %q refused", op.method, op.path, hyphenated)
		}
		perm := h.issuer.TokenWith(t, "auth0|alice", nil, myaccounttest.WithPermissions(op.scope))
		if r := h.do(op.method, op.path, perm, op.body); r.status == 403 {
			t.Errorf("%s %s: permission %q refused", op.method, op.path, op.scope)
		}
	}
}

func TestMiddlewareProtectsAnAppsOwnRoutes(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	v, err := myaccount.NewTokenValidator(myaccount.Config{Issuer: iss.Issuer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := myaccount.ClaimsFromContext(r.Context())
		if !ok {
			http.Error(w, "no claims", 500)
			return
		}
		io.WriteString(w, "hello "+claims.Subject)
	})
	mux := http.NewServeMux()
	mux.Handle("/orders", v.Authenticate(myaccount.RequireAudience("https://shop.example/api")(myaccount.RequireScope("read:orders")(hello))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	get := func(token string) (int, string, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/orders", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header.Get("WWW-Authenticate")
	}
	good := iss.TokenWith(t, "auth0|alice", []string{"read:orders"}, myaccounttest.WithAudience("https://shop.example/api"))
	if status, body, _ := get(good); status != 200 || body != "hello auth0|alice" {
		t.Errorf("good token: %d %q", status, body)
	}
	if status, _, challenge := get(""); status != 401 || challenge != `Bearer realm="`+iss.Issuer+`"` {
		t.Errorf("no token: %d %q", status, challenge)
	}
	wrongAud := iss.Token(t, "auth0|alice", "read:orders")
	if status, _, challenge := get(wrongAud); status != 401 || !strings.Contains(challenge, "invalid_token") {
		t.Errorf("wrong audience: %d %q", status, challenge)
	}
	noScope := iss.TokenWith(t, "auth0|alice", []string{"write:orders"}, myaccounttest.WithAudience("https://shop.example/api"))
	if status, _, challenge := get(noScope); status != 403 || !strings.Contains(challenge, `scope="read:orders"`) {
		t.Errorf("missing scope: %d %q", status, challenge)
	}
	if _, ok := myaccount.ClaimsFromContext(context.Background()); ok {
		t.Errorf("claims from an empty context")
	}
	// Without Authenticate in front, RequireScope fails closed.
	rec := httptest.NewRecorder()
	myaccount.RequireScope("read:orders")(hello).ServeHTTP(rec, httptest.NewRequest("GET", "/orders", nil))
	if rec.Code != 401 {
		t.Errorf("RequireScope alone: %d", rec.Code)
	}
}

func TestKeyfuncCanReplaceTheJWKS(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	v, err := myaccount.NewTokenValidator(myaccount.Config{
		Issuer: iss.Issuer,
		Token:  myaccount.TokenConfig{Keyfunc: func(*jwt.Token) (any, error) { return iss.RSAPublicKey(), nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	claims, err := v.Validate(context.Background(), iss.Token(t, "auth0|alice", "read:me:factors"))
	if err != nil || claims.Subject != "auth0|alice" || !claims.HasScope("read:me:factors") {
		t.Fatalf("Validate: %v %+v", err, claims)
	}
}

func TestRotatedKeysAreFetchedAndForgedKidsDoNotStall(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	v, err := myaccount.NewTokenValidator(myaccount.Config{Issuer: iss.Issuer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	if _, err := v.Validate(context.Background(), iss.Token(t, "auth0|alice")); err != nil {
		t.Fatalf("before rotation: %v", err)
	}
	// The issuer rotates: the first token under the new key triggers a refetch.
	if err := iss.Rotate(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(context.Background(), iss.Token(t, "auth0|alice")); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	// Tokens with made-up kids cannot refetch again so soon, and are refused at once.
	start := time.Now()
	for range 20 {
		forged := iss.TokenWith(t, "auth0|alice", nil, myaccounttest.WithKeyID("forged-kid"))
		if _, err := v.Validate(context.Background(), forged); err == nil {
			t.Fatal("a token with an unknown kid verified")
		}
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("20 forged kids took %v", elapsed)
	}
}

// TestSubjectsAStoreCannotKeepAreRefused checks that a token whose sub no
// store could key a row by (a NUL byte, a control or format
// character, more than 1,024 bytes) is refused as a token, before any store
// is asked, and that the longest sub allowed enrolls and lists.
func TestSubjectsAStoreCannotKeepAreRefused(t *testing.T) {
	h := newHarness(t)
	for _, sub := range []string{"auth0|nul\x00x", "auth0|a\nb", "auth0|\u202ealice", "auth0|" + strings.Repeat("y", 1019)} {
		r := h.do("GET", "/me/v1/authentication-methods", h.token(sub), nil)
		if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("sub %q (%d bytes): %d %s %s", sub[:min(len(sub), 20)], len(sub), r.status, r.header.Get("WWW-Authenticate"), r.body)
		}
	}
	longest := h.token("auth0|" + strings.Repeat("y", 1018))
	h.enroll(longest, myaccounttest.NewAuthenticator())
	if r := h.do("GET", "/me/v1/authentication-methods", longest, nil); r.status != http.StatusOK {
		t.Fatalf("list with the longest sub: %d %s", r.status, r.body)
	}
}
