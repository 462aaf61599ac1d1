package myaccount

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
)

// A DPoP proof carries its public key as a JWK in its header. keyfunc v3 and
// jwkset parse JWKs, but they accept private keys, re-encode the key to
// validate it and may follow x5u; no library in the module computes RFC 7638
// thumbprints. So the few lines that turn a proof's jwk into a key and a
// thumbprint are here, strict: public members only, exact sizes.

// errProofKey is why a proof's jwk header was refused.
var errProofKey = errors.New("the proof's jwk is not an acceptable public key")

// errPrivateJWK refuses a proof whose jwk has private members: a client that
// sends its private key has no key worth binding to.
var errPrivateJWK = errors.New("the proof's jwk holds a private key")

// privateMembers are the JWK members of private or symmetric keys (RFC 7518
// section 6); a proof's jwk must have none of them.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// proofKey is the public key of a proof's jwk and its RFC 7638 thumbprint.
type proofKey struct {
	key any
	jkt string
}

// parseProofKey checks a proof's jwk header for alg and returns its key.
func parseProofKey(jwk map[string]any, alg string) (proofKey, error) {
	for _, m := range privateMembers {
		if _, ok := jwk[m]; ok {
			return proofKey{}, errPrivateJWK
		}
	}
	member := func(name string) string { s, _ := jwk[name].(string); return s }
	kty := member("kty")
	switch {
	case kty == "EC" && (alg == "ES256" || alg == "ES384" || alg == "ES512"):
		crv, x, y := member("crv"), member("x"), member("y")
		curve, size := ecCurve(crv)
		if curve == nil || alg != ecAlg(crv) {
			return proofKey{}, errProofKey
		}
		xb, err1 := decodeExact(x, size)
		yb, err2 := decodeExact(y, size)
		if err1 != nil || err2 != nil {
			return proofKey{}, errProofKey
		}
		point := append(append([]byte{4}, xb...), yb...)
		key, err := ecdsa.ParseUncompressedPublicKey(curve, point) // checks the point is on the curve
		if err != nil {
			return proofKey{}, errProofKey
		}
		return proofKey{key, thumbprint(`{"crv":"` + crv + `","kty":"EC","x":"` + x + `","y":"` + y + `"}`)}, nil
	case kty == "RSA" && (alg[:2] == "RS" || alg[:2] == "PS"):
		n, e := member("n"), member("e")
		nb, err1 := base64.RawURLEncoding.Strict().DecodeString(n)
		eb, err2 := base64.RawURLEncoding.Strict().DecodeString(e)
		if err1 != nil || err2 != nil || len(nb) < 256 || len(nb) > 1024 || nb[0] == 0 || len(eb) == 0 || len(eb) > 4 || eb[0] == 0 {
			return proofKey{}, errProofKey // under 2048 bits, over 8192, or not minimal
		}
		exp := 0
		for _, b := range eb {
			exp = exp<<8 | int(b)
		}
		if exp < 3 || exp%2 == 0 {
			return proofKey{}, errProofKey
		}
		key := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: exp}
		return proofKey{key, thumbprint(`{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`)}, nil
	case kty == "OKP" && alg == "EdDSA":
		crv, x := member("crv"), member("x")
		xb, err := decodeExact(x, ed25519.PublicKeySize)
		if crv != "Ed25519" || err != nil {
			return proofKey{}, errProofKey
		}
		return proofKey{ed25519.PublicKey(xb), thumbprint(`{"crv":"Ed25519","kty":"OKP","x":"` + x + `"}`)}, nil
	}
	return proofKey{}, errProofKey
}

func ecCurve(crv string) (elliptic.Curve, int) {
	switch crv {
	case "P-256":
		return elliptic.P256(), 32
	case "P-384":
		return elliptic.P384(), 48
	case "P-521":
		return elliptic.P521(), 66
	}
	return nil, 0
}

// ecAlg is the one JWS algorithm of a curve (RFC 7518 section 3.4).
func ecAlg(crv string) string {
	switch crv {
	case "P-256":
		return "ES256"
	case "P-384":
		return "ES384"
	}
	return "ES512"
}

// decodeExact decodes strict unpadded base64url of exactly size bytes. The
// members that go into a thumbprint must be canonical, or two spellings of
// one key would have two thumbprints.
func decodeExact(s string, size int) ([]byte, error) {
	if base64.RawURLEncoding.EncodedLen(size) != len(s) {
		return nil, errProofKey
	}
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// thumbprint is the RFC 7638 thumbprint of a JWK given as its required members
// in lexicographic order without whitespace (the members were checked to be
// base64url, so they need no escaping).
func thumbprint(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
