package myaccounttest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Provider is an OAuth 2.0 / OpenID Connect provider for testing connected
// accounts offline: discovery, an authorization endpoint whose consent step
// approves at once (PKCE S256 required), a token endpoint that rotates
// refresh tokens (a used one is invalid_grant), revocation (RFC 7009),
// UserInfo and a JWKS. Its users are whoever the authorization request's
// login_hint names, else Subject. It is safe for concurrent use.
type Provider struct {
	// Issuer is the provider's issuer URL, without a trailing slash.
	Issuer string
	// ClientID and ClientSecret are the one client the provider knows.
	ClientID, ClientSecret string
	// Subject is the user who signs in when the request has no login_hint.
	// Default: "provider-user".
	Subject string
	// AccessTokenTTL is the lifetime of access tokens. Default: one hour.
	AccessTokenTTL time.Duration

	mu        sync.Mutex
	key       *rsa.PrivateKey
	codes     map[string]*grant // authorization codes, single use
	refresh   map[string]*grant // live refresh tokens
	access    map[string]*grant // live access tokens
	deny      string            // the error the next authorization answers, if any
	lastAuth  url.Values        // the query of the last authorization request
	refreshs  int
	exchanges int

	srv *httptest.Server
}

// grant is what one user gave the client; rotating a refresh token keeps it.
type grant struct {
	subject, scope, nonce, redirectURI, challenge string
	revoked                                       bool
	expires                                       time.Time
}

// NewProvider starts a provider on an httptest server on 127.0.0.1, closed
// by tb.Cleanup, with the client "test-client" / "test-secret".
func NewProvider(tb testing.TB) *Provider {
	tb.Helper()
	p, err := NewDevProvider("")
	if err != nil {
		tb.Fatalf("myaccounttest: %v", err)
	}
	p.srv = httptest.NewServer(p.Handler())
	tb.Cleanup(p.srv.Close)
	p.Issuer = p.srv.URL
	return p
}

// NewDevProvider returns a provider with no server of its own, for a demo
// that mounts Handler at issuer (a URL whose path the handler's routes
// follow), with the client "test-client" / "test-secret".
func NewDevProvider(issuer string) (*Provider, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &Provider{
		Issuer: strings.TrimSuffix(issuer, "/"), ClientID: "test-client", ClientSecret: "test-secret",
		key: key, codes: make(map[string]*grant), refresh: make(map[string]*grant), access: make(map[string]*grant),
	}, nil
}

// DenyNext makes the next authorization request end with the OAuth 2.0
// error code given (such as "access_denied") instead of a code.
func (p *Provider) DenyNext(code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny = code
}

// RevokeUser withdraws every grant of the user, as a user does in the
// provider's settings: their refresh and access tokens stop working.
func (p *Provider) RevokeUser(subject string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, g := range p.refresh {
		if g.subject == subject {
			g.revoked = true
		}
	}
}

// LastAuthorization returns the query of the last authorization request,
// so that a test can see what a client asked for.
func (p *Provider) LastAuthorization() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := url.Values{}
	for k, v := range p.lastAuth {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// Exchanges counts the authorization codes presented to the token endpoint
// so far, refused ones included.
func (p *Provider) Exchanges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exchanges
}

// Refreshes counts the successful refresh-token grants so far.
func (p *Provider) Refreshes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refreshs
}

// Tokens returns every access token the provider issued and every refresh
// token that still works, so that a test can look for them where they must
// not be.
func (p *Provider) Tokens() (access, refresh []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for t := range p.access {
		access = append(access, t)
	}
	for t, g := range p.refresh {
		if !g.revoked {
			refresh = append(refresh, t)
		}
	}
	return access, refresh
}

