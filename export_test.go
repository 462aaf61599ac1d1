package myaccount

import (
	"encoding/json"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
)

// SetHashHook has p call f as each hash starts (true) and ends (false), so
// tests can count the hashes running at once. Set it before p is used.
func SetHashHook(p *Argon2Passwords, f func(start bool)) { p.onHash = f }

// HashTurns reports how many users hold or wait for a hashing turn of p.
func HashTurns(p *Argon2Passwords) int { return p.users.len() }

// LimiterLen is how many buckets a limiter of NewMemoryLimiter tracks.
func LimiterLen(l Limiter) int { return l.(*memoryLimiter).Len() }

// EnrollHandler is the API's handler of POST /authentication-methods alone,
// with its token, rate-limit and scope checks.
func EnrollHandler(a *API) http.Handler {
	return a.routes["authentication-methods"].handlers[http.MethodPost]
}

// ReplayCacheLen is how many proofs a cache of NewMemoryReplayCache holds.
func ReplayCacheLen(c ReplayCache) int { return c.(*memoryReplayCache).Len() }

// ParseAuthnResponse reads an authn_response as a verify does: split and
// checked by the verify's member checks, then handed to go-webauthn.
func ParseAuthnResponse(raw []byte) (*protocol.ParsedCredentialCreationData, error) {
	checked, err := webauthnFamily{}.checkVerifyBody(typePasskey, map[string]json.RawMessage{"authn_response": raw})
	if err != nil {
		return nil, err
	}
	return checked.(*authnResponse).parse()
}
