package myaccount

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
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

// WebAuthnConfig configures the three WebAuthn methods: passkeys,
// security keys (webauthn-roaming, cross-platform authenticators) and
// built-in authenticators such as a laptop's fingerprint reader
// (webauthn-platform), the last two as second factors.
type WebAuthnConfig struct {
	// RPID is the relying party id. Default: Config.Domain; without Domain,
	// Config.Issuer's host, except that a loopback Issuer (localhost,
	// 127.0.0.1, [::1], as in tests and local development) gives "localhost",
	// since WebAuthn does not accept an IP address as a relying party id.
	RPID string
	// RPName is the relying party name shown by authenticators. Default: RPID.
	RPName string
	// Origins are the web origins allowed to create credentials. Default:
	// "https://{RPID}", or "http://localhost" when RPID is "localhost"
	// (browsers treat http://localhost as secure; it is also the origin
	// myaccounttest.Authenticator reports by default). New logs a warning for
	// an origin whose host is neither RPID nor under it, which browsers allow
	// only through WebAuthn Related Origin Requests.
	Origins []string
	// UserVerification is the user verification requirement: "required",
	// "preferred" or "discouraged". Default: "preferred".
	UserVerification string
	// MaxCredentials is how many credentials of each WebAuthn type a user may
	// hold: passkeys, security keys and platform authenticators each. Default: 20.
	MaxCredentials int
	// AlwaysExcludeCredentials sends the user's credentials as
	// excludeCredentials in every enrollment, not only when the request sets
	// use_exclude_credentials, as Auth0 does. Default: false.
	AlwaysExcludeCredentials bool
	// DisableRoaming stops the API from offering webauthn-roaming. Default: false.
	DisableRoaming bool
	// DisablePlatform stops the API from offering webauthn-platform. Default: false.
	DisablePlatform bool
	// AttachmentHint adds authenticatorSelection.authenticatorAttachment to the
	// creation options ("cross-platform" for webauthn-roaming, "platform" for
	// webauthn-platform), so that a browser offers only that kind of
	// authenticator. Auth0's OpenAPI description and its SDKs' types have no
	// such member, so a client that checks the options against them refuses
	// them: set it only for clients that accept it. Whatever it says, a verify
	// whose authn_response reports the other attachment is refused (400).
	// Default: false.
	AttachmentHint bool
}

// webauthnFamily enrolls the three WebAuthn types: passkeys (discoverable,
// primary) and security keys and platform authenticators (second factors).
// The ceremony goes through go-webauthn, with creation options written by hand.
type webauthnFamily struct{}

// attachments is the authenticatorAttachment of each WebAuthn MFA type: the
// hint sent when the deployment opts in, and what a verify must not
// contradict; a passkey may be of either.
var attachments = map[string]protocol.AuthenticatorAttachment{
	typeWebAuthnRoaming:  protocol.CrossPlatform,
	typeWebAuthnPlatform: protocol.Platform,
}

func (webauthnFamily) beginMembers(typ string) []member {
	exclude := member{name: "use_exclude_credentials", kind: kindBoolean}
	if typ != typePasskey {
		return []member{exclude}
	}
	return []member{
		{name: "connection", kind: kindString},
		{name: "identity_user_id", kind: kindString},
		{name: "identity", kind: kindString},
		exclude,
	}
}

func (webauthnFamily) verifyMembers(string) []member {
	return []member{{name: "authn_response", kind: kindObject, required: true}}
}

// limit is MaxCredentials for each of the three types.
func (webauthnFamily) limit(cfg *Config, _ string) int { return cfg.WebAuthn.MaxCredentials }

// offered: passkeys always; the MFA types unless disabled.
func (webauthnFamily) offered(cfg *Config, typ string) bool {
	switch typ {
	case typeWebAuthnRoaming:
		return !cfg.WebAuthn.DisableRoaming
	case typeWebAuthnPlatform:
		return !cfg.WebAuthn.DisablePlatform
	}
	return true
}

// usesUserHandle: a credential is created for the user's WebAuthn user handle.
func (webauthnFamily) usesUserHandle() {}

func (webauthnFamily) usage(typ string) string {
	if typ == typePasskey {
		return "primary"
	}
	return "secondary"
}

