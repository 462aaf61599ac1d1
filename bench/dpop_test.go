package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/golang-jwt/jwt/v5"
)

// dpopURL is the URL every DPoP benchmark request is for.
const dpopURL = "http://api.example.com/orders"

// BenchmarkDPoP runs a request with a DPoP-bound token (RS256 or ES256) and a
// new ES256 proof each time, as a browser sends it, through each contender:
//
//   - golang-jwt-floor: jwt.Parse of the token and of the proof, each with its
//     key already in hand: the two signature checks alone, no claim checks;
//   - golang-jwt-proof-floor: jwt.Parse of the proof alone, its key in hand:
//     what a request with a cached token cannot avoid;
//   - myaccount-cache-off: TokenValidator.Authenticate, RequireAudience and
//     RequireScope, every check of RFC 9449, the memory replay cache;
//   - myaccount-cache-hit: the same with the token in the verified-token cache.
//
// Besides ns/op it reports cpu-ns/op, the process's CPU time per request.
//
// go-jwt-middleware v2 is absent: its released versions (v2.3.1 is the latest)
// have no DPoP support at all, and would take the token as a bearer token.
func BenchmarkDPoP(b *testing.B) {
	key := myaccounttest.NewTestDPoPKey(b)
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run("alg="+alg, func(b *testing.B) {
			iss := myaccounttest.NewIssuer(b)
			opts := append(algOption(alg), myaccounttest.BoundTo(key.Thumbprint()))
			token := iss.TokenWith(b, "auth0|bench", []string{scope}, opts...)
			for _, c := range []contender{
				{"golang-jwt-floor", dpopFloor(b, iss, token, true)},
				{"golang-jwt-proof-floor", dpopFloor(b, iss, token, false)},
				{"myaccount-cache-off", oursDPoP(b, iss, -1)},
				{"myaccount-cache-hit", oursDPoP(b, iss, 0)},
			} {
				b.Run("impl="+c.name, func(b *testing.B) {
					serve(b, c.handler, dpopRequest(b, key, token), http.StatusNoContent) // warms any cache
					reqs := make([]*http.Request, b.N)
					for i := range reqs {
						reqs[i] = dpopRequest(b, key, token)
					}
					b.ReportAllocs()
					b.ResetTimer()
					cpu := cpuTime()
					for i := range b.N {
						rec := httptest.NewRecorder()
						c.handler.ServeHTTP(rec, reqs[i])
						if rec.Code != http.StatusNoContent {
							b.Fatalf("status %d: %s", rec.Code, rec.Body)
						}
					}
					b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
				})
			}
		})
	}
}

// dpopRequest is a GET of dpopURL with token and a new proof.
func dpopRequest(tb testing.TB, key *myaccounttest.DPoPKey, token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, dpopURL, nil)
	if err := key.Authorize(req, token); err != nil {
		tb.Fatal(err)
	}
	return req
}

// oursDPoP is the validator's middleware, DPoP allowed (the default), whose
// htu is checked against the request's own host.
func oursDPoP(b *testing.B, iss *myaccounttest.Issuer, cacheSize int) http.Handler {
	v, err := myaccount.NewTokenValidator(myaccount.Config{
		Issuer: iss.Issuer, Token: myaccount.TokenConfig{JWKSURL: iss.JWKSURL(), CacheSize: cacheSize},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(v.Close)
	return v.Authenticate(myaccount.RequireAudience(iss.Audience)(myaccount.RequireScope(scope)(noContent)))
}

// dpopFloor parses the proof with its key in hand and, when withToken, the
// token with its key in hand: signature checks and JSON decoding, nothing else.
func dpopFloor(b *testing.B, iss *myaccounttest.Issuer, token string, withToken bool) http.Handler {
	var tokenKey any
	if _, err := jwt.Parse(token, func(t *jwt.Token) (any, error) {
		var err error
		tokenKey, err = iss.Keyfunc(t)
		return tokenKey, err
	}); err != nil {
		b.Fatal(err)
	}
	var proofKey any
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := strings.TrimPrefix(r.Header.Get("Authorization"), "DPoP ")
		if withToken {
			if _, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return tokenKey, nil }); err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		if _, err := jwt.Parse(r.Header.Get("DPoP"), func(t *jwt.Token) (any, error) {
			if proofKey == nil { // the first proof's key, decoded once: the key is not what is measured
				proofKey = ecKeyFromJWK(b, t.Header["jwk"].(map[string]any))
			}
			return proofKey, nil
		}); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		noContent.ServeHTTP(w, r)
	})
}

// BenchmarkReplayCache is the memory replay cache's cost per proof (a new id
// each time, as every accepted proof is) and, as bytes/entry, the heap it
// holds per remembered proof, over 100,000 proofs.
func BenchmarkReplayCache(b *testing.B) {
	b.Run("op=seen-new", func(b *testing.B) {
		c := myaccount.NewMemoryReplayCache(0)
		ids := replayIDs(100_000)
		expires := time.Now().Add(time.Minute)
		ctx := context.Background()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if seen, _ := c.Seen(ctx, ids[i%len(ids)], expires); seen && i < len(ids) {
				b.Fatal("a new id was seen")
			}
			i++
		}
	})
	b.Run("op=memory", func(b *testing.B) {
		const n = 100_000
		var perEntry float64
		for b.Loop() {
			expires := time.Now().Add(time.Minute)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			c := myaccount.NewMemoryReplayCache(n)
			for i := range n { // the ids are made as proofs arrive, and the cache keeps them
				_, _ = c.Seen(context.Background(), fmt.Sprintf("%022d", i), expires)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			perEntry = float64(after.HeapAlloc-before.HeapAlloc) / n
			if seen, _ := c.Seen(context.Background(), fmt.Sprintf("%022d", 0), expires); !seen {
				b.Fatal("the cache dropped an id it had room for")
			}
			runtime.KeepAlive(c)
		}
		b.ReportMetric(perEntry, "bytes/entry")
	})
}

// replayIDs are n ids as the validator makes them: 22 characters of base64url.
func replayIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%022d", i)
	}
	return ids
}

// ecKeyFromJWK decodes a P-256 public JWK.
func ecKeyFromJWK(tb testing.TB, jwk map[string]any) *ecdsa.PublicKey {
	x, err1 := base64.RawURLEncoding.DecodeString(jwk["x"].(string))
	y, err2 := base64.RawURLEncoding.DecodeString(jwk["y"].(string))
	if err1 != nil || err2 != nil {
		tb.Fatal("bad jwk")
	}
	key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		tb.Fatal(err)
	}
	return key
}
