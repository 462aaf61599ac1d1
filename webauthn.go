package myaccount

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"
)

// passkeyAlgorithms are the pubKeyCredParams offered, in order of preference:
// Ed25519, ES256, RS256.
var passkeyAlgorithms = []protocol.CredentialParameter{
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgEdDSA},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgES256},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgRS256},
}

// passkeySession is what an enrollment keeps between its two steps.
type passkeySession struct {
	Ceremony       webauthn.SessionData
	IdentityUserID string
}

// sessionVersion is the first byte of a passkey session's stored state. State
// with another first byte, such as the JSON that earlier versions stored, is
// not ours to read: its auth_session is invalid, as if it had expired.
const sessionVersion = 1

// encodeSession is the stored state of a passkey enrollment: the version, then
// the challenge, RP ID, user handle, user verification and identity, each as a
// uvarint length and its bytes. The credential parameters are not stored: they
// are always passkeyAlgorithms. This is a fraction of the work of encoding/json.
func encodeSession(s *passkeySession) []byte {
	c := &s.Ceremony
	fields := [...]string{c.Challenge, c.RelyingPartyID, string(c.UserID), string(c.UserVerification), s.IdentityUserID}
	n := 1
	for _, f := range fields {
		n += binary.MaxVarintLen64 + len(f)
	}
	b := append(make([]byte, 0, n), sessionVersion)
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// decodeSession reverses encodeSession; ok is false for anything it did not
// write. The strings share one copy of data; the user handle aliases data.
func decodeSession(data []byte) (s passkeySession, ok bool) {
	if len(data) == 0 || data[0] != sessionVersion {
		return s, false
	}
	str := string(data)
	var start, end [5]int
	i := 1
	for f := range start {
		n, k := binary.Uvarint(data[i:])
		if k <= 0 || n > uint64(len(data)-i-k) {
			return s, false
		}
		start[f], end[f] = i+k, i+k+int(n)
		i = end[f]
	}
	if i != len(data) {
		return s, false
	}
	field := func(f int) string { return str[start[f]:end[f]] }
	s.Ceremony = webauthn.SessionData{
		Challenge:        field(0),
		RelyingPartyID:   field(1),
		UserVerification: protocol.UserVerificationRequirement(field(3)),
		CredParams:       passkeyAlgorithms,
	}
	if start[2] < end[2] { // an empty handle is nil, as encoding/json gave it
		s.Ceremony.UserID = data[start[2]:end[2]:end[2]]
	}
	s.IdentityUserID = field(4)
	return s, true
}

// ceremonyUser is the webauthn.User of a verification: only its handle matters,
// because the options were built by beginPasskey.
type ceremonyUser struct{ handle []byte }

func (u ceremonyUser) WebAuthnID() []byte                         { return u.handle }
func (u ceremonyUser) WebAuthnName() string                       { return "" }
func (u ceremonyUser) WebAuthnDisplayName() string                { return "" }
func (u ceremonyUser) WebAuthnCredentials() []webauthn.Credential { return nil }

var b64url = base64.RawURLEncoding

// beginPasskey appends to b the creation options of a passkey enrollment for a
// user with the given handle and existing passkeys, and returns the session
// state. The options are PublicKeyCredentialCreationOptions with exactly the
// members of the contract's schema, in its order, as encoding/json would write
// them (the tests hold it to that); writing them by hand saves most of an
// enrollment step's work.
func (a *API) beginPasskey(b, handle []byte, name, displayName string, exclude []*Method) ([]byte, *webauthn.SessionData, error) {
	challenge := make([]byte, 32)
	if _, err := rand.Read(challenge); err != nil {
		return b, nil, err
	}
	session := &webauthn.SessionData{
		Challenge:        b64url.EncodeToString(challenge),
		RelyingPartyID:   a.cfg.RPID,
		UserID:           handle,
		UserVerification: protocol.UserVerificationRequirement(a.cfg.UserVerification),
		CredParams:       passkeyAlgorithms,
	}
	b = append(b, `{"challenge":"`...)
	b = append(b, session.Challenge...)
	b = append(b, `","rp":{"id":`...)
	b = appendString(b, a.cfg.RPID)
	b = append(b, `,"name":`...)
	b = appendString(b, a.cfg.RPName)
	b = append(b, `},"user":{"id":"`...)
	b = b64url.AppendEncode(b, handle)
	b = append(b, `","name":`...)
	b = appendString(b, name)
	b = append(b, `,"displayName":`...)
	b = appendString(b, displayName)
	b = append(b, `},"pubKeyCredParams":[`...)
	for i, p := range passkeyAlgorithms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = appendString(b, string(p.Type))
		b = append(b, `,"alg":`...)
		b = strconv.AppendInt(b, int64(p.Algorithm), 10)
		b = append(b, '}')
	}
	b = append(b, `],"authenticatorSelection":{"residentKey":`...)
	b = appendString(b, string(protocol.ResidentKeyRequirementRequired))
	b = append(b, `,"userVerification":`...)
	b = appendString(b, a.cfg.UserVerification)
	b = append(b, `},"timeout":`...)
	b = strconv.AppendInt(b, a.cfg.SessionTTL.Milliseconds(), 10)
	if len(exclude) > 0 {
		b = append(b, `,"excludeCredentials":[`...)
		for i, m := range exclude {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = appendString(b, string(protocol.PublicKeyCredentialType))
			b = append(b, `,"id":"`...)
			b = b64url.AppendEncode(b, m.Passkey.CredentialID)
			b = append(b, '"')
			if len(m.Passkey.Transports) > 0 {
				b = append(b, `,"transports":[`...)
				for j, t := range m.Passkey.Transports {
					if j > 0 {
						b = append(b, ',')
					}
					b = appendString(b, t)
				}
				b = append(b, ']')
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), session, nil
}

// finishPasskey verifies an attestation response against the session and returns
// the new credential. Errors are *Error values safe to show to the client.
func (a *API) finishPasskey(session *passkeySession, response json.RawMessage) (*webauthn.Credential, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, attestationError(err)
	}
	cred, err := a.webauthn.CreateCredential(ceremonyUser{session.Ceremony.UserID}, session.Ceremony, parsed)
	if err != nil {
		return nil, attestationError(err)
	}
	return cred, nil
}

// attestationError reports a failed ceremony as a 400 on authn_response, with the
// library's short public reason but never its developer details.
func attestationError(err error) *Error {
	detail := "The passkey attestation could not be verified."
	var perr *protocol.Error
	if errors.As(err, &perr) && perr.Details != "" {
		detail = strings.TrimSuffix(perr.Details, ".") + "."
	}
	return bodyError("/authn_response", detail)
}

func transportStrings(ts []protocol.AuthenticatorTransport) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, string(t))
	}
	return out
}
