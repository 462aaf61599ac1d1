package myaccount

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/go-webauthn/webauthn/protocol"
)

// authnResponse is a verify body's authn_response as checkAttestationBody
// split and checked it: each member known, of its kind, named once.
type authnResponse struct {
	members  map[string]json.RawMessage // of authn_response
	response map[string]json.RawMessage // of authn_response.response
}

// parse gives go-webauthn the credential the response spells. The library's
// own entry point would read the same bytes again with encoding/json (a check
// of the whole response, a decode, and a check and decode of each base64
// member); each member is decoded here as that decoder does, and the
// library's Parse does the rest. It pays for itself, 16% of a verify's time
// measured end to end: bench/README.md, "The hot path, second pass".
func (a *authnResponse) parse() (*protocol.ParsedCredentialCreationData, error) {
	var ccr protocol.CredentialCreationResponse
	ccr.ID, ccr.Type = unquote(a.members["id"]), unquote(a.members["type"])
	ccr.AuthenticatorAttachment = unquote(a.members["authenticatorAttachment"])
	r := &ccr.AttestationResponse
	var err error
	if ccr.RawID, err = base64URLMember(a.members, "rawId"); err != nil {
		return nil, err
	}
	if r.ClientDataJSON, err = base64URLMember(a.response, "clientDataJSON"); err != nil {
		return nil, err
	}
	if r.AttestationObject, err = base64URLMember(a.response, "attestationObject"); err != nil {
		return nil, err
	}
	if r.AuthenticatorData, err = base64URLMember(a.response, "authenticatorData"); err != nil {
		return nil, err
	}
	if r.PublicKey, err = base64URLMember(a.response, "publicKey"); err != nil {
		return nil, err
	}
	if v, sent := a.response["publicKeyAlgorithm"]; sent {
		if r.PublicKeyAlgorithm, err = strconv.ParseInt(string(v), 10, 64); err != nil {
			return nil, unreadable("publicKeyAlgorithm is not an integer")
		}
	}
	if v, sent := a.response["transports"]; sent && json.Unmarshal(v, &r.Transports) != nil {
		return nil, unreadable("transports are not strings")
	}
	// The library reads {} as it reads no member at all, in two decodes.
	if v, sent := a.members["clientExtensionResults"]; sent && v[skipSpace(v, 1)] != '}' {
		if err := ccr.ClientExtensionResults.UnmarshalJSON(v); err != nil {
			return nil, unreadable(err.Error())
		}
	}
	return ccr.Parse()
}

// base64URLMember decodes the member name of from, if sent.
func base64URLMember(from map[string]json.RawMessage, name string) (protocol.URLEncodedBase64, error) {
	v, sent := from[name]
	if !sent {
		return nil, nil
	}
	b, ok := decodeBase64URLMember(v)
	if !ok {
		return nil, unreadable(name + " is not base64url")
	}
	return b, nil
}

// decodeBase64URLMember decodes a JSON string of base64url, "=" padding
// trimmed, as go-webauthn's URLEncodedBase64 does. A string with no escape
// is decoded in place: any byte the alphabet lacks fails the decode anyway.
func decodeBase64URLMember(v json.RawMessage) ([]byte, bool) {
	n := len(v)
	if n < 2 || v[0] != '"' || v[n-1] != '"' {
		return nil, false
	}
	text := v[1 : n-1]
	if bytes.IndexByte(text, '\\') >= 0 {
		text = []byte(unquote(v))
	}
	text = bytes.TrimRight(text, "=")
	out := make([]byte, base64.RawURLEncoding.DecodedLen(len(text)))
	n, err := base64.RawURLEncoding.Decode(out, text)
	return out[:n], err == nil
}

// unreadable is the library's error for a response it cannot decode.
func unreadable(info string) error {
	return protocol.ErrBadRequest.WithDetails("Parse error for Registration").WithInfo(info)
}
