package myaccounttest_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// startAPI serves an API with every default on a test issuer, under base.
func startAPI(t *testing.T, basePath string) (*myaccounttest.Issuer, string) {
	t.Helper()
	iss := myaccounttest.NewIssuer(t)
	api, err := myaccount.New(myaccount.Config{Issuer: iss.Issuer, BasePath: basePath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return iss, srv.URL + basePath
}

func TestClientEnrollsTOTPAndPasskeys(t *testing.T) {
	iss, base := startAPI(t, "/api")
	c := myaccounttest.NewClient(base, iss.Token(t, "auth0|alice", myaccount.AllScopes()...))
	ctx := t.Context()

	totp, err := c.EnrollTOTP(ctx, time.Now())
	if err != nil || totp.Type != "totp" || !strings.HasPrefix(totp.ID, "totp|") {
		t.Fatalf("TOTP: %+v, %v", totp, err)
	}
	passkey, err := c.EnrollPasskey(ctx, myaccounttest.NewAuthenticator(), "")
	if err != nil || passkey.Type != "passkey" || !strings.Contains(string(passkey.Body), `"public_key"`) {
		t.Fatalf("passkey: %+v, %v", passkey, err)
	}
	methods, err := c.Methods(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range methods {
		ids = append(ids, m.ID)
	}
	if len(ids) != 2 || !slices.Contains(ids, totp.ID) || !slices.Contains(ids, passkey.ID) {
		t.Errorf("listed %q, want %s and %s", ids, totp.ID, passkey.ID)
	}

	// A refusal is an *APIError with the answer: a code of two minutes ago.
	bob := myaccounttest.NewClient(base, iss.Token(t, "auth0|bob", myaccount.AllScopes()...))
	e, err := bob.Begin(ctx, map[string]any{"type": "totp"})
	if err != nil || !strings.HasPrefix(e.ID, "totp|") || e.Location != base+"/me/v1/authentication-methods/"+url.PathEscape(e.ID) {
		t.Fatalf("begin: %+v, %v", e, err)
	}
	old, err := myaccounttest.TOTPCode(e.BarcodeURI, time.Now().Add(-2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bob.Verify(ctx, e, map[string]any{"otp_code": old})
	var apiErr *myaccounttest.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Errorf("an old code: %v", err)
	}

	// Without a token: 401.
	_, err = myaccounttest.NewClient(base, "").Methods(ctx)
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %v", err)
	}
}

func TestTOTPCode(t *testing.T) {
	// RFC 6238's SHA-1 test secret ("12345678901234567890" in base32), at its
	// test time 59 s: 94287082 with 8 digits, so 287082 with 6.
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	at := time.Unix(59, 0)
	for uri, want := range map[string]string{
		"otpauth://totp/Example:alice?secret=" + secret + "&issuer=Example":          "287082",
		"otpauth://totp/Example:alice?secret=" + secret + "&digits=8&period=30":      "94287082",
		"otpauth://totp/Example:alice?secret=" + secret + "&algorithm=SHA1&digits=6": "287082",
	} {
		if got, err := myaccounttest.TOTPCode(uri, at); err != nil || got != want {
			t.Errorf("%s: %q, %v, want %s", uri, got, err, want)
		}
	}
	for _, bad := range []string{"", "https://example.com/", "otpauth://hotp/x?secret=" + secret, "otpauth://totp/x"} {
		if code, err := myaccounttest.TOTPCode(bad, at); err == nil {
			t.Errorf("%q gave %q", bad, code)
		}
	}
}
