package myaccount_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/go-myaccount/myaccount"
)

// TestAuditRefusedVerifyNamesItsType: a refused password is Auth0's fcp
// (Failed Change Password) and a wrong TOTP code is no WebAuthn event.
func TestAuditRefusedVerifyNamesItsType(t *testing.T) {
	log := &auditLog{}
	h := newHarness(t, func(c *myaccount.Config) {
		c.Audit.Handler = log.handle
		c.Passwords.Backend = newPasswords(t, nil, 0)
	})
	alice := h.token("auth0|alice")

	e := h.start(alice, map[string]any{"type": "password"})
	log.take()
	wantStatus(t, h.call("POST", "/me/v1/authentication-methods/"+url.PathEscape(e["id"].(string))+"/verify", alice,
		map[string]any{"auth_session": e["auth_session"], "new_password": "Sunshine2024!"}), http.StatusBadRequest)
	wantEvent(t, log.take(), myaccount.AuditEvent{Type: "fcp", Issuer: h.issuer.Issuer, UserID: "auth0|alice",
		MethodType: "password", Reason: "set"}, "127.0.0.1", "Sunshine2024!", e["auth_session"].(string))

	e = h.start(alice, map[string]any{"type": "totp"})
	log.take()
	wantStatus(t, h.call("POST", "/me/v1/authentication-methods/"+url.PathEscape(e["id"].(string))+"/verify", alice,
		map[string]any{"auth_session": e["auth_session"], "otp_code": "000000"}), http.StatusBadRequest)
	wantEvent(t, log.take(), myaccount.AuditEvent{Type: "myaccount_enrollment_failed", Issuer: h.issuer.Issuer, UserID: "auth0|alice",
		MethodType: "totp", Reason: "set"}, "127.0.0.1")
}
