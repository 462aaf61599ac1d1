package myaccount

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount/myaccounttest"
)

// A nonce of the previous window still passes, and the response hands out the
// current one; two windows on, it gets use_dpop_nonce.
func TestDPoPNonceTurnsOver(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	v, err := NewTokenValidator(Config{Issuer: iss.Issuer, Token: TokenConfig{Keyfunc: iss.Keyfunc,
		DPoP: DPoPConfig{NonceKey: make([]byte, 32), NonceLifetime: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	now := time.Now()
	v.now = func() time.Time { return now }
	key := myaccounttest.NewTestDPoPKey(t)
	tok := iss.TokenWith(t, "auth0|alice", nil, myaccounttest.BoundTo(key.Thumbprint()))
	h := v.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	serve := func(nonce string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "http://api.example.com/x", nil)
		if err := key.Authorize(req, tok, myaccounttest.ProofNonce(nonce), myaccounttest.ProofIssuedAt(now)); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	nonce := v.dpop.nonces.nonce(now)
	if rec := serve(nonce); rec.Code != 200 || rec.Header().Get("DPoP-Nonce") != "" {
		t.Fatalf("current nonce: %d %q", rec.Code, rec.Header().Get("DPoP-Nonce"))
	}
	now = now.Add(time.Minute)
	rec := serve(nonce)
	if fresh := rec.Header().Get("DPoP-Nonce"); rec.Code != 200 || fresh == "" || fresh == nonce {
		t.Fatalf("previous window's nonce: %d, DPoP-Nonce %q", rec.Code, fresh)
	}
	now = now.Add(time.Minute)
	if rec := serve(nonce); rec.Code != 401 || rec.Header().Get("DPoP-Nonce") != v.dpop.nonces.nonce(now) {
		t.Fatalf("two windows old: %d %q", rec.Code, rec.Header().Get("DPoP-Nonce"))
	}
}

func TestValidateRequest(t *testing.T) {
	iss := myaccounttest.NewIssuer(t)
	v, err := NewTokenValidator(Config{Issuer: iss.Issuer, PublicURL: "https://api.example.com", Token: TokenConfig{Keyfunc: iss.Keyfunc}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	key := myaccounttest.NewTestDPoPKey(t)
	tok := iss.TokenWith(t, "auth0|alice", nil, myaccounttest.BoundTo(key.Thumbprint()))
	// Behind a proxy: the request arrives on http://10.0.0.1, the proof names the public URL.
	req := httptest.NewRequest("POST", "http://10.0.0.1/orders?x=1", nil)
	proof, err := key.Proof("POST", "https://api.example.com/orders", tok)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "DPoP "+tok)
	req.Header.Set("DPoP", proof)
	claims, err := v.ValidateRequest(req)
	if err != nil || claims.Subject != "auth0|alice" || claims.Confirmation.JKT != key.Thumbprint() {
		t.Fatalf("ValidateRequest: %v %+v", err, claims)
	}
	if _, err := v.ValidateRequest(req); !errors.Is(err, errInvalidDPoPProof) || !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("replayed: %v", err)
	}
	if _, err := v.ValidateRequest(httptest.NewRequest("GET", "/", nil)); !errors.Is(err, ErrMissingToken) {
		t.Fatalf("no token: %v", err)
	}
	if _, err := NewTokenValidator(Config{Issuer: iss.Issuer, PublicURL: "api.example.com", Token: TokenConfig{Keyfunc: iss.Keyfunc}}); !errors.Is(err, ErrConfig) {
		t.Fatalf("a PublicURL without scheme: %v", err)
	}
}

// The thumbprint is RFC 7638's, by its own example (section 3.1), and agrees
// with the one myaccounttest computes for every key type.
func TestProofKeyThumbprints(t *testing.T) {
	rfc := map[string]any{"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
		"n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
	k, err := parseProofKey(rfc, "RS256")
	if err != nil || k.jkt != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("RFC 7638 example: %v %q", err, k.jkt)
	}
	for _, alg := range []string{"ES256", "EdDSA", "RS256", "PS256"} {
		key, err := myaccounttest.NewDPoPKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		k, err := parseProofKey(key.PublicJWK(), alg)
		if err != nil || k.jkt != key.Thumbprint() {
			t.Errorf("%s: %v, thumbprint %q, myaccounttest's %q", alg, err, k.jkt, key.Thumbprint())
		}
	}
}