func (webauthnFamily) begin(ctx context.Context, e *enrollment) error {
	a, claims := e.api, e.claims
	var exclude []*Method
	if a.cfg.WebAuthn.AlwaysExcludeCredentials || string(e.body["use_exclude_credentials"]) == "true" {
		// The user's credentials of every WebAuthn type, so one authenticator
		// is not enrolled twice under two types.
		all, err := a.cfg.Store.ListMethods(ctx, claims.Issuer, claims.Subject, "")
		if err != nil {
			return err
		}
		for _, m := range all {
			if len(m.WebAuthn.CredentialID) > 0 {
				exclude = append(exclude, m)
			}
		}
	}
	name, displayName := a.cfg.Users.Names(claims)
	e.reply = append(e.reply, `,"authn_params_public_key":`...)
	var ceremony *webauthn.SessionData
	var err error
	e.reply, ceremony, err = a.beginPasskey(e.reply, e.handle, name, displayName, e.state.Type, exclude)
	if err != nil {
		return err
	}
	e.state.Data = encodeCeremony(ceremony)
	return nil
}

// checkVerifyBody checks the members of authn_response, and that its
// authenticatorAttachment, when sent, is typ's: a verify that contradicts it
// is refused before the auth_session is opened, so the session stays usable
// for an authenticator of the right kind. checked is the *authnResponse.
func (webauthnFamily) checkVerifyBody(typ string, body map[string]json.RawMessage) (checked any, err error) {
	resp, repeated := members(body["authn_response"]) // an object (checked by verify) of a valid body
	if repeated != "" {
		return nil, bodyError("/authn_response/"+repeated, "must appear once")
	}
	attestation, err := checkAttestationBody(resp)
	if err != nil {
		return nil, err
	}
	want := attachments[typ]
	if got := unquote(resp["authenticatorAttachment"]); want != "" && got != "" && got != string(want) {
		return nil, bodyError("/authn_response/authenticatorAttachment", `must be "`+string(want)+`" for `+typ)
	}
	return &authnResponse{members: resp, response: attestation}, nil
}

func (webauthnFamily) finish(ctx context.Context, v *verification) error {
	ceremony, ok := decodeCeremony(v.state.Data)
	if !ok {
		return errSessionInvalid
	}
	cred, err := v.api.finishPasskey(&ceremony, v.checked.(*authnResponse))
	if err != nil {
		return v.spend(ctx, err)
	}
	v.method.WebAuthn = WebAuthnCredential{
		CredentialID: cred.ID, PublicKey: cred.PublicKey, AAGUID: cred.Authenticator.AAGUID,
		SignCount: cred.Authenticator.SignCount, BackupEligible: cred.Flags.BackupEligible,
		BackedUp: cred.Flags.BackupState, Transports: cleanTransports(cred.Transport),
		AttestationFormat: cred.AttestationFormat, UserAgent: cleanUserAgent(v.r.UserAgent(), maxUserAgent),
		RelyingPartyID: ceremony.RelyingPartyID, UserHandle: ceremony.UserID,
	}
	return nil
}

// encodeCeremony is the family's part of a sealed session: the challenge, RP
// ID, user handle and user verification. The credential parameters are not
// kept: they are always passkeyAlgorithms.
func encodeCeremony(c *webauthn.SessionData) []byte {
	return appendFields(nil, []byte(c.Challenge), []byte(c.RelyingPartyID), c.UserID, []byte(c.UserVerification))
}

// decodeCeremony reverses encodeCeremony; ok is false for anything it did not write.
func decodeCeremony(data []byte) (c webauthn.SessionData, ok bool) {
	f, ok := readFields(data, 4)
	if !ok {
		return c, false
	}
	c = webauthn.SessionData{
		Challenge: string(f[0]), RelyingPartyID: string(f[1]),
		UserVerification: protocol.UserVerificationRequirement(f[3]), CredParams: passkeyAlgorithms,
	}
	if len(f[2]) > 0 { // an empty handle is nil, as go-webauthn gives it
		c.UserID = f[2]
	}
	return c, true
}

// ceremonyUser is the webauthn.User of a verification: only its handle matters,
// because the options were built by beginPasskey.
type ceremonyUser struct{ handle []byte }

