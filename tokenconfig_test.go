package myaccount

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestConfigTokenSettings(t *testing.T) {
	keys := func(*jwt.Token) (any, error) { return nil, errors.New("no keys") }
	api, err := New(Config{Issuer: "https://tenant.example.com/", Token: TokenConfig{Keyfunc: keys, Leeway: time.Minute,
		CacheSize: 7, DPoP: DPoPConfig{Mode: "required"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	if api.validator.leeway != time.Minute || api.validator.cache.max != 7 || api.validator.dpop.mode != dpopRequired ||
		api.validator.realm != "https://tenant.example.com/me/" || api.cfg.WebAuthn.RPID != "tenant.example.com" {
		t.Errorf("token settings not applied: %+v", api.cfg)
	}
	bad := map[string]Config{
		"short nonce key":      {Token: TokenConfig{DPoP: DPoPConfig{NonceKey: []byte("short")}}},
		"HMAC proof algorithm": {Token: TokenConfig{DPoP: DPoPConfig{Algorithms: []string{"HS256"}}}},
		"unknown DPoP mode":    {Token: TokenConfig{DPoP: DPoPConfig{Mode: "sometimes"}}},
		"negative step-up":     {Token: TokenConfig{StepUp: map[string]StepUp{"x": {MaxAge: -1}}}},
		"acr with a quote":     {Token: TokenConfig{StepUp: map[string]StepUp{"x": {ACRValues: []string{`a"b`}}}}},
		"cache size -2":        {Token: TokenConfig{CacheSize: -2}},
		"public URL with path": {PublicURL: "https://x.example/api"},
	}
	for name, cfg := range bad {
		t.Run(name, func(t *testing.T) {
			cfg.Domain = "tenant.example.com"
			cfg.Token.Keyfunc = keys
			if a, err := New(cfg); !errors.Is(err, ErrConfig) {
				if a != nil {
					a.Close()
				}
				t.Errorf("New: %v, want ErrConfig", err)
			}
			if v, err := NewTokenValidator(cfg); !errors.Is(err, ErrConfig) {
				if v != nil {
					v.Close()
				}
				t.Errorf("NewTokenValidator: %v, want ErrConfig", err)
			}
		})
	}
}

func TestMemoryReplayCache(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := newMemoryReplayCache(4)
	c.now = func() time.Time { return now }
	seen := func(id string, ttl time.Duration) bool {
		s, err := c.Seen(context.Background(), id, now.Add(ttl))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if seen("a", time.Minute) || !seen("a", time.Minute) {
		t.Fatal("a proof id is not remembered")
	}
	now = now.Add(30 * time.Second)
	if !seen("a", time.Minute) {
		t.Fatal("forgotten before it expired")
	}
	now = now.Add(31 * time.Second)
	if seen("a", time.Minute) {
		t.Fatal("remembered after it expired")
	}
	// Bounded: past max, new ids are refused until room comes back, and no
	// recorded id is forgotten before it expires.
	var recorded []string
	for i := range 100 {
		id := fmt.Sprint("id", i)
		s, err := c.Seen(context.Background(), id, now.Add(time.Minute))
		var full interface{ RetryAfter() time.Duration }
		if errors.As(err, &full) {
			if full.RetryAfter() <= 0 || full.RetryAfter() > 2*time.Minute || !errors.Is(err, ErrUnavailable) {
				t.Fatalf("full, retry after %v", full.RetryAfter())
			}
			continue
		}
		if err != nil || s {
			t.Fatalf("a new id: %v, %v", s, err)
		}
		recorded = append(recorded, id)
		if n := c.Len(); n > 4 {
			t.Fatalf("%d entries", n)
		}
	}
	for _, id := range recorded {
		if !seen(id, time.Minute) {
			t.Fatalf("%s forgotten before it expired", id)
		}
	}
	// Every entry of a generation expired: the generation goes.
	now = now.Add(3 * time.Minute)
	seen("b", time.Minute)
	now = now.Add(2 * time.Minute)
	seen("c", time.Minute)
	if n := c.Len(); n != 2 {
		t.Errorf("%d entries after expiry, want 2", n)
	}
}

func TestNoncesRotate(t *testing.T) {
	n := &nonces{key: make([]byte, 32), lifetime: time.Minute}
	start := time.Unix(6_000_000, 0)
	first := n.nonce(start)
	if ok, cur := n.check(first, start.Add(59*time.Second)); !ok || !cur {
		t.Error("a nonce is not current in its window")
	}
	if ok, cur := n.check(first, start.Add(61*time.Second)); !ok || cur {
		t.Error("a nonce of the previous window is refused or current")
	}
	if ok, _ := n.check(first, start.Add(121*time.Second)); ok {
		t.Error("a nonce two windows old is accepted")
	}
	other := &nonces{key: []byte("another key of thirty-two bytes!"), lifetime: time.Minute}
	if ok, _ := other.check(first, start); ok {
		t.Error("a nonce of another key is accepted")
	}
}

func TestProofKeysAreStrict(t *testing.T) {
	// P-256 coordinates of a real point are required; a P-256 key cannot sign ES384.
	for name, c := range map[string]struct {
		jwk map[string]any
		alg string
	}{
		"EC off the curve":        {map[string]any{"kty": "EC", "crv": "P-256", "x": b64(make([]byte, 32)), "y": b64(make([]byte, 32))}, "ES256"},
		"EC short x":              {map[string]any{"kty": "EC", "crv": "P-256", "x": b64(make([]byte, 31)), "y": b64(make([]byte, 32))}, "ES256"},
		"EC curve of another alg": {map[string]any{"kty": "EC", "crv": "P-384", "x": b64(make([]byte, 48)), "y": b64(make([]byte, 48))}, "ES256"},
		"RSA 1024 bits":           {map[string]any{"kty": "RSA", "n": b64(append([]byte{0xc1}, make([]byte, 127)...)), "e": "AQAB"}, "RS256"},
		"RSA under EdDSA":         {map[string]any{"kty": "RSA", "n": b64(append([]byte{0xc1}, make([]byte, 255)...)), "e": "AQAB"}, "EdDSA"},
		"oct key":                 {map[string]any{"kty": "oct", "k": "c2VjcmV0"}, "ES256"},
		"OKP wrong curve":         {map[string]any{"kty": "OKP", "crv": "X25519", "x": b64(make([]byte, 32))}, "EdDSA"},
	} {
		if _, err := parseProofKey(c.jwk, c.alg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
