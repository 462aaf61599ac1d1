package myaccounttest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// ErrExcluded is returned by Create when the options' excludeCredentials
// lists a credential this authenticator already holds for the relying party.
// It stands for the InvalidStateError a browser raises in that case.
var ErrExcluded = errors.New("myaccounttest: authenticator already holds an excluded credential")

// ErrUnsupportedAlgorithm is returned by Create when pubKeyCredParams does not
// offer ES256 (COSE algorithm -7), the only algorithm this authenticator has.
// It stands for the browser's NotSupportedError.
var ErrUnsupportedAlgorithm = errors.New("myaccounttest: pubKeyCredParams does not offer ES256 (-7)")

// coseAlgES256 is the COSE algorithm identifier of ECDSA P-256 with SHA-256.
const coseAlgES256 = -7

// Authenticator flag bits of authenticatorData (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// ctap2 encodes CBOR in the CTAP2 canonical form that authenticators emit and
// that relying parties may insist on byte for byte.
var ctap2 = func() cbor.EncMode {
	em, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// DefaultOrigin is the web origin Create reports when it is given none. It is
// the origin myaccount.New allows by default when its Issuer is on loopback
// (as an [Issuer] from [NewIssuer] is), with the relying party id "localhost".
const DefaultOrigin = "http://localhost"

// Authenticator is a software passkey authenticator together with the part of
// a browser that drives it: Create turns the creation options a relying party
// sends into the registration response a browser would post back. Use it to
// test passkey enrolment without a browser.
//
// It is safe for concurrent use, provided its exported fields are not changed
// while Create runs.
type Authenticator struct {
	// AAGUID identifies the authenticator model in the attested credential
	// data. NewAuthenticator sets a fixed non-zero test value.
	AAGUID [16]byte
	// Attestation is the attestation statement format: "none" (the default;
	// an empty value means the same) or "packed" for self attestation, signed
	// with the new credential's own key and carrying no certificate.
	Attestation string
	// UserPresent, UserVerified, BackupEligible and BackupState are reported
	// as the UP, UV, BE and BS flags. They are reported as set, not enforced,
	// so tests can check that a server rejects what it should.
	UserPresent, UserVerified, BackupEligible, BackupState bool
	// Transports is reported in response.transports.
	Transports []string
	// Attachment is reported as authenticatorAttachment: "platform" or
	// "cross-platform"; empty omits it and answers any request.
	Attachment string
	// ReuseCredentialID, when set (base64url), is the id of the next
	// credentials instead of a new random one, as a misbehaving client or
	// authenticator could send, for tests of a server's duplicate checks.
	ReuseCredentialID string

	mu    sync.Mutex
	creds []credential
}

// credential is what the authenticator keeps of a credential it created.
type credential struct {
	id         []byte
	key        *ecdsa.PrivateKey
	rpID       string
	userHandle []byte
}

// NewAuthenticator returns a platform authenticator that reports user presence
// and verification, is not backup eligible, uses "none" attestation, the
// "internal" transport and the AAGUID of the ASCII bytes "myaccounttest-01".
func NewAuthenticator() *Authenticator {
	a := &Authenticator{
		Attestation:  "none",
		UserPresent:  true,
		UserVerified: true,
		Transports:   []string{"internal"},
		Attachment:   "platform",
	}
	copy(a.AAGUID[:], "myaccounttest-01")
	return a
}

// NewSecurityKey returns a roaming authenticator, as a USB security key is:
// NewAuthenticator's settings with the "cross-platform" attachment and the
// "usb" transport.
func NewSecurityKey() *Authenticator {
	a := NewAuthenticator()
	a.Attachment, a.Transports = "cross-platform", []string{"usb"}
	return a
}

// ErrWrongAttachment is returned by [Authenticator.Create] when the options ask
// for an authenticator attachment other than the authenticator's, so a browser
// would not have offered it.
var ErrWrongAttachment = errors.New("myaccounttest: the options ask for another authenticator attachment")

// Credentials returns the IDs of the credentials created so far, oldest first.
func (a *Authenticator) Credentials() [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([][]byte, len(a.creds))
	for n, c := range a.creds {
		ids[n] = bytes.Clone(c.id)
	}
	return ids
}

// creationOptions is the part of PublicKeyCredentialCreationOptionsJSON that
// Create acts on; the rest of authenticatorSelection, attestation and
// extensions are ignored because the authenticator's fields decide what it
// reports.
type creationOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	PubKeyCredParams []struct {
		Type string `json:"type"`
		Alg  int    `json:"alg"`
	} `json:"pubKeyCredParams"`
	ExcludeCredentials []struct {
		ID string `json:"id"`
	} `json:"excludeCredentials"`
	AuthenticatorSelection struct {
		AuthenticatorAttachment string `json:"authenticatorAttachment"`
	} `json:"authenticatorSelection"`
}

