package myaccounttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DPoPKey is a client's DPoP key (RFC 9449): it makes the proofs that go with
// a token bound to it. Bind a token to it with [BoundTo]([DPoPKey.Thumbprint]).
// It is safe for concurrent use.
type DPoPKey struct {
	signer crypto.Signer
	method jwt.SigningMethod
	jwk    map[string]string // the public JWK
	jkt    string
}

// NewDPoPKey makes a key for alg: "ES256" (what browsers and Auth0's SDKs
// use), "EdDSA", "RS256" or "PS256".
func NewDPoPKey(alg string) (*DPoPKey, error) {
	k := &DPoPKey{method: jwt.GetSigningMethod(alg)}
	var canonical string // RFC 7638: the required members, in lexicographic order, no whitespace
	switch alg {
	case "ES256":
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		pt, err := priv.PublicKey.Bytes()
		if err != nil {
			return nil, err
		}
		k.signer = priv
		k.jwk = map[string]string{"kty": "EC", "crv": "P-256", "x": b64(pt[1:33]), "y": b64(pt[33:])}
		canonical = fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":%q,"y":%q}`, k.jwk["x"], k.jwk["y"])
	case "EdDSA":
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		k.signer = priv
		k.jwk = map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(pub)}
		canonical = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":%q}`, k.jwk["x"])
	case "RS256", "PS256":
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		k.signer = priv
		k.jwk = map[string]string{"kty": "RSA", "n": b64(priv.N.Bytes()), "e": b64(big.NewInt(int64(priv.E)).Bytes())}
		canonical = fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, k.jwk["e"], k.jwk["n"])
	default:
		return nil, fmt.Errorf("myaccounttest: DPoP algorithm %q is not ES256, EdDSA, RS256 or PS256", alg)
	}
	sum := sha256.Sum256([]byte(canonical))
	k.jkt = b64(sum[:])
	return k, nil
}

// NewTestDPoPKey is NewDPoPKey("ES256") for tests; it fails tb on error.
func NewTestDPoPKey(tb testing.TB) *DPoPKey {
	tb.Helper()
	k, err := NewDPoPKey("ES256")
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// Thumbprint returns the key's RFC 7638 SHA-256 thumbprint, base64url: the
// "jkt" a token bound to it carries.
func (k *DPoPKey) Thumbprint() string { return k.jkt }

// PublicJWK returns a copy of the key's public JWK members.
func (k *DPoPKey) PublicJWK() map[string]any {
	m := make(map[string]any, len(k.jwk))
	for name, v := range k.jwk {
		m[name] = v
	}
	return m
}

// ProofOption changes a proof made by [DPoPKey.Proof].
type ProofOption func(*proofConfig)

type proofConfig struct {
	header map[string]any
	claims jwt.MapClaims
	method jwt.SigningMethod
	key    any
}

// ProofNonce sets the proof's nonce claim, the server's DPoP-Nonce.
func ProofNonce(nonce string) ProofOption { return ProofClaim("nonce", nonce) }

// ProofIssuedAt sets the proof's iat claim.
func ProofIssuedAt(tm time.Time) ProofOption { return ProofClaim("iat", tm.Unix()) }

// ProofClaim sets claim name of the proof to value; nil removes it.
func ProofClaim(name string, value any) ProofOption {
	return func(p *proofConfig) {
		if value == nil {
			delete(p.claims, name)
			return
		}
		p.claims[name] = value
	}
}

// ProofHeader sets header member name of the proof to value; nil removes it.
// ProofHeader("jwk", ...) replaces the key, ProofHeader("typ", nil) drops typ.
func ProofHeader(name string, value any) ProofOption {
	return func(p *proofConfig) {
		if value == nil {
			delete(p.header, name)
			return
		}
		p.header[name] = value
	}
}

// ProofSignedWith signs the proof with method and key instead of the DPoPKey,
// e.g. jwt.SigningMethodHS256 and a secret, to test that a server refuses it.
func ProofSignedWith(method jwt.SigningMethod, key any) ProofOption {
	return func(p *proofConfig) { p.method, p.key = method, key }
}

// Proof returns a DPoP proof for a request of method to url (scheme, host and
// path; RFC 9449 section 4.2): typ dpop+jwt, the key's alg and public jwk,
// and claims jti (random), htm, htu, iat (now) and, when token is not "", ath
// (base64url of the SHA-256 of token). Options change any of these.
func (k *DPoPKey) Proof(method, url, token string, opts ...ProofOption) (string, error) {
	p := &proofConfig{
		header: map[string]any{"typ": "dpop+jwt", "alg": k.method.Alg(), "jwk": k.PublicJWK()},
		claims: jwt.MapClaims{"jti": randomString(16), "htm": method, "htu": url, "iat": time.Now().Unix()},
		method: k.method,
		key:    k.signer,
	}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		p.claims["ath"] = b64(sum[:])
	}
	for _, opt := range opts {
		opt(p)
	}
	tok := jwt.NewWithClaims(p.method, p.claims)
	tok.Header = p.header
	if _, ok := p.header["alg"]; ok && p.method != k.method {
		tok.Header["alg"] = p.method.Alg()
	}
	s, err := tok.SignedString(p.key)
	if err != nil {
		return "", fmt.Errorf("myaccounttest: signing DPoP proof: %w", err)
	}
	return s, nil
}

// Authorize sets req's Authorization header to "DPoP " + token and its DPoP
// header to a new proof for req's method and URL (without its query).
func (k *DPoPKey) Authorize(req *http.Request, token string, opts ...ProofOption) error {
	u := *req.URL
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	if u.Host == "" {
		u.Host = req.Host
	}
	proof, err := k.Proof(req.Method, u.String(), token, opts...)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "DPoP "+token)
	req.Header.Set("DPoP", proof)
	return nil
}
