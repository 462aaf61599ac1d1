package myaccount_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

var (
	methodIDPattern = regexp.MustCompile(`^passkey\|dev_[A-Za-z0-9]{16}$`)
	base64urlRaw    = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	createdAtFormat = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	uuidPattern     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

func TestPasskeyLifecycle(t *testing.T) {
	for _, format := range []string{"none", "packed"} {
		t.Run(format, func(t *testing.T) {
			h := newHarness(t)
			alice := h.token("auth0|alice")
			auth := myaccounttest.NewAuthenticator()
			auth.Attestation = format
			auth.BackupEligible, auth.BackupState = true, true

			// Step 1: enrollment options.
			r := h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "passkey"})
			wantStatus(t, r, http.StatusAccepted)
			if loc := r.header.Get("Location"); loc != h.server.URL+"/me/v1/authentication-methods/passkey%7Cnew" {
				t.Errorf("Location %q", loc)
			}
			var e enrollment
			if err := json.Unmarshal(r.body, &e); err != nil {
				t.Fatal(err)
			}
			if len(e.AuthSession) < 22 {
				t.Errorf("auth_session %q is shorter than 128 bits", e.AuthSession)
			}
			opts := decodeOptions(t, e.Options)
			if opts.RP.ID != "localhost" || !base64urlRaw.MatchString(opts.Challenge) || !base64urlRaw.MatchString(opts.User.ID) {
				t.Errorf("options: %s", e.Options)
			}
			if got := fmt.Sprint(opts.algs()); got != "[-8 -7 -257]" {
				t.Errorf("pubKeyCredParams algs %s", got)
			}
			if opts.AuthenticatorSelection.ResidentKey != "required" || opts.Timeout <= 0 {
				t.Errorf("authenticatorSelection/timeout: %s", e.Options)
			}
			if len(opts.ExcludeCredentials) != 0 {
				t.Errorf("excludeCredentials for a user with no passkeys: %v", opts.ExcludeCredentials)
			}

			// Step 2: verify.
			r = h.verify(alice, e.AuthSession, attest(t, auth, e))
			wantStatus(t, r, http.StatusCreated)
			m := r.json(t)
			id, _ := m["id"].(string)
			if !methodIDPattern.MatchString(id) {
				t.Fatalf("id %q", id)
			}
			if loc := r.header.Get("Location"); loc != h.server.URL+"/me/v1/authentication-methods/"+strings.Replace(id, "|", "%7C", 1) {
				t.Errorf("Location %q", loc)
			}
			checkPasskey(t, m, auth, opts.User.ID)
			if m["credential_device_type"] != "multi_device" || m["credential_backed_up"] != true {
				t.Errorf("backup flags: %v %v", m["credential_device_type"], m["credential_backed_up"])
			}

			// The list holds it; the raw and %7C forms of the id both find it.
			r = h.do("GET", "/me/v1/authentication-methods", alice, nil)
			wantStatus(t, r, http.StatusOK)
			list := r.json(t)["authentication_methods"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["id"] != id {
				t.Fatalf("list: %s", r.body)
			}
			for _, path := range []string{"/me/v1/authentication-methods/" + id, "/me/v1/authentication-methods/passkey%7C" + strings.TrimPrefix(id, "passkey|")} {
				r = h.do("GET", path, alice, nil)
				wantStatus(t, r, http.StatusOK)
				if r.json(t)["id"] != id {
					t.Errorf("GET %s: %s", path, r.body)
				}
			}

			// A second enrollment that asks for it excludes the first
			// credential; the same authenticator then refuses, as a browser would.
			e2 := h.beginWith(alice, map[string]any{"type": "passkey", "use_exclude_credentials": true})
			opts2 := decodeOptions(t, e2.Options)
			if len(opts2.ExcludeCredentials) != 1 || opts2.ExcludeCredentials[0].ID != m["key_id"] {
				t.Errorf("excludeCredentials: %s", e2.Options)
			}
			if opts2.User.ID != opts.User.ID {
				t.Errorf("user handle changed between enrollments")
			}
			if _, err := auth.Create(e2.Options, testOrigin); err == nil {
				t.Errorf("authenticator created a credential it was told to exclude")
			}

			// Rename, then delete.
			r = h.do("PATCH", "/me/v1/authentication-methods/"+id, alice, map[string]any{"name": "Work laptop"})
			wantStatus(t, r, http.StatusOK)
			if got := r.json(t)["name"]; got != "Work laptop" {
				t.Errorf("name after PATCH: %v", got)
			}
			r = h.do("GET", "/me/v1/authentication-methods/"+id, alice, nil)
			if got := r.json(t)["name"]; got != "Work laptop" {
				t.Errorf("name after GET: %v", got)
			}
			r = h.do("DELETE", "/me/v1/authentication-methods/"+id, alice, nil)
			wantStatus(t, r, http.StatusNoContent)
			if len(r.body) != 0 {
				t.Errorf("204 with body %q", r.body)
			}
			wantError(t, h.do("GET", "/me/v1/authentication-methods/"+id, alice, nil), 404, "A0E-404-0001")
			wantError(t, h.do("DELETE", "/me/v1/authentication-methods/"+id, alice, nil), 404, "A0E-404-0001")
		})
	}
}

