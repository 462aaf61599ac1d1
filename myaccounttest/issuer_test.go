package myaccounttest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// verifier fetches the issuer's JWKS over HTTP, as a resource server would.
func verifier(t *testing.T, iss *Issuer) jwt.Keyfunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // stops keyfunc's refresh goroutine
	k, err := keyfunc.NewDefaultCtx(ctx, []string{iss.JWKSURL()})
	if err != nil {
		t.Fatal(err)
	}
	return k.Keyfunc
}

func parse(t *testing.T, iss *Issuer, token string) (jwt.MapClaims, *jwt.Token, error) {
	t.Helper()
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(token, claims, verifier(t, iss),
		jwt.WithValidMethods([]string{"RS256", "ES256"}),
		jwt.WithIssuer(iss.Issuer),
		jwt.WithAudience(iss.Audience),
	)
	return claims, tok, err
}

func TestMintVerifiesAgainstJWKS(t *testing.T) {
	iss := NewIssuer(t)
	if !strings.HasPrefix(iss.Issuer, "http://127.0.0.1:") || !strings.HasSuffix(iss.Issuer, "/") {
		t.Errorf("Issuer = %q", iss.Issuer)
	}
	if iss.Audience != iss.URL()+"/me/" || iss.JWKSURL() != iss.URL()+"/.well-known/jwks.json" {
		t.Errorf("Audience = %q, JWKSURL = %q, URL = %q", iss.Audience, iss.JWKSURL(), iss.URL())
	}

	claims, tok, err := parse(t, iss, iss.Token(t, "auth0|alice", "read:me", "update:me"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Method.Alg() != "RS256" || tok.Header["kid"] == nil {
		t.Errorf("header = %v", tok.Header)
	}
	if claims["sub"] != "auth0|alice" || claims["scope"] != "read:me update:me" || claims["jti"] == nil {
		t.Errorf("claims = %v", claims)
	}
	if aud, ok := claims["aud"].([]any); !ok || len(aud) != 1 {
		t.Errorf("aud = %#v, want a one-element array", claims["aud"])
	}
	exp, _ := claims.GetExpirationTime()
	if d := time.Until(exp.Time); d < 59*time.Minute || d > time.Hour {
		t.Errorf("exp is %v away, want an hour", d)
	}
}

func TestMintNoScopes(t *testing.T) {
	iss := NewIssuer(t)
	claims, _, err := parse(t, iss, iss.Token(t, "auth0|alice"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := claims["scope"]; ok {
		t.Errorf("scope present without scopes: %v", claims)
	}
}

func TestMintES256(t *testing.T) {
	iss := NewIssuer(t)
	_, tok, err := parse(t, iss, iss.TokenWith(t, "auth0|alice", nil, ES256()))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Method.Alg() != "ES256" {
		t.Errorf("alg = %s", tok.Method.Alg())
	}
}

func TestMintExpired(t *testing.T) {
	iss := NewIssuer(t)
	_, _, err := parse(t, iss, iss.TokenWith(t, "auth0|alice", nil, ExpiresIn(-time.Minute)))
	if !errors.Is(err, jwt.ErrTokenExpired) {
		t.Fatalf("err = %v, want ErrTokenExpired", err)
	}
}

func TestMintOptions(t *testing.T) {
	iss := NewIssuer(t)
	future := time.Now().Add(time.Hour)
	tok := iss.TokenWith(t, "auth0|alice", []string{"read:me"},
		WithClaim("exp", nil),
		WithAudience("a", "b"),
		WithIssuer("https://other/"),
		WithPermissions("read:me"),
		WithClaim("org_id", "org_1"),
		NotBefore(future),
		IssuedAt(future),
		WithKeyID("unknown"),
	)
	claims := jwt.MapClaims{}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, claims)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := claims["exp"]; ok {
		t.Error("exp present after WithClaim(exp, nil)")
	}
	aud, _ := claims.GetAudience()
	if !slices.Equal(aud, []string{"a", "b"}) {
		t.Errorf("aud = %v", aud)
	}
	if claims["iss"] != "https://other/" || claims["org_id"] != "org_1" {
		t.Errorf("claims = %v", claims)
	}
	if p, ok := claims["permissions"].([]any); !ok || len(p) != 1 || p[0] != "read:me" {
		t.Errorf("permissions = %#v", claims["permissions"])
	}
	nbf, _ := claims.GetNotBefore()
	iat, _ := claims.GetIssuedAt()
	if nbf.Unix() != future.Unix() || iat.Unix() != future.Unix() {
		t.Errorf("nbf = %v, iat = %v, want %v", nbf, iat, future)
	}
	if parsed.Header["kid"] != "unknown" {
		t.Errorf("kid = %v", parsed.Header["kid"])
	}

	// The unknown kid must not verify against the JWKS.
	if _, _, err := parse(t, iss, iss.TokenWith(t, "auth0|alice", nil, WithKeyID("unknown"))); err == nil {
		t.Error("token with unknown kid verified")
	}
}

func TestMintClientCredentials(t *testing.T) {
	iss := NewIssuer(t)
	claims, _, err := parse(t, iss, iss.TokenWith(t, "client123", []string{"read:users"}, ClientCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "client123@clients" || claims["gty"] != "client-credentials" || claims["azp"] != "client123" {
		t.Errorf("claims = %v", claims)
	}
}

func TestRotate(t *testing.T) {
	iss := NewIssuer(t)
	before := servedKIDs(t, iss)
	if len(before) != 2 {
		t.Fatalf("JWKS kids = %v, want 2", before)
	}
	old := iss.Token(t, "auth0|alice")
	if err := iss.Rotate(); err != nil {
		t.Fatal(err)
	}
	after := servedKIDs(t, iss)
	if len(after) != 2 || slices.ContainsFunc(after, func(k string) bool { return slices.Contains(before, k) }) {
		t.Errorf("kids before %v, after %v: want two new ones", before, after)
	}
	if _, _, err := parse(t, iss, old); err == nil {
		t.Error("token signed before Rotate still verifies with the new JWKS")
	}
	if _, _, err := parse(t, iss, iss.Token(t, "auth0|alice")); err != nil {
		t.Errorf("token signed after Rotate: %v", err)
	}
}

func TestHandler(t *testing.T) {
	iss := NewIssuer(t)
	res, err := http.Get(iss.URL() + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k["use"] != "sig" || k["kid"] == "" || strings.ContainsAny(k["n"]+k["e"]+k["x"]+k["y"], "=+/") {
			t.Errorf("key = %v", k)
		}
		switch k["kty"] {
		case "RSA":
			if k["alg"] != "RS256" || k["e"] != "AQAB" || k["n"] == "" {
				t.Errorf("RSA key = %v", k)
			}
		case "EC":
			if k["alg"] != "ES256" || k["crv"] != "P-256" || len(k["x"]) != 43 || len(k["y"]) != 43 {
				t.Errorf("EC key = %v", k)
			}
		default:
			t.Errorf("kty = %q", k["kty"])
		}
	}

	res2, err := http.Get(iss.URL() + "/other")
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusNotFound {
		t.Errorf("GET /other = %d, want 404", res2.StatusCode)
	}
}

func TestDevIssuer(t *testing.T) {
	iss, err := NewDevIssuer("http://localhost:3000/", "http://localhost:3000/me/")
	if err != nil {
		t.Fatal(err)
	}
	if iss.URL() != "" || iss.JWKSURL() != "http://localhost:3000/.well-known/jwks.json" {
		t.Errorf("URL = %q, JWKSURL = %q", iss.URL(), iss.JWKSURL())
	}
	if _, err := iss.Mint("auth0|alice", nil); err != nil {
		t.Fatal(err)
	}
}

func TestRSAPublicKeyForgery(t *testing.T) {
	// The algorithm-confusion attack: HS256 keyed with the RSA public key.
	// A verifier that pins RS256/ES256 must refuse it.
	iss := NewIssuer(t)
	claims := jwt.MapClaims{"iss": iss.Issuer, "aud": []string{iss.Audience}, "sub": "x", "exp": time.Now().Add(time.Hour).Unix()}
	secret := iss.RSAPublicKey().N.Bytes()
	forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := parse(t, iss, forged); err == nil {
		t.Error("forged HS256 token verified")
	}
}

func servedKIDs(t *testing.T, iss *Issuer) []string {
	t.Helper()
	res, err := http.Get(iss.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}
