package myaccounttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is an OAuth 2.0 authorization server reduced to what a resource
// server needs in tests: it mints signed access tokens and publishes the keys
// that verify them as a JSON Web Key Set. It is safe for concurrent use,
// provided Issuer and Audience are not changed while tokens are being minted.
type Issuer struct {
	// Issuer is the iss claim of minted tokens. NewIssuer sets it to the
	// server's URL with a trailing slash, as Auth0 does.
	Issuer string
	// Audience is the default aud claim of minted tokens.
	Audience string

	mu     sync.RWMutex // guards the keys, which Rotate replaces
	rsaKey *rsa.PrivateKey
	rsaKID string
	ecKey  *ecdsa.PrivateKey
	ecKID  string

	srv *httptest.Server // nil for a dev issuer
}

// NewIssuer starts an issuer on an httptest server on 127.0.0.1 that serves
// its JWKS at /.well-known/jwks.json. Issuer is set to the server's URL plus
// "/" and Audience to the server's URL plus "/me/". The server is closed by
// tb.Cleanup. NewIssuer fails tb if the keys cannot be generated.
func NewIssuer(tb testing.TB) *Issuer {
	tb.Helper()
	i := &Issuer{}
	if err := i.generateKeys(); err != nil {
		tb.Fatalf("myaccounttest: %v", err)
	}
	i.srv = httptest.NewServer(i.Handler())
	tb.Cleanup(i.srv.Close)
	i.Issuer = i.srv.URL + "/"
	i.Audience = i.srv.URL + "/me/"
	return i
}

// NewDevIssuer returns an issuer with fresh keys and no server of its own.
// It is meant for a demo or local development setup that mounts Handler in
// its own mux, at the path JWKSURL derives from issuer.
func NewDevIssuer(issuer, audience string) (*Issuer, error) {
	i := &Issuer{Issuer: issuer, Audience: audience}
	if err := i.generateKeys(); err != nil {
		return nil, err
	}
	return i, nil
}

// URL returns the base URL of the issuer's httptest server, without a
// trailing slash, or "" for an issuer made by NewDevIssuer.
func (i *Issuer) URL() string {
	if i.srv == nil {
		return ""
	}
	return i.srv.URL
}

// JWKSURL returns where the key set is published: the well-known path under
// Issuer. It is derived from Issuer rather than from the server so that it is
// also right for a dev issuer mounted elsewhere.
func (i *Issuer) JWKSURL() string {
	return strings.TrimSuffix(i.Issuer, "/") + "/.well-known/jwks.json"
}

// Handler returns a handler serving the issuer's current public keys as a
// JSON Web Key Set (RFC 7517) at GET /.well-known/jwks.json, and 404 for any
// other path. The set is built on every request so that it follows Rotate.
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		body, err := i.jwks()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	return mux
}

// Rotate replaces both signing keys with new ones under new key IDs. From
// then on the JWKS serves only the new keys, so tokens minted before the
// rotation no longer verify once a verifier refreshes its keys.
func (i *Issuer) Rotate() error {
	return i.generateKeys()
}

// Keyfunc is a jwt.Keyfunc over the issuer's current keys, for a verifier in
// the same process that need not fetch the JWKS (myaccount.TokenConfig.Keyfunc).
func (i *Issuer) Keyfunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	i.mu.RLock()
	defer i.mu.RUnlock()
	switch kid {
	case i.rsaKID:
		return &i.rsaKey.PublicKey, nil
	case i.ecKID:
		return &i.ecKey.PublicKey, nil
	}
	return nil, fmt.Errorf("myaccounttest: unknown key id %q", kid)
}

// RSAPublicKey returns the current RSA public key. Tests use it to forge the
// classic algorithm-confusion token: HS256 with the public key as the secret.
func (i *Issuer) RSAPublicKey() *rsa.PublicKey {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return &i.rsaKey.PublicKey
}