// checkPasskey checks every field the contract lists for a passkey method.
func checkPasskey(t *testing.T, m map[string]any, auth *myaccounttest.Authenticator, userID string) {
	t.Helper()
	creds := auth.Credentials()
	wantKeyID := base64.RawURLEncoding.EncodeToString(creds[len(creds)-1])
	checks := map[string]bool{
		"type":             m["type"] == "passkey",
		"key_id":           m["key_id"] == wantKeyID,
		"user_handle":      m["user_handle"] == userID,
		"aaguid":           uuidPattern.MatchString(fmt.Sprint(m["aaguid"])),
		"relying_party_id": m["relying_party_id"] == "localhost",
		"identity_user_id": m["identity_user_id"] == "alice",
		"usage":            fmt.Sprint(m["usage"]) == "[primary]",
		"transports":       fmt.Sprint(m["transports"]) == fmt.Sprint(auth.Transports),
		"created_at":       createdAtFormat.MatchString(fmt.Sprint(m["created_at"])),
		"user_agent":       m["user_agent"] != nil,
	}
	if pk, err := base64.StdEncoding.DecodeString(fmt.Sprint(m["public_key"])); err != nil || len(pk) < 64 {
		checks["public_key"] = false
	}
	for field, ok := range checks {
		if !ok {
			t.Errorf("%s = %v", field, m[field])
		}
	}
	if created, err := time.Parse(time.RFC3339, fmt.Sprint(m["created_at"])); err != nil || time.Since(created) > time.Minute {
		t.Errorf("created_at %v is not now", m["created_at"])
	}
}

type creationOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rp"`
	User struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
	} `json:"user"`
	PubKeyCredParams []struct {
		Alg int `json:"alg"`
	} `json:"pubKeyCredParams"`
	AuthenticatorSelection struct {
		ResidentKey      string `json:"residentKey"`
		UserVerification string `json:"userVerification"`
	} `json:"authenticatorSelection"`
	Timeout            int `json:"timeout"`
	ExcludeCredentials []struct {
		ID string `json:"id"`
	} `json:"excludeCredentials"`
}

func (o creationOptions) algs() []int {
	var out []int
	for _, p := range o.PubKeyCredParams {
		out = append(out, p.Alg)
	}
	return out
}

func decodeOptions(t *testing.T, raw json.RawMessage) creationOptions {
	t.Helper()
	var o creationOptions
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestUnversionedPathsServeTheSameAPI(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	m := h.enroll(alice, myaccounttest.NewAuthenticator())
	r := h.do("GET", "/me/authentication-methods", alice, nil)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), fmt.Sprint(m["id"])) {
		t.Errorf("unversioned list misses the method: %s", r.body)
	}
	wantStatus(t, h.do("GET", "/me/authentication-methods/"+fmt.Sprint(m["id"]), alice, nil), http.StatusOK)
	wantStatus(t, h.do("GET", "/me/factors", alice, nil), http.StatusOK)
}

