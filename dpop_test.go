package myaccount_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/golang-jwt/jwt/v5"
)

// flip changes the character n from the end of s.
func flip(s string, n int) string {
	i := len(s) - n
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

const dpopAlgs = `algs="RS256 PS256 ES256 EdDSA"`

// request builds a request to target, a path of the harness's server or an
// absolute URL, with a JSON body unless body is nil.
func (h *harness) request(method, target string, body any) *http.Request {
	h.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = h.server.URL + target
	}
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, target, reader)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// dpop sends a request with a DPoP-bound token and a new proof by key.
func (h *harness) dpop(method, target, token string, key *myaccounttest.DPoPKey, body any, opts ...myaccounttest.ProofOption) *response {
	h.t.Helper()
	req := h.request(method, target, body)
	if err := key.Authorize(req, token, opts...); err != nil {
		h.t.Fatal(err)
	}
	return h.send(req)
}

// boundToken mints a token with every scope bound to key.
func (h *harness) boundToken(subject string, key *myaccounttest.DPoPKey, opts ...myaccounttest.TokenOption) string {
	return h.issuer.TokenWith(h.t, subject, allScopes, append(opts, myaccounttest.BoundTo(key.Thumbprint()))...)
}

// wantChallenges checks a 401's challenges in allowed mode: a Bearer and a DPoP
// one, the one of scheme carrying errorCode.
func wantChallenges(t *testing.T, h *harness, r *response, scheme, errorCode string) {
	t.Helper()
	wantError(t, r, 401, "A0E-401-0001")
	got := r.header.Values("WWW-Authenticate")
	bearer := `Bearer realm="` + h.issuer.Audience + `"`
	dpop := `DPoP realm="` + h.issuer.Audience + `", ` + dpopAlgs
	params := `, error="` + errorCode + `", error_description="`
	ok := len(got) == 2
	if ok && scheme == "Bearer" {
		ok = strings.HasPrefix(got[0], bearer+params) && got[1] == dpop
	} else if ok {
		ok = got[0] == bearer && strings.HasPrefix(got[1], dpop+params)
	}
	if !ok {
		t.Errorf("WWW-Authenticate %q, want %s with error %s", got, scheme, errorCode)
	}
}

func TestDPoPBoundTokensAreAccepted(t *testing.T) {
	h := newHarness(t)
	key := myaccounttest.NewTestDPoPKey(t)
	tok := h.boundToken("auth0|alice", key)
	for range 2 { // verified, then from the cache
		wantStatus(t, h.dpop("GET", "/me/v1/authentication-methods", tok, key, nil), 200)
	}
	// A query is not part of htu; the scheme is case-insensitive; Ed25519 and RSA keys work.
	wantStatus(t, h.dpop("GET", "/me/v1/authentication-methods?type=passkey", tok, key, nil), 200)
	req := h.request("GET", "/me/v1/factors", nil)
	if err := key.Authorize(req, tok); err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "dpop "+tok)
	wantStatus(t, h.send(req), 200)
	for _, alg := range []string{"EdDSA", "PS256"} {
		k, err := myaccounttest.NewDPoPKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, h.dpop("GET", "/me/v1/factors", h.boundToken("auth0|alice", k), k, nil), 200)
	}
	// Bearer tokens still work in allowed mode.
	wantStatus(t, h.do("GET", "/me/v1/factors", h.token("auth0|alice"), nil), 200)
}