func (u ceremonyUser) WebAuthnID() []byte                         { return u.handle }
func (u ceremonyUser) WebAuthnName() string                       { return "" }
func (u ceremonyUser) WebAuthnDisplayName() string                { return "" }
func (u ceremonyUser) WebAuthnCredentials() []webauthn.Credential { return nil }

var b64url = base64.RawURLEncoding

// beginPasskey appends to b the creation options of a WebAuthn enrollment of
// typ for a user with the given handle, excluding the given credentials, and
// returns the session state. A passkey must be discoverable; a security key or
// platform authenticator need not be, and its options say neither that (the
// contract's AuthenticatorSelection allows residentKey "required" only, and
// WebAuthn's default is "discouraged") nor, unless the deployment opts in, its
// attachment. The options are PublicKeyCredentialCreationOptions with exactly the
// members of the contract's schema, in its order, as encoding/json would write
// them (the tests hold it to that); writing them by hand saves most of an
// enrollment step's work.
func (a *API) beginPasskey(b, handle []byte, name, displayName, typ string, exclude []*Method) ([]byte, *webauthn.SessionData, error) {
	challenge := make([]byte, 32)
	if _, err := rand.Read(challenge); err != nil {
		return b, nil, err
	}
	session := &webauthn.SessionData{
		Challenge:        b64url.EncodeToString(challenge),
		RelyingPartyID:   a.cfg.WebAuthn.RPID,
		UserID:           handle,
		UserVerification: protocol.UserVerificationRequirement(a.cfg.WebAuthn.UserVerification),
		CredParams:       passkeyAlgorithms,
	}
	b = append(b, `{"challenge":"`...)
	b = append(b, session.Challenge...)
	b = append(b, `","rp":{"id":`...)
	b = appendString(b, a.cfg.WebAuthn.RPID)
	b = append(b, `,"name":`...)
	b = appendString(b, a.cfg.WebAuthn.RPName)
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
	b = append(b, `],"authenticatorSelection":{`...)
	if attachment := attachments[typ]; attachment != "" && a.cfg.WebAuthn.AttachmentHint {
		b = append(b, `"authenticatorAttachment":`...)
		b = appendString(b, string(attachment))
		b = append(b, ',')
	}
	if typ == typePasskey {
		b = append(b, `"residentKey":`...)
		b = appendString(b, string(protocol.ResidentKeyRequirementRequired))
		b = append(b, ',')
	}
	b = append(b, `"userVerification":`...)
	b = appendString(b, a.cfg.WebAuthn.UserVerification)
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
			b = b64url.AppendEncode(b, m.WebAuthn.CredentialID)
			b = append(b, '"')
			if len(m.WebAuthn.Transports) > 0 {
				b = append(b, `,"transports":[`...)
				for j, t := range m.WebAuthn.Transports {
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
func (a *API) finishPasskey(ceremony *webauthn.SessionData, response *authnResponse) (*webauthn.Credential, error) {
	parsed, err := response.parse()
	if err != nil {
		return nil, attestationError(err)
	}
	cred, err := a.webauthn.CreateCredential(ceremonyUser{ceremony.UserID}, *ceremony, parsed)
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
	if len(detail) > maxAttestationDetail { // the library names every extension a client invented
		detail = truncate(detail, maxAttestationDetail) + "…"
	}
	return bodyError("/authn_response", detail)
}

// maxAttestationDetail bounds, in bytes, the library's reason a refused
// attestation is answered with.
const maxAttestationDetail = 256

// maxTransports bounds the transports kept for a credential; the WebAuthn
// enumeration has six.
const maxTransports = 6

// cleanTransports keeps the transports of the WebAuthn enumeration that an
// attestation reported, each once; anything else a client sent is dropped
// before it reaches a store or a later excludeCredentials.
func cleanTransports(ts []protocol.AuthenticatorTransport) []string {
	out := make([]string, 0, min(len(ts), maxTransports))
	for _, t := range ts {
		switch t {
		case protocol.USB, protocol.NFC, protocol.BLE, protocol.SmartCard, protocol.Hybrid, protocol.Internal:
			if !slices.Contains(out, string(t)) && len(out) < maxTransports {
				out = append(out, string(t))
			}
		}
	}
	return out
}

// maxUserAgent bounds the user agent kept with a credential, in bytes.
const maxUserAgent = 512

// cleanUserAgent makes a User-Agent header fit to store and show: the text
// rule's cleanText (valid UTF-8, no control, format, line or paragraph
// separator characters), at most n bytes. Only a bounded head of the header
// is cleaned, so that a long header costs no more than a short one.
func cleanUserAgent(ua string, n int) string {
	return truncate(cleanText(truncate(ua, 4*n)), n)
}

// checkAttestationBody checks the members of authn_response: the browser's
// attestation as its toJSON() writes it.
func checkAttestationBody(resp map[string]json.RawMessage) (attestation map[string]json.RawMessage, err error) {
	if err := checkMembers(resp, "/authn_response", []member{
		{name: "id", kind: kindString, required: true},
		{name: "rawId", kind: kindString, required: true},
		{name: "type", kind: kindString, required: true},
		{name: "response", kind: kindObject, required: true},
		{name: "authenticatorAttachment", kind: kindString},
		{name: "clientExtensionResults", kind: kindObject},
	}); err != nil {
		return nil, err
	}
	if unquote(resp["type"]) != "public-key" {
		return nil, bodyError("/authn_response/type", `must be "public-key"`)
	}
	attestation, repeated := members(resp["response"]) // an object, checked above
	if repeated != "" {
		return nil, bodyError("/authn_response/response/"+repeated, "must appear once")
	}
	// authenticatorData, publicKey and publicKeyAlgorithm are what a browser's
	// toJSON() adds; they repeat what the attestation object holds, so they are ignored.
	return attestation, checkMembers(attestation, "/authn_response/response", []member{
		{name: "attestationObject", kind: kindString, required: true},
		{name: "clientDataJSON", kind: kindString, required: true},
		{name: "transports", kind: kindArray},
		{name: "authenticatorData", kind: kindString},
		{name: "publicKey", kind: kindString},
		{name: "publicKeyAlgorithm", kind: kindNumber},
	})
}

// appendFields appends a passkey's members, from credential_device_type to
// user_agent, in the contract's order; a security key's or platform
// authenticator's are those of the contract's AuthenticationMethodWebAuthn.
func (webauthnFamily) appendFields(b []byte, m *Method) []byte {
	p := &m.WebAuthn
	if m.Type != typePasskey {
		b = append(b, `,"confirmed":true,"key_id":"`...)
		b = b64url.AppendEncode(b, p.CredentialID)
		b = append(b, `","public_key":"`...)
		b = base64.StdEncoding.AppendEncode(b, p.PublicKey)
		return append(b, '"')
	}
	if p.BackupEligible {
		b = append(b, `,"credential_device_type":"multi_device"`...)
	} else {
		b = append(b, `,"credential_device_type":"single_device"`...)
	}
	b = append(b, `,"credential_backed_up":`...)
	b = strconv.AppendBool(b, p.BackedUp)
	b = append(b, `,"identity_user_id":`...)
	b = appendString(b, m.IdentityUserID)
	b = append(b, `,"key_id":"`...)
	b = b64url.AppendEncode(b, p.CredentialID)
	b = append(b, `","public_key":"`...)
	b = base64.StdEncoding.AppendEncode(b, p.PublicKey)
	b = append(b, `","user_handle":"`...)
	b = b64url.AppendEncode(b, p.UserHandle)
	b = append(b, `","aaguid":"`...)
	var aaguid [16]byte // all zero unless it is a proper 16-byte AAGUID
	if len(p.AAGUID) == len(aaguid) {
		copy(aaguid[:], p.AAGUID)
	}
	for i, part := range [][]byte{aaguid[:4], aaguid[4:6], aaguid[6:8], aaguid[8:10], aaguid[10:]} {
		if i > 0 {
			b = append(b, '-')
		}
		b = hex.AppendEncode(b, part)
	}
	b = append(b, `","relying_party_id":`...)
	b = appendString(b, p.RelyingPartyID)
	b = append(b, `,"transports":[`...)
	for i, t := range p.Transports {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, t)
	}
	b = append(b, `],"user_agent":`...)
	return appendString(b, p.UserAgent)
}