func TestFactorsAndTypeFilter(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	r := h.do("GET", "/me/v1/factors", alice, nil)
	wantStatus(t, r, http.StatusOK)
	if string(r.body) != `{"factors":[{"type":"passkey","usage":["primary"]},{"type":"webauthn-platform","usage":["secondary"]},`+
		`{"type":"webauthn-roaming","usage":["secondary"]},{"type":"totp","usage":["secondary"]},{"type":"recovery-code","usage":["secondary"]}]}` {
		t.Errorf("factors: %s", r.body)
	}
	h.enroll(alice, myaccounttest.NewAuthenticator())
	for typ, want := range map[string]int{"passkey": 1, "totp": 0, "": 1} {
		r := h.do("GET", "/me/v1/authentication-methods?type="+typ, alice, nil)
		wantStatus(t, r, http.StatusOK)
		if got := len(r.json(t)["authentication_methods"].([]any)); got != want {
			t.Errorf("type=%q: %d methods, want %d", typ, got, want)
		}
	}
	body := wantError(t, h.do("GET", "/me/v1/authentication-methods?type=sms", alice, nil), 400, "A0E-400-0003")
	if v := body["validation_errors"].([]any)[0].(map[string]any); v["field"] != "type" || v["source"] != "query" {
		t.Errorf("validation error: %v", v)
	}
	// An empty list is an object holding an empty array, never null.
	bob := h.token("auth0|bob")
	if r := h.do("GET", "/me/v1/authentication-methods", bob, nil); string(r.body) != `{"authentication_methods":[]}` {
		t.Errorf("empty list: %s", r.body)
	}
}

func TestAuthSessionIsSingleUseAndBound(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.token("auth0|alice"), h.token("auth0|bob")
	auth := myaccounttest.NewAuthenticator()
	e := h.begin(alice)
	resp := attest(t, auth, e)

	// Bob cannot use Alice's session, and his attempt does not burn it.
	wantError(t, h.verify(bob, e.AuthSession, resp), 400, "A0E-400-0003")
	// Nor can a token of another issuer for the same subject.
	other := myaccounttest.NewIssuer(t)
	foreign := other.Token(t, "auth0|alice", allScopes...)
	wantError(t, h.verify(foreign, e.AuthSession, resp), 401, "A0E-401-0001")

	wantStatus(t, h.verify(alice, e.AuthSession, resp), http.StatusCreated)
	// Replaying it fails, even with a fresh attestation.
	body := wantError(t, h.verify(alice, e.AuthSession, resp), 400, "A0E-400-0003")
	if v := body["validation_errors"].([]any)[0].(map[string]any); v["pointer"] != "/auth_session" {
		t.Errorf("validation error: %v", v)
	}
	wantError(t, h.verify(alice, "made-up", resp), 400, "A0E-400-0003")
	if n := len(h.do("GET", "/me/v1/authentication-methods", alice, nil).json(t)["authentication_methods"].([]any)); n != 1 {
		t.Errorf("%d methods after replays, want 1", n)
	}
}

func TestExpiredAuthSessionIsRefused(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) { c.SessionTTL = 50 * time.Millisecond })
	alice := h.token("auth0|alice")
	e := h.begin(alice)
	resp := attest(t, myaccounttest.NewAuthenticator(), e)
	time.Sleep(100 * time.Millisecond)
	wantError(t, h.verify(alice, e.AuthSession, resp), 400, "A0E-400-0003")
}