// Each check of RFC 9449 section 4.3, broken alone, is a 401 with the right challenge.
func TestDPoPEachCheckBrokenAloneIsRefused(t *testing.T) {
	h := newHarness(t)
	key := myaccounttest.NewTestDPoPKey(t)
	other := myaccounttest.NewTestDPoPKey(t)
	tok := h.boundToken("auth0|alice", key)
	path := "/me/v1/authentication-methods"
	url := h.server.URL + path
	priv := key.PublicJWK()
	priv["d"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	type send func() *response
	proofed := func(proof string) send {
		return func() *response {
			req := h.request("GET", path, nil)
			req.Header.Set("Authorization", "DPoP "+tok)
			req.Header.Set("DPoP", proof)
			return h.send(req)
		}
	}
	mustProof := func(k *myaccounttest.DPoPKey, method, url, token string, opts ...myaccounttest.ProofOption) string {
		p, err := k.Proof(method, url, token, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	replayed := mustProof(key, "GET", url, tok)
	wantStatus(t, proofed(replayed)(), 200)
	cases := []struct {
		name, scheme, error string
		send                send
	}{
		{"proof replayed", "DPoP", "invalid_dpop_proof", proofed(replayed)},
		{"wrong htm", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "POST", url, tok))},
		{"htu of another path", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", h.server.URL+"/me/v1/factors", tok))},
		{"htu of another host", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", strings.Replace(url, "127.0.0.1", "evil.example", 1), tok))},
		{"htu of another scheme", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", strings.Replace(url, "http:", "https:", 1), tok))},
		{"stale iat", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofIssuedAt(time.Now().Add(-2*time.Minute))))},
		{"iat in the future", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofIssuedAt(time.Now().Add(2*time.Minute))))},
		{"iat missing", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofClaim("iat", nil)))},
		{"iat as a string", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofClaim("iat", "9999999999")))},
		{"jti missing", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofClaim("jti", nil)))},
		{"jti empty", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofClaim("jti", "")))},
		{"wrong ath", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, h.boundToken("auth0|alice", key)))},
		{"ath missing", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, ""))},
		{"proof key not the token's cnf.jkt", "DPoP", "invalid_dpop_proof", proofed(mustProof(other, "GET", url, tok))},
		{"private key in jwk", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofHeader("jwk", priv)))},
		{"jwk missing", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofHeader("jwk", nil)))},
		{"HMAC alg", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofSignedWith(jwt.SigningMethodHS256, []byte("0123456789abcdef0123456789abcdef"))))},
		{"alg none", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofSignedWith(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType)))},
		{"typ missing", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofHeader("typ", nil)))},
		{"typ JWT", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofHeader("typ", "JWT")))},
		{"crit unknown extension", "DPoP", "invalid_dpop_proof", proofed(mustProof(key, "GET", url, tok, myaccounttest.ProofHeader("crit", []string{"urn:x"})))},
		{"tampered signature", "DPoP", "invalid_dpop_proof", proofed(flip(mustProof(key, "GET", url, tok), 10))},
		{"missing proof", "DPoP", "invalid_dpop_proof", func() *response {
			req := h.request("GET", path, nil)
			req.Header.Set("Authorization", "DPoP "+tok)
			return h.send(req)
		}},
		{"two proofs", "DPoP", "invalid_dpop_proof", func() *response {
			req := h.request("GET", path, nil)
			if err := key.Authorize(req, tok); err != nil {
				t.Fatal(err)
			}
			req.Header.Add("DPoP", mustProof(key, "GET", url, tok))
			return h.send(req)
		}},
		{"bound token as Bearer", "Bearer", "invalid_token", func() *response { return h.do("GET", path, tok, nil) }},
		{"unbound token with the DPoP scheme", "DPoP", "invalid_token", func() *response {
			return h.dpop("GET", path, h.token("auth0|alice"), key, nil)
		}},
		{"expired bound token", "DPoP", "invalid_token", func() *response {
			return h.dpop("GET", path, h.boundToken("auth0|alice", key, myaccounttest.ExpiresIn(-time.Minute)), key, nil)
		}},
	}
	// What each refusal says, so that a case is refused by its own check.
	details := map[string]string{
		"proof replayed": "used before", "wrong htm": "another HTTP method", "htu of another path": "another URL",
		"htu of another host": "another URL", "htu of another scheme": "another URL", "stale iat": "iat is too far",
		"iat in the future": "iat is too far", "iat missing": "lacks iat", "iat as a string": "iat is not a number",
		"jti missing": "jti", "jti empty": "jti", "wrong ath": "ath", "ath missing": "ath", "proof key not the token's cnf.jkt": "not signed by the key",
		"private key in jwk": "jwk", "jwk missing": "jwk", "HMAC alg": "alg", "alg none": "alg", "typ missing": "typ",
		"typ JWT": "typ", "crit unknown extension": "critical", "tampered signature": "signature",
		"missing proof": "exactly one DPoP proof", "two proofs": "exactly one DPoP proof", "bound token as Bearer": "DPoP-bound",
		"unbound token with the DPoP scheme": "not DPoP-bound", "expired bound token": "expired",
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.send()
			wantChallenges(t, h, r, c.scheme, c.error)
			if d, _ := r.json(t)["detail"].(string); details[c.name] == "" || !strings.Contains(d, details[c.name]) {
				t.Errorf("detail %q, want it to mention %q", d, details[c.name])
			}
		})
	}
}

