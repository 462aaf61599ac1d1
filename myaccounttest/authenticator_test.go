package myaccounttest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

const testOrigin = "http://localhost:8080"

type testUser struct {
	id    []byte
	creds []webauthn.Credential
}

func (u *testUser) WebAuthnID() []byte                         { return u.id }
func (u *testUser) WebAuthnName() string                       { return "alice" }
func (u *testUser) WebAuthnDisplayName() string                { return "Alice" }
func (u *testUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func newRP(t *testing.T) *webauthn.WebAuthn {
	t.Helper()
	w, err := webauthn.New(&webauthn.Config{
		RPID:          "localhost",
		RPDisplayName: "x",
		RPOrigins:     []string{testOrigin},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// register runs a whole registration ceremony against go-webauthn, with the
// options passed through mutate before the authenticator sees them.
func register(t *testing.T, a *Authenticator, opts ...webauthn.RegistrationOption) (*webauthn.Credential, error) {
	t.Helper()
	w := newRP(t)
	user := &testUser{id: []byte("user-1234")}
	creation, session, err := w.BeginRegistration(user, opts...)
	if err != nil {
		t.Fatal(err)
	}
	options, err := json.Marshal(creation.Response)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Create(options, testOrigin)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(resp)
	if err != nil {
		t.Fatalf("parsing response: %v\n%s", err, resp)
	}
	return w.CreateCredential(user, *session, parsed)
}

func TestCreateRegistersWithGoWebAuthn(t *testing.T) {
	for _, att := range []string{"none", "packed"} {
		t.Run(att, func(t *testing.T) {
			a := NewAuthenticator()
			a.Attestation = att
			cred, err := register(t, a)
			if err != nil {
				t.Fatalf("CreateCredential: %v", err)
			}
			if cred.AttestationFormat != att {
				t.Errorf("attestation format = %q, want %q", cred.AttestationFormat, att)
			}
			if wantType := map[string]string{"none": "none", "packed": "basic_surrogate"}[att]; cred.AttestationType != wantType {
				t.Errorf("attestation type = %q, want %q (self attestation)", cred.AttestationType, wantType)
			}
			if !bytes.Equal(cred.Authenticator.AAGUID, a.AAGUID[:]) {
				t.Errorf("AAGUID = %x, want %x", cred.Authenticator.AAGUID, a.AAGUID)
			}
			if !cred.Flags.UserPresent || !cred.Flags.UserVerified {
				t.Errorf("flags = %+v, want UP and UV", cred.Flags)
			}
			ids := a.Credentials()
			if len(ids) != 1 || !bytes.Equal(ids[0], cred.ID) {
				t.Errorf("Credentials() = %x, want [%x]", ids, cred.ID)
			}
		})
	}
}

func TestCreateBackupFlags(t *testing.T) {
	a := NewAuthenticator()
	a.BackupEligible, a.BackupState = true, true
	cred, err := register(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if !cred.Flags.BackupEligible || !cred.Flags.BackupState {
		t.Errorf("flags = %+v, want BE and BS", cred.Flags)
	}
}

func TestCreateFlagsAreReportedNotEnforced(t *testing.T) {
	// The server requires user verification; an authenticator that skipped it
	// must still answer, so the server's refusal is what gets tested.
	a := NewAuthenticator()
	a.UserVerified = false
	_, err := register(t, a, webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
		UserVerification: protocol.VerificationRequired,
	}))
	if err == nil {
		t.Fatal("CreateCredential accepted UV=false when verification was required")
	}
}

func TestCreateTamperedChallengeFails(t *testing.T) {
	w := newRP(t)
	user := &testUser{id: []byte("user-1234")}
	creation, session, err := w.BeginRegistration(user)
	if err != nil {
		t.Fatal(err)
	}
	challenge := []byte(creation.Response.Challenge)
	challenge[0] ^= 0xff
	creation.Response.Challenge = challenge
	options, _ := json.Marshal(creation.Response)

	resp, err := NewAuthenticator().Create(options, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(resp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateCredential(user, *session, parsed); err == nil {
		t.Fatal("CreateCredential accepted a response to a different challenge")
	}
}

func TestCreateExcluded(t *testing.T) {
	a := NewAuthenticator()
	cred, err := register(t, a)
	if err != nil {
		t.Fatal(err)
	}

	w := newRP(t)
	user := &testUser{id: []byte("user-1234"), creds: []webauthn.Credential{*cred}}
	creation, _, err := w.BeginRegistration(user, webauthn.WithExclusions(webauthn.Credentials(user.creds).CredentialDescriptors()))
	if err != nil {
		t.Fatal(err)
	}
	options, _ := json.Marshal(creation.Response)
	if _, err := a.Create(options, testOrigin); !errors.Is(err, ErrExcluded) {
		t.Fatalf("Create = %v, want ErrExcluded", err)
	}
	if n := len(a.Credentials()); n != 1 {
		t.Errorf("%d credentials after an excluded Create, want 1", n)
	}

	// Another authenticator does not hold the credential, so it may register.
	if _, err := NewAuthenticator().Create(options, testOrigin); err != nil {
		t.Errorf("Create on a fresh authenticator: %v", err)
	}
}

func TestCreateOptionShapes(t *testing.T) {
	// Padded base64url and the {"publicKey": ...} wrapper are both accepted,
	// and rp.id defaults to the origin's host.
	const options = `{"publicKey":{"challenge":"AAEC","rp":{"name":"x"},"user":{"id":"dXNlcg==","name":"u","displayName":"u"},"pubKeyCredParams":[{"type":"public-key","alg":-257},{"type":"public-key","alg":-7}]}}`
	resp, err := NewAuthenticator().Create([]byte(options), "https://login.example.com")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID       string `json:"id"`
		RawID    string `json:"rawId"`
		Response struct {
			ClientDataJSON     string   `json:"clientDataJSON"`
			Transports         []string `json:"transports"`
			PublicKeyAlgorithm int      `json:"publicKeyAlgorithm"`
		} `json:"response"`
	}
	if err := json.Unmarshal(resp, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || got.ID != got.RawID || strings.ContainsAny(got.ID, "=+/") {
		t.Errorf("id %q, rawId %q: want equal unpadded base64url", got.ID, got.RawID)
	}
	cdj, err := base64.RawURLEncoding.DecodeString(got.Response.ClientDataJSON)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"type":"webauthn.create","challenge":"AAEC","origin":"https://login.example.com","crossOrigin":false}`
	if string(cdj) != want {
		t.Errorf("clientDataJSON = %s\nwant %s", cdj, want)
	}
	if got.Response.PublicKeyAlgorithm != -7 || len(got.Response.Transports) != 1 || got.Response.Transports[0] != "internal" {
		t.Errorf("response = %+v", got.Response)
	}
}

func TestCreateCBORIsCanonical(t *testing.T) {
	// Re-encoding the decoded attestation object and COSE key in CTAP2
	// canonical form must reproduce them byte for byte.
	a := NewAuthenticator()
	a.Attestation = "packed"
	resp, err := a.Create([]byte(`{"challenge":"AAEC","user":{"id":"dXNlcg"}}`), testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Response struct {
			AttestationObject string `json:"attestationObject"`
		} `json:"response"`
	}
	if err := json.Unmarshal(resp, &got); err != nil {
		t.Fatal(err)
	}
	attObj, _ := base64.RawURLEncoding.DecodeString(got.Response.AttestationObject)
	var obj struct {
		AuthData []byte `cbor:"authData"`
	}
	if err := cbor.Unmarshal(attObj, &obj); err != nil {
		t.Fatal(err)
	}
	// The COSE key follows rpIdHash(32) flags(1) signCount(4) aaguid(16)
	// credIdLen(2) credId(32).
	coseKey := obj.AuthData[32+1+4+16+2+32:]
	for name, b := range map[string][]byte{"attestationObject": attObj, "COSE key": coseKey} {
		var v any
		if err := cbor.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		again, err := ctap2.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, b) {
			t.Errorf("%s is not canonical:\n got %x\nwant %x", name, b, again)
		}
	}
}

func TestCreateRejects(t *testing.T) {
	tests := []struct {
		name, options, origin string
		want                  error
	}{
		{"no ES256", `{"challenge":"AAEC","user":{"id":"dXNlcg"},"pubKeyCredParams":[{"type":"public-key","alg":-257}]}`, testOrigin, ErrUnsupportedAlgorithm},
		{"no challenge", `{"user":{"id":"dXNlcg"}}`, testOrigin, nil},
		{"no user id", `{"challenge":"AAEC"}`, testOrigin, nil},
		{"foreign rp id", `{"challenge":"AAEC","rp":{"id":"example.com"},"user":{"id":"dXNlcg"}}`, testOrigin, nil},
		{"bad origin", `{"challenge":"AAEC","user":{"id":"dXNlcg"}}`, "localhost", nil},
		{"not json", `{`, testOrigin, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAuthenticator()
			_, err := a.Create([]byte(tt.options), tt.origin)
			if err == nil {
				t.Fatal("Create succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if n := len(a.Credentials()); n != 0 {
				t.Errorf("%d credentials after a failed Create", n)
			}
		})
	}
}

func TestCreateConcurrent(t *testing.T) {
	a := NewAuthenticator()
	a.Attestation = "packed"
	const n = 8
	w := newRP(t)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			// Errors go through errs: t.Fatal must not be called from here.
			user := &testUser{id: []byte("user-1234")}
			creation, session, err := w.BeginRegistration(user)
			if err != nil {
				errs <- err
				return
			}
			options, _ := json.Marshal(creation.Response)
			resp, err := a.Create(options, testOrigin)
			if err != nil {
				errs <- err
				return
			}
			parsed, err := protocol.ParseCredentialCreationResponseBytes(resp)
			if err != nil {
				errs <- err
				return
			}
			_, err = w.CreateCredential(user, *session, parsed)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := len(a.Credentials()); got != n {
		t.Errorf("%d credentials, want %d", got, n)
	}
}