func TestFailedAttestationIsRefusedAndStoresNothing(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) { c.WebAuthn.UserVerification = "required" })
	alice := h.token("auth0|alice")
	cases := map[string]func(e enrollment) json.RawMessage{
		"wrong origin": func(e enrollment) json.RawMessage {
			// A page on another origin: the attestation is sound, the clientDataJSON
			// names where the ceremony really ran.
			return rewriteClientData(t, attest(t, myaccounttest.NewAuthenticator(), e), testOrigin, "https://evil.example")
		},
		"no user verification": func(e enrollment) json.RawMessage {
			a := myaccounttest.NewAuthenticator()
			a.UserVerified = false
			return attest(t, a, e)
		},
		"other challenge": func(e enrollment) json.RawMessage {
			other := h.begin(alice) // a valid attestation, for another session's challenge
			return attest(t, myaccounttest.NewAuthenticator(), other)
		},
		"backup state without eligibility": func(e enrollment) json.RawMessage {
			a := myaccounttest.NewAuthenticator()
			a.BackupState = true
			return attest(t, a, e)
		},
		"garbage attestation object": func(e enrollment) json.RawMessage {
			var resp map[string]any
			_ = json.Unmarshal(attest(t, myaccounttest.NewAuthenticator(), e), &resp)
			resp["response"].(map[string]any)["attestationObject"] = "AAAA"
			data, _ := json.Marshal(resp)
			return data
		},
	}
	for name, forge := range cases {
		t.Run(name, func(t *testing.T) {
			e := h.begin(alice)
			body := wantError(t, h.verify(alice, e.AuthSession, forge(e)), 400, "A0E-400-0003")
			if strings.Contains(fmt.Sprint(body), "DevInfo") {
				t.Errorf("developer details leaked: %v", body)
			}
		})
	}
	if n := len(h.do("GET", "/me/v1/authentication-methods", alice, nil).json(t)["authentication_methods"].([]any)); n != 0 {
		t.Errorf("%d methods stored by failed ceremonies", n)
	}
}

func TestConcurrentVerifiesOfOneSessionYieldOneMethod(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	e := h.begin(alice)
	resp := attest(t, myaccounttest.NewAuthenticator(), e)
	verifies := make([]verification, 50)
	for i := range verifies {
		verifies[i] = verification{e.AuthSession, resp}
	}
	counts := h.verifyAtOnce(alice, verifies)
	if counts[201] != 1 || counts[400] != 49 {
		t.Errorf("statuses %v, want one 201 and 49 400s", counts)
	}
}

func TestOtherUsersMethodsAreNotFound(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.token("auth0|alice"), h.token("auth0|bob")
	id := fmt.Sprint(h.enroll(alice, myaccounttest.NewAuthenticator())["id"])
	path := "/me/v1/authentication-methods/" + id
	missing := "/me/v1/authentication-methods/passkey|dev_AAAAAAAAAAAAAAAA"
	for _, op := range []struct {
		method string
		body   any
	}{{"GET", nil}, {"PATCH", map[string]any{"name": "mine now"}}, {"DELETE", nil}} {
		// An existing id of another user reads exactly like a missing one.
		theirs := h.do(op.method, path, bob, op.body)
		none := h.do(op.method, missing, bob, op.body)
		wantError(t, theirs, 404, "A0E-404-0001")
		if string(theirs.body) != string(none.body) || len(theirs.header) != len(none.header) {
			t.Errorf("%s: another user's id %s answers unlike a missing id %s", op.method, theirs.body, none.body)
		}
	}
	if list := h.do("GET", "/me/v1/authentication-methods", bob, nil); strings.Contains(string(list.body), id) {
		t.Errorf("bob lists alice's method")
	}
	r := h.do("GET", path, alice, nil)
	wantStatus(t, r, http.StatusOK)
	if _, named := r.json(t)["name"]; named {
		t.Errorf("bob's PATCH renamed alice's method")
	}
}

func TestPasskeyCap(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	// Open more sessions than the cap of 20 allows while the user has none, then
	// verify them all at once: the store's atomic check lets exactly 20 through.
	var sessions []enrollment
	for range 25 {
		sessions = append(sessions, h.begin(alice))
	}
	var verifies []verification
	for _, e := range sessions {
		verifies = append(verifies, verification{e.AuthSession, attest(t, myaccounttest.NewAuthenticator(), e)})
	}
	counts := h.verifyAtOnce(alice, verifies)
	if counts[201] != 20 || counts[409] != 5 {
		t.Errorf("statuses %v, want twenty 201 and five 409", counts)
	}
	if n := len(h.do("GET", "/me/v1/authentication-methods", alice, nil).json(t)["authentication_methods"].([]any)); n != 20 {
		t.Errorf("%d methods, want 20", n)
	}
	// With the cap reached, the 21st enrollment is refused at its first step.
	wantError(t, h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "passkey"}), 409, "A0E-409-0001")
	// Deleting one makes room again.
	first := h.do("GET", "/me/v1/authentication-methods", alice, nil).json(t)["authentication_methods"].([]any)[0].(map[string]any)
	wantStatus(t, h.do("DELETE", "/me/v1/authentication-methods/"+fmt.Sprint(first["id"]), alice, nil), http.StatusNoContent)
	h.enroll(alice, myaccounttest.NewAuthenticator())
}