// The token cache remembers a token's signature, never its binding: a cached
// bound token with a proof of another key is refused.
func TestDPoPBindingIsCheckedOnCachedTokens(t *testing.T) {
	h := newHarness(t)
	key, thief := myaccounttest.NewTestDPoPKey(t), myaccounttest.NewTestDPoPKey(t)
	tok := h.boundToken("auth0|alice", key)
	wantStatus(t, h.dpop("GET", "/me/v1/factors", tok, key, nil), 200)
	wantStatus(t, h.dpop("GET", "/me/v1/factors", tok, key, nil), 200) // a cache hit
	wantChallenges(t, h, h.dpop("GET", "/me/v1/factors", tok, thief, nil), "DPoP", "invalid_dpop_proof")
	wantChallenges(t, h, h.do("GET", "/me/v1/factors", tok, nil), "Bearer", "invalid_token")
}

// A passkey enrollment with DPoP: the verify URL comes from the 202's Location,
// whose id is percent-encoded ("passkey%7Cnew"), and the proof names it so.
func TestDPoPPasskeyCycleThroughTheEncodedLocation(t *testing.T) {
	h := newHarness(t)
	key := myaccounttest.NewTestDPoPKey(t)
	tok := h.boundToken("auth0|alice", key)
	r := h.dpop("POST", "/me/v1/authentication-methods", tok, key, map[string]any{"type": "passkey"})
	wantStatus(t, r, 202)
	loc := r.header.Get("Location")
	if !strings.HasSuffix(loc, "/passkey%7Cnew") {
		t.Fatalf("Location %q", loc)
	}
	var e enrollment
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatal(err)
	}
	att := attest(t, myaccounttest.NewAuthenticator(), e)
	body := map[string]any{"auth_session": e.AuthSession, "authn_response": att}
	// A proof naming the raw "|" fits the request naming "%7C": the same URL.
	raw := strings.Replace(loc, "%7C", "|", 1) + "/verify"
	req := h.request("POST", loc+"/verify", body)
	proof, err := key.Proof("POST", raw, tok)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "DPoP "+tok)
	req.Header.Set("DPoP", proof)
	r = h.send(req)
	wantStatus(t, r, 201)
	method := r.json(t)
	id, _ := method["id"].(string)
	if got := r.header.Get("Location"); !strings.HasSuffix(got, "/"+strings.Replace(id, "|", "%7C", 1)) {
		t.Fatalf("Location %q of %q", got, id)
	}
	wantStatus(t, h.dpop("GET", r.header.Get("Location"), tok, key, nil), 200)
	wantStatus(t, h.dpop("DELETE", r.header.Get("Location"), tok, key, nil), 204)
}

func TestDPoPServerNonces(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) {
		c.Token.DPoP.NonceKey = bytes.Repeat([]byte{7}, 32)
	})
	key := myaccounttest.NewTestDPoPKey(t)
	tok := h.boundToken("auth0|alice", key)
	r := h.dpop("GET", "/me/v1/factors", tok, key, nil)
	wantChallenges(t, h, r, "DPoP", "use_dpop_nonce")
	nonce := r.header.Get("DPoP-Nonce")
	if len(nonce) < 16 {
		t.Fatalf("DPoP-Nonce %q", nonce)
	}
	wantChallenges(t, h, h.dpop("GET", "/me/v1/factors", tok, key, nil, myaccounttest.ProofNonce("made-up")), "DPoP", "use_dpop_nonce")
	r = h.dpop("GET", "/me/v1/factors", tok, key, nil, myaccounttest.ProofNonce(nonce))
	wantStatus(t, r, 200)
	if r.header.Get("DPoP-Nonce") != "" {
		t.Errorf("a current nonce got a new one: %q", r.header.Get("DPoP-Nonce"))
	}
	// Another instance with the same key accepts the nonce: no shared state.
	h2 := newHarness(t, func(c *myaccount.Config) {
		c.Issuer, c.Audience, c.Token.JWKSURL = h.issuer.Issuer, h.issuer.Audience, h.issuer.JWKSURL()
		c.Token.DPoP.NonceKey = bytes.Repeat([]byte{7}, 32)
	})
	h2.issuer = h.issuer
	wantStatus(t, h2.dpop("GET", "/me/v1/factors", tok, key, nil, myaccounttest.ProofNonce(nonce)), 200)
	// Bearer tokens need no nonce.
	wantStatus(t, h.do("GET", "/me/v1/factors", h.token("auth0|alice"), nil), 200)
}

