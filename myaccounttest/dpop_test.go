package myaccounttest

import (
	"crypto/sha256"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestProofVerifiesWithItsOwnJWK(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256", "PS256"} {
		k, err := NewDPoPKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("POST", "https://api.example.com/me/v1/x?y=1", nil)
		if err := k.Authorize(req, "the-token", ProofNonce("n1")); err != nil {
			t.Fatal(err)
		}
		if req.Header.Get("Authorization") != "DPoP the-token" {
			t.Errorf("Authorization %q", req.Header.Get("Authorization"))
		}
		claims := jwt.MapClaims{}
		tok, err := jwt.ParseWithClaims(req.Header.Get("DPoP"), claims, func(t *jwt.Token) (any, error) {
			return k.signer.Public(), nil
		}, jwt.WithValidMethods([]string{alg}))
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		sum := sha256.Sum256([]byte("the-token"))
		jwk, _ := tok.Header["jwk"].(map[string]any)
		if tok.Header["typ"] != "dpop+jwt" || jwk == nil || jwk["d"] != nil || claims["htm"] != "POST" ||
			claims["htu"] != "https://api.example.com/me/v1/x" || claims["ath"] != b64(sum[:]) || claims["nonce"] != "n1" || claims["jti"] == "" {
			t.Errorf("%s: header %v, claims %v", alg, tok.Header, claims)
		}
		if iat, _ := claims.GetIssuedAt(); iat == nil || time.Since(iat.Time) > time.Minute {
			t.Errorf("%s: iat %v", alg, iat)
		}
	}
	if _, err := NewDPoPKey("HS256"); err == nil {
		t.Error("an HMAC DPoP key was made")
	}
}