func TestIdentityIsValidated(t *testing.T) {
	linked := func(c *myaccount.Config) {
		c.Users.AllowIdentity = func(_ context.Context, claims *myaccount.Claims, identity, connection string) bool {
			return claims.Subject == "auth0|alice" && identity == "google-123" && connection == "google-oauth2"
		}
	}
	h := newHarness(t, linked)
	alice := h.token("auth0|alice")
	cases := []struct {
		body   map[string]any
		status int
	}{
		{map[string]any{"type": "passkey", "identity_user_id": "alice"}, 202},
		{map[string]any{"type": "passkey", "identity": "alice"}, 202},
		{map[string]any{"type": "passkey", "identity_user_id": "auth0|alice"}, 202},
		{map[string]any{"type": "passkey", "identity_user_id": "mallory"}, 400},
		{map[string]any{"type": "passkey", "identity_user_id": "alice", "identity": "mallory"}, 400},
		{map[string]any{"type": "passkey", "identity_user_id": ""}, 400},
		{map[string]any{"type": "passkey", "identity_user_id": "google-123", "connection": "google-oauth2"}, 202},
		{map[string]any{"type": "passkey", "identity_user_id": "google-123"}, 400},
		{map[string]any{"type": "passkey", "connection": "bad connection!"}, 400},
	}
	for _, c := range cases {
		r := h.do("POST", "/me/v1/authentication-methods", alice, c.body)
		if r.status != c.status {
			t.Errorf("%v: status %d, want %d: %s", c.body, r.status, c.status, r.body)
		}
	}
	// The identity chosen at the first step is the one the method records.
	r := h.do("POST", "/me/v1/authentication-methods", alice, map[string]any{"type": "passkey", "identity_user_id": "google-123", "connection": "google-oauth2"})
	var e enrollment
	_ = json.Unmarshal(r.body, &e)
	m := h.verify(alice, e.AuthSession, attest(t, myaccounttest.NewAuthenticator(), e)).json(t)
	if m["identity_user_id"] != "google-123" {
		t.Errorf("identity_user_id %v", m["identity_user_id"])
	}
}

func TestUserNamesComeFromClaims(t *testing.T) {
	h := newHarness(t)
	token := h.issuer.TokenWith(t, "auth0|carol", allScopes,
		myaccounttest.WithClaim("email", "carol@example.com"), myaccounttest.WithClaim("name", "Carol C."))
	opts := decodeOptions(t, h.begin(token).Options)
	if opts.User.Name != "carol@example.com" || opts.User.DisplayName != "Carol C." {
		t.Errorf("user %+v", opts.User)
	}
	opts = decodeOptions(t, h.begin(h.token("auth0|dave")).Options)
	if opts.User.Name != "auth0|dave" || opts.User.DisplayName != "auth0|dave" {
		t.Errorf("user without profile claims %+v", opts.User)
	}
}

// excludeCredentials is sent only when asked for (or configured), as Auth0
// does: the passkey recipe published with auth0-spa-js decodes only challenge
// and user.id, and breaks on base64url ids it did not expect.
func TestExcludeCredentialsOnlyWhenAsked(t *testing.T) {
	h := newHarness(t)
	alice := h.token("auth0|alice")
	h.enroll(alice, myaccounttest.NewAuthenticator())
	for _, body := range []map[string]any{{"type": "passkey"}, {"type": "passkey", "use_exclude_credentials": false}} {
		r := h.do("POST", "/me/v1/authentication-methods", alice, body)
		wantStatus(t, r, http.StatusAccepted)
		if strings.Contains(string(r.body), "excludeCredentials") {
			t.Errorf("%v: excludeCredentials sent although not asked for: %s", body, r.body)
		}
	}
	always := newHarness(t, func(c *myaccount.Config) { c.WebAuthn.AlwaysExcludeCredentials = true })
	alice = always.token("auth0|alice")
	always.enroll(alice, myaccounttest.NewAuthenticator())
	if e := always.begin(alice); len(decodeOptions(t, e.Options).ExcludeCredentials) != 1 {
		t.Errorf("AlwaysExcludeCredentials: %s", e.Options)
	}
}