func TestDPoPRequiredRefusesBearer(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) { c.Token.DPoP.Mode = "required" })
	dpop := `DPoP realm="` + h.issuer.Audience + `", ` + dpopAlgs
	r := h.do("GET", "/me/v1/factors", h.token("auth0|alice"), nil)
	wantError(t, r, 401, "A0E-401-0001")
	if got := r.header.Values("WWW-Authenticate"); len(got) != 1 || !strings.HasPrefix(got[0], dpop+`, error="invalid_token"`) {
		t.Errorf("Bearer token: WWW-Authenticate %q", got)
	}
	r = h.do("GET", "/me/v1/factors", "", nil)
	if got := r.header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != dpop {
		t.Errorf("no token: WWW-Authenticate %q, want %q", got, dpop)
	}
	key := myaccounttest.NewTestDPoPKey(t)
	wantStatus(t, h.dpop("GET", "/me/v1/factors", h.boundToken("auth0|alice", key), key, nil), 200)
}

func TestDPoPDisabledTakesBearerOnly(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) { c.Token.DPoP.Mode = "disabled" })
	bearer := `Bearer realm="` + h.issuer.Audience + `"`
	key := myaccounttest.NewTestDPoPKey(t)
	tok := h.boundToken("auth0|alice", key)
	r := h.dpop("GET", "/me/v1/factors", tok, key, nil)
	wantError(t, r, 401, "A0E-401-0001")
	if got := r.header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != bearer {
		t.Errorf("DPoP scheme: WWW-Authenticate %q, want %q", got, bearer)
	}
	r = h.do("GET", "/me/v1/factors", tok, nil)
	if got := r.header.Values("WWW-Authenticate"); len(got) != 1 || !strings.HasPrefix(got[0], bearer+`, error="invalid_token"`) {
		t.Errorf("bound token as Bearer: WWW-Authenticate %q", got)
	}
	wantStatus(t, h.do("GET", "/me/v1/factors", h.token("auth0|alice"), nil), 200)
}

// Two instances sharing one replay cache (Redis in production: see
// redislimit) refuse a proof replayed against the other.
func TestDPoPReplayAcrossInstancesSharingACache(t *testing.T) {
	shared := myaccount.NewMemoryReplayCache(0)
	h := newHarness(t, func(c *myaccount.Config) {
		c.Token.DPoP.ReplayCache = shared
		c.PublicURL = "https://api.example.com"
	})
	h2 := newHarness(t, func(c *myaccount.Config) {
		c.Issuer, c.Audience, c.Token.JWKSURL = h.issuer.Issuer, h.issuer.Audience, h.issuer.JWKSURL()
		c.Token.DPoP.ReplayCache = shared
		c.PublicURL = "https://api.example.com"
	})
	h2.issuer = h.issuer
	key := myaccounttest.NewTestDPoPKey(t)
	tok := h.boundToken("auth0|alice", key)
	proof, err := key.Proof("GET", "https://api.example.com/me/v1/factors", tok)
	if err != nil {
		t.Fatal(err)
	}
	for i, inst := range []*harness{h, h2} {
		req := inst.request("GET", "/me/v1/factors", nil)
		req.Header.Set("Authorization", "DPoP "+tok)
		req.Header.Set("DPoP", proof)
		r := inst.send(req)
		if i == 0 {
			wantStatus(t, r, 200)
		} else {
			wantChallenges(t, inst, r, "DPoP", "invalid_dpop_proof")
		}
	}
}