// Create answers WebAuthn creation options the way a browser and this
// authenticator would for a page at origin, and returns the JSON that
// PublicKeyCredential.toJSON() produces for the new credential
// (RegistrationResponseJSON). options is PublicKeyCredentialCreationOptionsJSON,
// either the object itself (as in the My Account API's authn_params_public_key)
// or wrapped as {"publicKey": {...}}. An empty origin means [DefaultOrigin].
// If rp.id is absent the origin's host is used; otherwise it must be that host
// or a parent domain of it, as browsers require.
func (a *Authenticator) Create(options []byte, origin string) ([]byte, error) {
	if origin == "" {
		origin = DefaultOrigin
	}
	opts, err := parseCreationOptions(options)
	if err != nil {
		return nil, err
	}
	challenge, err := decodeB64URL(opts.Challenge)
	if err != nil || len(challenge) == 0 {
		return nil, fmt.Errorf("myaccounttest: options.challenge is missing or not base64url: %q", opts.Challenge)
	}
	userHandle, err := decodeB64URL(opts.User.ID)
	if err != nil || len(userHandle) == 0 {
		return nil, fmt.Errorf("myaccounttest: options.user.id is missing or not base64url: %q", opts.User.ID)
	}
	rpID, err := effectiveRPID(opts.RP.ID, origin)
	if err != nil {
		return nil, err
	}
	if !offersES256(opts) {
		return nil, ErrUnsupportedAlgorithm
	}
	if want := opts.AuthenticatorSelection.AuthenticatorAttachment; want != "" && a.Attachment != "" && want != a.Attachment {
		return nil, ErrWrongAttachment
	}
	var excluded [][]byte
	for _, c := range opts.ExcludeCredentials {
		id, err := decodeB64URL(c.ID)
		if err != nil {
			return nil, fmt.Errorf("myaccounttest: options.excludeCredentials id is not base64url: %q", c.ID)
		}
		excluded = append(excluded, id)
	}
	fmtName := a.Attestation
	if fmtName == "" {
		fmtName = "none"
	}
	if fmtName != "none" && fmtName != "packed" {
		return nil, fmt.Errorf("myaccounttest: unsupported attestation format %q", a.Attestation)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	cred := credential{id: make([]byte, 32), key: key, rpID: rpID, userHandle: userHandle}
	_, _ = rand.Read(cred.id)
	if a.ReuseCredentialID != "" {
		if cred.id, err = decodeB64URL(a.ReuseCredentialID); err != nil {
			return nil, fmt.Errorf("myaccounttest: ReuseCredentialID is not base64url: %w", err)
		}
	}

	clientDataJSON, err := marshalClientData(b64(challenge), origin)
	if err != nil {
		return nil, err
	}
	coseKey, err := coseKeyES256(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	authData := a.authenticatorData(rpID, cred.id, coseKey)

	attStmt := map[string]any{}
	if fmtName == "packed" {
		clientDataHash := sha256.Sum256(clientDataJSON)
		digest := sha256.Sum256(slices.Concat(authData, clientDataHash[:]))
		sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		if err != nil {
			return nil, err
		}
		attStmt = map[string]any{"alg": coseAlgES256, "sig": sig}
	}
	attObj, err := ctap2.Marshal(map[string]any{
		"fmt":      fmtName,
		"attStmt":  attStmt,
		"authData": authData,
	})
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}

	// Checking the exclusions and storing the new credential under one lock
	// keeps concurrent Create calls from both passing the check.
	if err := a.store(cred, excluded); err != nil {
		return nil, err
	}

	transports := a.Transports
	if transports == nil {
		transports = []string{} // toJSON always has an array here
	}
	return json.Marshal(registrationResponseJSON{
		ID:                      b64(cred.id),
		RawID:                   b64(cred.id),
		Type:                    "public-key",
		AuthenticatorAttachment: a.Attachment,
		ClientExtensionResults:  struct{}{},
		Response: attestationResponseJSON{
			ClientDataJSON:     b64(clientDataJSON),
			AttestationObject:  b64(attObj),
			Transports:         transports,
			AuthenticatorData:  b64(authData),
			PublicKey:          b64(spki),
			PublicKeyAlgorithm: coseAlgES256,
		},
	})
}

// store adds c unless the authenticator holds one of the excluded IDs for
// the same relying party.
func (a *Authenticator) store(c credential, excluded [][]byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, held := range a.creds {
		if held.rpID != c.rpID {
			continue
		}
		for _, id := range excluded {
			if bytes.Equal(held.id, id) {
				return ErrExcluded
			}
		}
	}
	a.creds = append(a.creds, c)
	return nil
}

// authenticatorData builds the authenticator data of a registration
// (WebAuthn §6.1): rpIdHash, flags, a zero signature counter and the attested
// credential data.
func (a *Authenticator) authenticatorData(rpID string, credID, coseKey []byte) []byte {
	rpIDHash := sha256.Sum256([]byte(rpID))
	flags := byte(flagAT)
	if a.UserPresent {
		flags |= flagUP
	}
	if a.UserVerified {
		flags |= flagUV
	}
	if a.BackupEligible {
		flags |= flagBE
	}
	if a.BackupState {
		flags |= flagBS
	}
	d := slices.Concat(rpIDHash[:], []byte{flags}, []byte{0, 0, 0, 0}, a.AAGUID[:])
	d = binary.BigEndian.AppendUint16(d, uint16(len(credID)))
	return slices.Concat(d, credID, coseKey)
}

// coseKeyES256 encodes pub as a COSE_Key (RFC 9053): kty EC2, alg ES256,
// crv P-256 and the 32-byte x and y coordinates.
func coseKeyES256(pub *ecdsa.PublicKey) ([]byte, error) {
	pt, err := pub.Bytes() // 0x04 || x || y
	if err != nil {
		return nil, err
	}
	return ctap2.Marshal(map[int]any{
		1:  2, // kty: EC2
		3:  coseAlgES256,
		-1: 1, // crv: P-256
		-2: pt[1:33],
		-3: pt[33:65],
	})
}

// marshalClientData serializes CollectedClientData with its members in the
// order browsers use and without Go's HTML escaping, which browsers don't do.
func marshalClientData(challenge, origin string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Type        string `json:"type"`
		Challenge   string `json:"challenge"`
		Origin      string `json:"origin"`
		CrossOrigin bool   `json:"crossOrigin"`
	}{"webauthn.create", challenge, origin, false})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