// Handler serves the provider under the path of Issuer:
// /.well-known/openid-configuration, /authorize, /token, /revoke, /userinfo
// and /jwks.
func (p *Provider) Handler() http.Handler {
	prefix := ""
	if u, err := url.Parse(p.Issuer); err == nil {
		prefix = u.Path
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET "+prefix+"/authorize", p.authorize)
	mux.HandleFunc("POST "+prefix+"/token", p.token)
	mux.HandleFunc("POST "+prefix+"/revoke", p.revoke)
	mux.HandleFunc("GET "+prefix+"/userinfo", p.userinfo)
	mux.HandleFunc("GET "+prefix+"/jwks", p.jwks)
	return mux
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeProviderJSON(w, http.StatusOK, map[string]any{
		"issuer": p.Issuer, "authorization_endpoint": p.Issuer + "/authorize", "token_endpoint": p.Issuer + "/token",
		"revocation_endpoint": p.Issuer + "/revoke", "userinfo_endpoint": p.Issuer + "/userinfo",
		"jwks_uri": p.Issuer + "/jwks", "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported": []string{"S256"},
	})
}

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirectURI := q.Get("redirect_uri")
	if q.Get("client_id") != p.ClientID || redirectURI == "" {
		http.Error(w, "unknown client or no redirect_uri", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	p.mu.Lock()
	p.lastAuth = q
	deny := p.deny
	p.deny = ""
	switch {
	case deny != "":
		back.Set("error", deny)
		back.Set("error_description", "The user did not approve.")
	case q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		back.Set("error", "invalid_request")
		back.Set("error_description", "PKCE with S256 is required.")
	default:
		subject := q.Get("login_hint")
		if subject == "" {
			subject = p.subject()
		}
		code := randomString(32)
		p.codes[code] = &grant{
			subject: subject, scope: q.Get("scope"), nonce: q.Get("nonce"), redirectURI: redirectURI,
			challenge: q.Get("code_challenge"), expires: time.Now().Add(time.Minute),
		}
		back.Set("code", code)
	}
	p.mu.Unlock()
	sep := "?"
	if strings.Contains(redirectURI, "?") {
		sep = "&"
	}
	http.Redirect(w, r, redirectURI+sep+back.Encode(), http.StatusFound)
}

func (p *Provider) subject() string {
	if p.Subject != "" {
		return p.Subject
	}
	return "provider-user"
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	} else {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var g *grant
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		p.exchanges++
		code := r.PostForm.Get("code")
		g = p.codes[code]
		delete(p.codes, code)
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if g == nil || time.Now().After(g.expires) || g.redirectURI != r.PostForm.Get("redirect_uri") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
	case "refresh_token":
		old := r.PostForm.Get("refresh_token")
		g = p.refresh[old]
		delete(p.refresh, old) // rotation: a refresh token works once
		if g == nil || g.revoked {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		p.refreshs++
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	ttl := p.AccessTokenTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	access, refresh := randomString(32), randomString(32)
	p.access[access], p.refresh[refresh] = g, g
	body := map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": int(ttl / time.Second),
		"refresh_token": refresh, "scope": g.scope,
	}
	if strings.Contains(" "+g.scope+" ", " openid ") {
		idToken, err := p.idToken(g)
		if err != nil {
			tokenError(w, http.StatusInternalServerError, "server_error")
			return
		}
		body["id_token"] = idToken
	}
	writeProviderJSON(w, http.StatusOK, body)
}

func (p *Provider) idToken(g *grant) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": p.Issuer, "sub": g.subject, "aud": p.ClientID,
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = "provider"
	return t.SignedString(p.key)
}

func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, _ := r.BasicAuth()
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	if id != p.ClientID || secret != p.ClientSecret {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	tok := r.PostForm.Get("token")
	if g := p.refresh[tok]; g != nil {
		g.revoked = true
	}
	if g := p.access[tok]; g != nil {
		g.revoked = true
	}
	w.WriteHeader(http.StatusOK)
}

// userinfo answers the sub of a live access token: it is also the call an
// app makes "at the provider" with the vault's token.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	g := p.access[tok]
	p.mu.Unlock()
	if !ok || g == nil || g.revoked {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	writeProviderJSON(w, http.StatusOK, map[string]string{"sub": g.subject})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := &p.key.PublicKey
	writeProviderJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "provider", "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func tokenError(w http.ResponseWriter, status int, code string) {
	writeProviderJSON(w, status, map[string]string{"error": code})
}

func writeProviderJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
