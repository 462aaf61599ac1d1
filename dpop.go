package myaccount

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// dpopMode says whether a [TokenValidator] accepts DPoP-bound tokens (RFC 9449).
type dpopMode int

const (
	// dpopAllowed accepts bearer tokens and DPoP-bound tokens with their
	// proofs; challenges offer both schemes. The default.
	dpopAllowed dpopMode = iota
	// dpopRequired accepts only DPoP-bound tokens with their proofs.
	dpopRequired
	// dpopDisabled accepts only bearer tokens. A DPoP-bound token is refused
	// whatever its scheme, since its binding could not be checked.
	dpopDisabled
)

// dpopModeNames are the modes as [DPoPConfig.Mode] spells them.
var dpopModeNames = []string{"allowed", "required", "disabled"}

// DPoPConfig configures DPoP-bound tokens. Zero values are the defaults.
type DPoPConfig struct {
	// Mode is "allowed" (DPoP-bound tokens beside bearer tokens, both
	// schemes offered in challenges), "required" (DPoP-bound tokens only) or
	// "disabled" (bearer tokens only; a DPoP-bound token is refused whatever
	// its scheme, since its binding could not be checked). Default: "allowed".
	Mode string
	// Algorithms are the accepted "alg" values of proofs, asymmetric only.
	// Default: RS256, PS256, ES256 and EdDSA.
	Algorithms []string
	// ProofWindow is how far a proof's "iat" may be from now, either side.
	// Default: 60 seconds.
	ProofWindow time.Duration
	// ReplayCache remembers accepted proofs. Several instances must share one
	// (redislimit.NewReplayCache). Default: [NewMemoryReplayCache](0).
	ReplayCache ReplayCache
	// NonceKey turns on server nonces (RFC 9449 section 8): proofs must then
	// carry a nonce, an HMAC of the time window under this key, which every
	// instance holding the key accepts. At least 32 random bytes. Default: nil
	// (no nonces).
	NonceKey []byte
	// NonceLifetime is how often the nonce changes; a nonce is accepted for
	// one to two lifetimes. Default: 5 minutes.
	NonceLifetime time.Duration
}

// dpopChecker checks DPoP proofs for a validator.
type dpopChecker struct {
	mode      dpopMode
	algs      []string
	challenge string // the DPoP challenge's algs parameter
	parser    *jwt.Parser
	window    time.Duration
	replay    ReplayCache
	nonces    *nonces // nil when off
}

func newDPoPChecker(cfg DPoPConfig) (*dpopChecker, error) {
	mode := dpopMode(slices.Index(dpopModeNames, cmp.Or(cfg.Mode, "allowed")))
	if mode < 0 {
		return nil, fmt.Errorf("%w: DPoP.Mode %q is not allowed, required or disabled", ErrConfig, cfg.Mode)
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = defaultAlgorithms
	}
	for _, alg := range algs {
		if !slices.Contains(asymmetricAlgorithms, alg) {
			return nil, fmt.Errorf("%w: DPoP algorithm %q is not an asymmetric JWS algorithm", ErrConfig, alg)
		}
	}
	if cfg.ProofWindow < 0 || cfg.NonceLifetime < 0 {
		return nil, fmt.Errorf("%w: DPoP.ProofWindow and DPoP.NonceLifetime must not be negative", ErrConfig)
	}
	if cfg.NonceKey != nil && len(cfg.NonceKey) < 32 {
		return nil, fmt.Errorf("%w: DPoP.NonceKey must be at least 32 bytes", ErrConfig)
	}
	d := &dpopChecker{
		mode:      mode,
		algs:      slices.Clone(algs),
		challenge: strings.Join(algs, " "),
		window:    cfg.ProofWindow,
		replay:    cfg.ReplayCache,
	}
	if d.window == 0 {
		d.window = 60 * time.Second
	}
	if d.replay == nil {
		d.replay = NewMemoryReplayCache(0)
	}
	if cfg.NonceKey != nil {
		d.nonces = &nonces{key: slices.Clone(cfg.NonceKey), lifetime: cfg.NonceLifetime}
		if d.nonces.lifetime == 0 {
			d.nonces.lifetime = 5 * time.Minute
		}
	}
	d.parser = jwt.NewParser(jwt.WithValidMethods(d.algs), jwt.WithStrictDecoding(), jwt.WithoutClaimsValidation())
	return d, nil
}