// Mint returns a signed access token for subject with the given scopes.
// By default it is signed RS256 with a kid header and carries iss (Issuer),
// sub, aud (a one-element array holding Audience), iat (now), exp (now plus
// one hour), scope (the scopes joined by spaces, omitted when there are none)
// and a random jti. Options change any of these.
func (i *Issuer) Mint(subject string, scopes []string, opts ...TokenOption) (string, error) {
	now := time.Now()
	t := &tokenConfig{
		now:     now,
		subject: subject,
		alg:     jwt.SigningMethodRS256,
		claims: jwt.MapClaims{
			"iss": i.Issuer,
			"sub": subject,
			"aud": []string{i.Audience},
			"iat": now.Unix(),
			"exp": now.Add(time.Hour).Unix(),
			"jti": randomString(16),
		},
	}
	if len(scopes) > 0 {
		t.claims["scope"] = strings.Join(scopes, " ")
	}
	for _, opt := range opts {
		opt(t)
	}

	i.mu.RLock()
	key, kid := any(i.rsaKey), i.rsaKID
	if t.alg == jwt.SigningMethodES256 {
		key, kid = i.ecKey, i.ecKID
	}
	i.mu.RUnlock()
	if t.kid != nil {
		kid = *t.kid
	}

	tok := jwt.NewWithClaims(t.alg, t.claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	for name, value := range t.header {
		if value == nil {
			delete(tok.Header, name)
		} else {
			tok.Header[name] = value
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("myaccounttest: signing token: %w", err)
	}
	return s, nil
}

// Token is Mint with default options for use in tests; it fails tb on error.
func (i *Issuer) Token(tb testing.TB, subject string, scopes ...string) string {
	tb.Helper()
	return i.TokenWith(tb, subject, scopes)
}

// TokenWith is Mint for use in tests; it fails tb on error.
func (i *Issuer) TokenWith(tb testing.TB, subject string, scopes []string, opts ...TokenOption) string {
	tb.Helper()
	s, err := i.Mint(subject, scopes, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TokenOption changes a token minted by Mint, Token or TokenWith. Options
// apply in order, after the defaults, so a later option wins.
type TokenOption func(*tokenConfig)

type tokenConfig struct {
	now     time.Time
	subject string
	alg     jwt.SigningMethod
	kid     *string // nil means the signing key's own kid
	claims  jwt.MapClaims
	header  map[string]any // extra header members; nil values remove
}

// ExpiresIn sets exp to now plus d. A negative d makes an expired token.
func ExpiresIn(d time.Duration) TokenOption {
	return func(t *tokenConfig) { t.claims["exp"] = t.now.Add(d).Unix() }
}

// NotBefore sets the nbf claim, e.g. to the future for a not-yet-valid token.
func NotBefore(tm time.Time) TokenOption {
	return func(t *tokenConfig) { t.claims["nbf"] = tm.Unix() }
}

// IssuedAt sets the iat claim.
func IssuedAt(tm time.Time) TokenOption {
	return func(t *tokenConfig) { t.claims["iat"] = tm.Unix() }
}

// WithAudience sets the aud claim to aud, always as a JSON array (empty if
// aud is). Use WithClaim("aud", nil) for a token without aud, or
// WithClaim("aud", "x") for aud as a single string.
func WithAudience(aud ...string) TokenOption {
	return func(t *tokenConfig) { t.claims["aud"] = append([]string{}, aud...) }
}

// WithIssuer sets the iss claim, e.g. to test that a foreign issuer is
// rejected.
func WithIssuer(iss string) TokenOption {
	return WithClaim("iss", iss)
}

// WithClaim sets claim name to value, which must marshal to JSON. A nil value
// removes the claim, e.g. WithClaim("exp", nil) for a token that never
// expires or WithClaim("sub", nil) for one without a subject.
func WithClaim(name string, value any) TokenOption {
	return func(t *tokenConfig) {
		if value == nil {
			delete(t.claims, name)
			return
		}
		t.claims[name] = value
	}
}

// ES256 signs the token with the issuer's P-256 key (alg ES256) instead of
// its RSA key, since verifiers must accept every key the JWKS publishes.
func ES256() TokenOption {
	return func(t *tokenConfig) { t.alg = jwt.SigningMethodES256 }
}

// WithKeyID sets the kid header to kid instead of the signing key's, e.g. to
// an unknown kid. An empty kid removes the header.
func WithKeyID(kid string) TokenOption {
	return func(t *tokenConfig) { t.kid = &kid }
}

// WithHeader sets the JOSE header member name to value, which must marshal
// to JSON, e.g. WithHeader("crit", []string{"exp"}) for a token naming a
// critical extension. A nil value removes the member.
func WithHeader(name string, value any) TokenOption {
	return func(t *tokenConfig) {
		if t.header == nil {
			t.header = map[string]any{}
		}
		t.header[name] = value
	}
}

// AuthTime sets the auth_time claim: when the user logged in (RFC 9470).
func AuthTime(tm time.Time) TokenOption {
	return func(t *tokenConfig) { t.claims["auth_time"] = tm.Unix() }
}

// ACR sets the acr claim: the authentication context class of the login.
func ACR(acr string) TokenOption {
	return WithClaim("acr", acr)
}

// BoundTo binds the token to a DPoP key (RFC 9449 section 6.1): its cnf claim
// becomes {"jkt": jkt}, the key's RFC 7638 thumbprint ([DPoPKey.Thumbprint]).
func BoundTo(jkt string) TokenOption {
	return WithClaim("cnf", map[string]string{"jkt": jkt})
}

// WithPermissions sets the permissions claim to p as a JSON array, as Auth0
// does for APIs with RBAC enabled.
func WithPermissions(p ...string) TokenOption {
	return func(t *tokenConfig) { t.claims["permissions"] = append([]string{}, p...) }
}

// ClientCredentials makes a machine-to-machine token as Auth0 issues it for
// the client credentials grant: the subject passed to Mint is taken as the
// client ID, sub becomes "<client ID>@clients", azp the client ID and gty
// "client-credentials". Such a token has no user behind it.
func ClientCredentials() TokenOption {
	return func(t *tokenConfig) {
		t.claims["sub"] = t.subject + "@clients"
		t.claims["azp"] = t.subject
		t.claims["gty"] = "client-credentials"
	}
}

// generateKeys makes a fresh RSA and P-256 key pair, each under a new random
// kid, and installs them. RSA is made before taking the lock because it is
// slow and Mint should not wait for it.
func (i *Issuer) generateKeys() error {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("myaccounttest: generating RSA key: %w", err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("myaccounttest: generating P-256 key: %w", err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rsaKey, i.rsaKID = rk, "rsa-"+randomString(8)
	i.ecKey, i.ecKID = ek, "ec-"+randomString(8)
	return nil
}

// jwk is one JSON Web Key (RFC 7517, RFC 7518 section 6).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

func (i *Issuer) jwks() ([]byte, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()

	pub := &i.rsaKey.PublicKey
	rsaJWK := jwk{
		Kty: "RSA", Kid: i.rsaKID, Use: "sig", Alg: "RS256",
		N: b64(pub.N.Bytes()),
		E: b64(big.NewInt(int64(pub.E)).Bytes()),
	}
	// Bytes is the uncompressed point 0x04 || X || Y, each coordinate padded
	// to 32 bytes, which is exactly the fixed width RFC 7518 requires.
	pt, err := i.ecKey.PublicKey.Bytes()
	if err != nil {
		return nil, err
	}
	ecJWK := jwk{
		Kty: "EC", Kid: i.ecKID, Use: "sig", Alg: "ES256",
		Crv: "P-256", X: b64(pt[1:33]), Y: b64(pt[33:65]),
	}
	return json.Marshal(map[string][]jwk{"keys": {rsaJWK, ecJWK}})
}

// b64 is the unpadded base64url encoding that JOSE and WebAuthn both use.
func b64(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomString returns n random bytes, base64url encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b64(b)
}
