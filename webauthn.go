package myaccount

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
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

// creationOptions is the JSON of PublicKeyCredentialCreationOptions as the My
// Account API sends it: exactly the members of the contract's schema.
type creationOptions struct {
	Challenge              string                 `json:"challenge"`
	RP                     rpEntity               `json:"rp"`
	User                   userEntity             `json:"user"`
	PubKeyCredParams       []credentialParameter  `json:"pubKeyCredParams"`
	AuthenticatorSelection authenticatorSelection `json:"authenticatorSelection"`
	Timeout                int64                  `json:"timeout"`
	ExcludeCredentials     []credentialDescriptor `json:"excludeCredentials,omitempty"`
}

type rpEntity struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type userEntity struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

type credentialParameter struct {
	Type string `json:"type"`
	Alg  int64  `json:"alg"`
}

type authenticatorSelection struct {
	ResidentKey      string `json:"residentKey"`
	UserVerification string `json:"userVerification"`
}

type credentialDescriptor struct {
	Type       string   `json:"type"`
	ID         string   `json:"id"`
	Transports []string `json:"transports,omitempty"`
}

// passkeySession is what an enrollment keeps between its two steps.
type passkeySession struct {
	Ceremony       webauthn.SessionData `json:"ceremony"`
	IdentityUserID string               `json:"identity_user_id"`
}

// ceremonyUser is the webauthn.User of a verification: only its handle matters,
// because the options were built by beginPasskey.
type ceremonyUser struct{ handle []byte }

func (u ceremonyUser) WebAuthnID() []byte                         { return u.handle }
func (u ceremonyUser) WebAuthnName() string                       { return "" }
func (u ceremonyUser) WebAuthnDisplayName() string                { return "" }
func (u ceremonyUser) WebAuthnCredentials() []webauthn.Credential { return nil }

var b64url = base64.RawURLEncoding

// beginPasskey builds the creation options and the session state of a passkey
// enrollment for a user with the given handle and existing passkeys.
func (a *API) beginPasskey(handle []byte, name, displayName string, exclude []*Method) (*creationOptions, *webauthn.SessionData, error) {
	challenge := make([]byte, 32)
	if _, err := rand.Read(challenge); err != nil {
		return nil, nil, err
	}
	opts := &creationOptions{
		Challenge: b64url.EncodeToString(challenge),
		RP:        rpEntity{ID: a.cfg.RPID, Name: a.cfg.RPName},
		User:      userEntity{ID: b64url.EncodeToString(handle), Name: name, DisplayName: displayName},
		AuthenticatorSelection: authenticatorSelection{
			ResidentKey:      string(protocol.ResidentKeyRequirementRequired),
			UserVerification: a.cfg.UserVerification,
		},
		Timeout: a.cfg.SessionTTL.Milliseconds(),
	}
	for _, p := range passkeyAlgorithms {
		opts.PubKeyCredParams = append(opts.PubKeyCredParams, credentialParameter{Type: string(p.Type), Alg: int64(p.Algorithm)})
	}
	for _, m := range exclude {
		opts.ExcludeCredentials = append(opts.ExcludeCredentials, credentialDescriptor{
			Type: string(protocol.PublicKeyCredentialType), ID: b64url.EncodeToString(m.Passkey.CredentialID),
			Transports: m.Passkey.Transports,
		})
	}
	session := &webauthn.SessionData{
		Challenge:        opts.Challenge,
		RelyingPartyID:   a.cfg.RPID,
		UserID:           handle,
		UserVerification: protocol.UserVerificationRequirement(a.cfg.UserVerification),
		CredParams:       passkeyAlgorithms,
	}
	return opts, session, nil
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