// proofClaims are the claims of a DPoP proof (RFC 9449 section 4.2).
type proofClaims struct {
	HTM   string     `json:"htm"`
	HTU   string     `json:"htu"`
	ATH   string     `json:"ath"`
	JTI   string     `json:"jti"`
	Nonce string     `json:"nonce"`
	IAT   strictDate `json:"iat"`
}

// The jwt.Claims methods; the validator checks iat itself, against its window.
func (*proofClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (*proofClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (*proofClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (*proofClaims) GetIssuer() (string, error)                   { return "", nil }
func (*proofClaims) GetSubject() (string, error)                  { return "", nil }
func (*proofClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// maxProofBytes bounds a DPoP header: a proof with an RSA 8192 key is under 3 KB.
const maxProofBytes = 8 << 10

// proofRequest is what a proof must match: the request and its token.
type proofRequest struct {
	method string
	url    string // scheme://host/path of the request, as clients see it
	token  string
	jkt    string // the token's cnf.jkt
}

// proofUse is a proof that passed every check but the replay cache: what
// record needs to note it as used.
type proofUse struct {
	id      string    // its replay id
	expires time.Time // when its iat window ends
	realm   string    // of the challenge that refuses it
}

// check verifies a proof for req, all but its replay: the caller records use
// once the request is to be served (record), so that a proof is noted as
// used only by a request that passed the rate limits. The error is an *Error
// with its challenge (invalid_dpop_proof or use_dpop_nonce); fresh is the
// nonce to hand the client on success, "" when it has the current one or
// nonces are off.
func (d *dpopChecker) check(v *TokenValidator, realm, proof string, req proofRequest) (fresh string, use proofUse, err error) {
	now := v.now()
	if len(proof) > maxProofBytes {
		return "", proofUse{}, d.proofError(v, realm, "The DPoP proof is too large.")
	}
	var key proofKey
	claims := new(proofClaims)
	_, err = d.parser.ParseWithClaims(proof, claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); !strings.EqualFold(typ, "dpop+jwt") {
			return nil, errProofType
		}
		if _, ok := t.Header["crit"]; ok {
			return nil, errCritical
		}
		jwk, ok := t.Header["jwk"].(map[string]any)
		if !ok {
			return nil, errProofKey
		}
		k, err := parseProofKey(jwk, t.Method.Alg())
		key = k
		return k.key, err
	})
	switch {
	case err != nil:
		return "", proofUse{}, d.proofError(v, realm, "The DPoP proof is invalid: "+describeProofError(err))
	case claims.HTM != req.method:
		return "", proofUse{}, d.proofError(v, realm, "The DPoP proof is for another HTTP method.")
	case !sameHTU(claims.HTU, req.url):
		return "", proofUse{}, d.proofError(v, realm, "The DPoP proof is for another URL.")
	case !claims.IAT.set:
		return "", proofUse{}, d.proofError(v, realm, "The DPoP proof lacks iat.")
	case claims.IAT.date.Before(now.Add(-d.window)) || claims.IAT.date.After(now.Add(d.window)):
		return "", proofUse{}, d.proofError(v, realm, "The DPoP proof's iat is too far from now.")
	case claims.JTI == "" || len(claims.JTI) > 256:
		return "", proofUse{}, d.proofError(v, realm, "The DPoP proof needs a jti of at most 256 characters.")
	case !sameString(claims.ATH, accessTokenHash(req.token)):
		return "", proofUse{}, d.proofError(v, realm, "The DPoP proof's ath does not match the access token.")
	case !sameString(key.jkt, req.jkt):
		return "", proofUse{}, d.proofError(v, realm, "The DPoP proof is not signed by the key the access token is bound to.")
	}
	if d.nonces != nil {
		ok, current := d.nonces.check(claims.Nonce, now)
		if !ok {
			return "", proofUse{}, d.nonceError(v, realm, now)
		}
		if !current {
			fresh = d.nonces.nonce(now)
		}
	}
	return fresh, proofUse{id: replayID(key.jkt, claims.JTI), expires: claims.IAT.date.Add(d.window), realm: realm}, nil
}

// record notes a checked proof as used, refusing one used before. It runs
// only once the proof is known good, so that forged proofs fill nothing, and,
// on an API's routes, once the request has passed the rate limits, so that
// requests refused for their rate fill nothing either. A full cache is a 503
// with the cache's Retry-After.
func (d *dpopChecker) record(ctx context.Context, v *TokenValidator, use proofUse) error {
	seen, err := d.replay.Seen(ctx, use.id, use.expires)
	if err != nil {
		var full interface{ RetryAfter() time.Duration }
		if errors.As(err, &full) {
			e := newError(http.StatusServiceUnavailable, "A0E-503-0001", "The service is temporarily unavailable. Try again shortly.", err)
			e.Header = http.Header{"Retry-After": {strconv.FormatInt(max(1, int64(math.Ceil(full.RetryAfter().Seconds()))), 10)}}
			return e
		}
		return fmt.Errorf("%w: DPoP replay cache: %w", ErrUnavailable, err)
	}
	if seen {
		return d.proofError(v, use.realm, "The DPoP proof was used before.")
	}
	return nil
}

var errProofType = errors.New(`a DPoP proof's typ must be "dpop+jwt"`)

// errCritical refuses a JWS with a "crit" header: it names extensions that
// must be understood (RFC 7515 section 4.1.11), and this package understands none.
var errCritical = errors.New("crit names an extension this server does not understand")

func describeProofError(err error) string {
	switch {
	case errors.Is(err, errProofType):
		return `its typ is not "dpop+jwt".`
	case errors.Is(err, errCritical):
		return "it names a critical extension this server does not understand."
	case errors.Is(err, errPrivateJWK):
		return "its jwk holds a private key."
	case errors.Is(err, errProofKey):
		return "its jwk is not an acceptable public key."
	case errors.Is(err, errDateNotNumber):
		return "its iat is not a number."
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "its alg is not accepted or its signature does not verify."
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "it is malformed."
	}
	return "its header or signature is not acceptable."
}

// accessTokenHash is a proof's expected "ath": base64url(SHA-256(token)).
func accessTokenHash(token string) string {
	sum := tokenSum(token)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// replayID names a proof in the replay cache: its key and its jti, hashed so
// that ids have one short size whatever the client sent.
func replayID(jkt, jti string) string {
	h := sha256.New()
	h.Write([]byte(jkt))
	h.Write([]byte{0})
	h.Write([]byte(jti))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

func sameString(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// sameHTU reports whether a proof's htu names the request URL want (scheme,
// host and path; a query or fragment of htu is ignored, RFC 9449 section 4.3),
// after the normalisations of RFC 3986 section 6.2.2 and 6.2.3: scheme and
// host case, default ports, an empty path, and percent-encoding, so that
// ".../passkey%7Cnew" and ".../passkey|new" are the same URL.
func sameHTU(htu, want string) bool {
	if htu == want {
		return true
	}
	got, err1 := url.Parse(htu)
	exp, err2 := url.Parse(want)
	if err1 != nil || err2 != nil || got.Opaque != "" || got.User != nil || got.Host == "" {
		return false
	}
	return strings.EqualFold(got.Scheme, exp.Scheme) &&
		normalHost(got.Scheme, got.Host) == normalHost(exp.Scheme, exp.Host) &&
		normalPath(got.EscapedPath()) == normalPath(exp.EscapedPath())
}

func normalHost(scheme, host string) string {
	host = strings.ToLower(host)
	switch strings.ToLower(scheme) {
	case "http":
		host = strings.TrimSuffix(host, ":80")
	case "https":
		host = strings.TrimSuffix(host, ":443")
	}
	return host
}

// normalPath decodes every percent-encoded byte of an escaped path except the
// ones that would change its structure ("/", "?", "#", "%"), which stay encoded
// in upper case.
func normalPath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && ishex(p[i+1]) && ishex(p[i+2]) {
			c := unhex(p[i+1])<<4 | unhex(p[i+2])
			if c == '/' || c == '?' || c == '#' || c == '%' {
				b.WriteString(strings.ToUpper(p[i : i+3]))
			} else {
				b.WriteByte(c)
			}
			i += 2
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// requestURL is the URL a DPoP proof of r must name: the public scheme and
// host, and the path as the client sent it (r.RequestURI, which a mux that
// strips a prefix leaves alone), without the query.
func requestURL(base string, r *http.Request) string {
	path := r.RequestURI
	if path == "" || path[0] != '/' {
		path = r.URL.EscapedPath() // a request made in process, or absolute-form
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return base + path
}

func (d *dpopChecker) proofError(v *TokenValidator, realm, detail string) *Error {
	return v.challengeError(realm, schemeDPoP, "invalid_dpop_proof", detail)
}

func (d *dpopChecker) nonceError(v *TokenValidator, realm string, now time.Time) *Error {
	e := v.challengeError(realm, schemeDPoP, "use_dpop_nonce", "The DPoP proof must carry the server's current nonce.")
	e.Header["Dpop-Nonce"] = []string{d.nonces.nonce(now)}
	return e
}