// rewriteClientData replaces text in a registration response's clientDataJSON.
func rewriteClientData(t *testing.T, resp json.RawMessage, old, new string) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(resp, &m); err != nil {
		t.Fatal(err)
	}
	inner := m["response"].(map[string]any)
	clientData, err := base64.RawURLEncoding.DecodeString(inner["clientDataJSON"].(string))
	if err != nil || !strings.Contains(string(clientData), old) {
		t.Fatalf("clientDataJSON %s lacks %q", clientData, old)
	}
	inner["clientDataJSON"] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(clientData), old, new, 1)))
	data, _ := json.Marshal(m)
	return data
}

// verification is one verify request's body.
type verification struct {
	authSession string
	response    json.RawMessage
}

// verifyAtOnce sends the verifications concurrently and counts the statuses.
func (h *harness) verifyAtOnce(token string, verifies []verification) map[int]int {
	statuses := make(chan int, len(verifies))
	var wg sync.WaitGroup
	for _, v := range verifies {
		wg.Go(func() { statuses <- h.verify(token, v.authSession, v.response).status })
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	return counts
}

// TestUnknownMembersGetABoundedAnswer checks that a body's unknown members
// are answered in name order, the same for every identical request, and at
// most ten of them, however many the body has or however long their names:
// the answer is never much larger than an ordinary one.
func TestUnknownMembersGetABoundedAnswer(t *testing.T) {
	h := newHarness(t)
	token := h.token("auth0|alice")
	var many strings.Builder
	many.WriteString(`{"type":"totp"`)
	for i := range 5000 {
		fmt.Fprintf(&many, `,"k%04d":1`, i)
	}
	many.WriteString("}")
	first := ""
	for range 5 {
		r := h.do("POST", "/me/v1/authentication-methods", token, many.String())
		if r.status != http.StatusBadRequest || len(r.body) > 2048 {
			t.Fatalf("%d members: %d, %d bytes", 5000, r.status, len(r.body))
		}
		errs := r.json(t)["validation_errors"].([]any)
		if len(errs) != 10 || errs[0].(map[string]any)["pointer"] != "/k0000" || errs[9].(map[string]any)["pointer"] != "/k0009" {
			t.Fatalf("validation_errors %v", errs)
		}
		if first == "" {
			first = string(r.body)
		} else if string(r.body) != first {
			t.Fatalf("one body, two answers:\n%s\n%s", first, r.body)
		}
	}
	long := `{"type":"totp","` + strings.Repeat("n", 60000) + `":1}`
	r := h.do("POST", "/me/v1/authentication-methods", token, long)
	if r.status != http.StatusBadRequest || len(r.body) > 1024 || !strings.Contains(string(r.body), "60000 bytes") {
		t.Fatalf("a 60,000-byte member name: %d, %d bytes: %.300s", r.status, len(r.body), r.body)
	}
}

// TestRefusedAttestationGetsABoundedReason checks that a passkey verify whose
// clientExtensionResults name hundreds of extensions nobody asked for is
// refused with a reason of bounded size, though the library names each one.
func TestRefusedAttestationGetsABoundedReason(t *testing.T) {
	h := newHarness(t)
	token := h.token("auth0|alice")
	e := h.begin(token)
	var resp map[string]any
	if err := json.Unmarshal(attest(t, myaccounttest.NewAuthenticator(), e), &resp); err != nil {
		t.Fatal(err)
	}
	invented := map[string]any{}
	for i := range 500 {
		invented[fmt.Sprintf("ext%03d", i)] = true
	}
	resp["clientExtensionResults"] = invented
	raw, _ := json.Marshal(resp)
	r := h.verify(token, e.AuthSession, raw)
	if r.status != http.StatusBadRequest || len(r.body) > 1024 {
		t.Fatalf("%d, %d bytes: %.400s", r.status, len(r.body), r.body)
	}
}