type registrationResponseJSON struct {
	ID                      string                  `json:"id"`
	RawID                   string                  `json:"rawId"`
	Type                    string                  `json:"type"`
	AuthenticatorAttachment string                  `json:"authenticatorAttachment,omitempty"`
	ClientExtensionResults  struct{}                `json:"clientExtensionResults"`
	Response                attestationResponseJSON `json:"response"`
}

type attestationResponseJSON struct {
	ClientDataJSON     string   `json:"clientDataJSON"`
	AttestationObject  string   `json:"attestationObject"`
	Transports         []string `json:"transports"`
	AuthenticatorData  string   `json:"authenticatorData"`
	PublicKey          string   `json:"publicKey"`
	PublicKeyAlgorithm int      `json:"publicKeyAlgorithm"`
}

// parseCreationOptions accepts the options object or {"publicKey": options},
// the two shapes servers commonly send.
func parseCreationOptions(data []byte) (*creationOptions, error) {
	var wrapper struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(data, &wrapper); err != nil {
		return nil, fmt.Errorf("myaccounttest: parsing creation options: %w", err)
	}
	if len(wrapper.PublicKey) > 0 && string(wrapper.PublicKey) != "null" {
		data = wrapper.PublicKey
	}
	var opts creationOptions
	if err := json.Unmarshal(data, &opts); err != nil {
		return nil, fmt.Errorf("myaccounttest: parsing creation options: %w", err)
	}
	return &opts, nil
}

// offersES256 reports whether the relying party accepts ES256. An empty list
// means the WebAuthn defaults, which include ES256.
func offersES256(opts *creationOptions) bool {
	if len(opts.PubKeyCredParams) == 0 {
		return true
	}
	for _, p := range opts.PubKeyCredParams {
		if p.Type == "public-key" && p.Alg == coseAlgES256 {
			return true
		}
	}
	return false
}

// effectiveRPID returns the RP ID to scope the credential to. Like a browser
// it refuses an RP ID that is neither the origin's host nor a parent domain of
// it, so a misconfigured server fails here rather than in production.
func effectiveRPID(rpID, origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("myaccounttest: origin %q is not scheme://host[:port]", origin)
	}
	host := u.Hostname()
	if rpID == "" {
		return host, nil
	}
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return "", fmt.Errorf("myaccounttest: rp.id %q is not valid for origin %q", rpID, origin)
	}
	return rpID, nil
}

// decodeB64URL decodes base64url, tolerating the padding some servers add.
func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
