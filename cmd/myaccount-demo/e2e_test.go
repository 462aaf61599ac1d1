package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/go-myaccount/myaccount"
	"github.com/pquerna/otp/totp"
)

// spaPage is a single-page app of another origin: it calls the API of #api with
// the bearer token of #token and writes what happened into #outcome.
const spaPage = `<!doctype html>
<title>Another origin's SPA</title>
<pre id="outcome">pending</pre>
<script>
const p = new URLSearchParams(location.hash.slice(1));
const out = document.getElementById('outcome');
fetch(p.get('api') + '/me/v1/factors', { headers: { Authorization: 'Bearer ' + p.get('token') } })
  .then(async (r) => { out.textContent = 'status ' + r.status + ' ' + (await r.text()); })
  .catch((e) => { out.textContent = 'rejected ' + e.name + ': ' + e.message; });
</script>`

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestBrowserManagesPasskeys drives the demo page in a headless Chromium with
// virtual authenticators, through the page's own buttons, as a person would.
func TestBrowserManagesPasskeys(t *testing.T) {
	chromiumPath(t) // skip early, before starting servers
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()

	spa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, spaPage)
	}))
	t.Cleanup(spa.Close)
	// The rate limits are off: the test is quicker than a person.
	outboxPath := filepath.Join(t.TempDir(), "outbox.jsonl")
	base, _ := startDemo(t, "-tenant-rate", "0", "-user-rate", "0", "-cors-origin", spa.URL, "-outbox", outboxPath)
	otherBase, _ := startDemo(t, "-tenant-rate", "0", "-user-rate", "0")

	b := startBrowser(ctx, t)
	defer func() {
		if bad := b.consoleErrors(); len(bad) > 0 {
			t.Errorf("the pages logged errors:\n%s", strings.Join(bad, "\n"))
		}
	}()
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{EnableUI: new(false)}); err != nil {
		t.Fatalf("enabling the WebAuthn domain: %v", err)
	}
	b.do("opening the page", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/"),
		chromedp.WaitEnabled(chromedp.CSS("#get-token")))
	if !eval[bool](b, `window.isSecureContext && document.getElementById('context-warning').hidden`) {
		t.Fatalf("the page at %s is not a secure context, or warns: %q", base, b.text("#context-warning"))
	}

	// Token.
	{
		b.do("choosing a user", chromedp.SetValue(chromedp.CSS("#user"), "auth0|alice"))
		b.press("#get-token")
		if got := b.text("#token-sub"); got != "auth0|alice" {
			t.Errorf("signed in as %q", got)
		}
		scopes := eval[[]string](b, `[...document.querySelectorAll('#token-scopes li')].map((li) => li.textContent)`)
		for _, s := range myaccount.AllScopes() {
			if !slices.Contains(scopes, s) {
				t.Errorf("the page shows scopes %q, without %s", scopes, s)
			}
		}
		if alert := b.text("#alert"); alert != "" || len(b.rows()) != 0 {
			t.Errorf("alert %q, rows %v", alert, b.rows())
		}
	}

	// The first authenticator syncs its passkeys; the second keeps them on the device.
	synced := b.addAuthenticator(true)
	// Enroll.
	{
		b.press("#add-passkey")
		if alert, rows := b.text("#alert"), b.rows(); alert != "" || len(rows) != 1 {
			t.Fatalf("after the first enrollment: alert %q, rows %+v", alert, rows)
		}
		if status := b.text("#status"); !strings.Contains(status, "Added a passkey") {
			t.Errorf("status %q", status)
		}
	}

	b.removeAuthenticator(synced)
	device := b.addAuthenticator(false)
	// Enroll without toJSON.
	{
		// The page's fallbacks for browsers that lack the JSON helpers.
		if !eval[bool](b, `delete PublicKeyCredential.parseCreationOptionsFromJSON && delete PublicKeyCredential.prototype.toJSON &&
			!('parseCreationOptionsFromJSON' in PublicKeyCredential) && !('toJSON' in PublicKeyCredential.prototype)`) {
			t.Fatal("could not remove the browser's JSON helpers")
		}
		b.press("#add-passkey")
		if alert, rows := b.text("#alert"), b.rows(); alert != "" || len(rows) != 2 {
			t.Fatalf("after the second enrollment: alert %q, rows %+v", alert, rows)
		}
	}

	// Enroll the same authenticator twice.
	{
		b.press("#add-passkey")
		if alert := b.text("#alert"); !strings.Contains(alert, "This authenticator already holds a passkey for this account") {
			t.Errorf("alert %q", alert)
		}
		if n := len(b.rows()); n != 2 {
			t.Errorf("%d rows", n)
		}
	}

	rows := b.rows()
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	// Listed.
	{
		want := []struct{ deviceType, backedUp string }{{"multi_device", "yes"}, {"single_device", "no"}}
		for i, r := range rows {
			if r.Type != "passkey" {
				t.Errorf("row %d: %+v", i, r)
			}
			if !strings.HasPrefix(r.ID, "passkey|dev_") || r.Name != "(unnamed)" || r.Created == "" ||
				r.DeviceType != want[i].deviceType || r.BackedUp != want[i].backedUp ||
				!strings.Contains(r.Transports, "internal") || !uuidPattern.MatchString(r.AAGUID) {
				t.Errorf("row %d: %+v", i, r)
			}
		}
	}

	// Screenshots to look at: kept after the test, their paths logged.
	shots, err := os.MkdirTemp("", "myaccount-demo-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	// An authenticator app: the QR code drawn, a wrong code refused, the right one computed from the key.
	{
		b.press("#add-totp")
		if alert := b.text("#alert"); alert != "" {
			t.Fatalf("starting a totp enrollment: alert %q", alert)
		}
		b.waitFor("waiting for the QR code", `(i => i.complete && i.naturalWidth === 240 && i.src.startsWith('blob:'))(document.getElementById('totp-qr'))`)
		secret := strings.ReplaceAll(b.text("#totp-secret"), " ", "")
		code, err := totp.GenerateCode(secret, time.Now())
		if err != nil || len(secret) < 16 {
			t.Fatalf("the key the page shows, %q: %v", secret, err)
		}
		b.screenshot(shots, "totp-enrollment.png")
		b.do("typing a wrong code", chromedp.SetValue(chromedp.CSS("#totp-code"), wrongCode(code)))
		b.press("#totp-verify")
		if alert := b.text("#alert"); !strings.Contains(alert, "400") || !strings.Contains(alert, "otp_code") || len(b.rowsOf("totp")) != 0 {
			t.Errorf("a wrong code: alert %q, rows %+v", alert, b.rows())
		}
		code, _ = totp.GenerateCode(secret, time.Now())
		b.do("typing the code", chromedp.SetValue(chromedp.CSS("#totp-code"), code))
		b.press("#totp-verify")
		if alert, got := b.text("#alert"), b.rowsOf("totp"); alert != "" || len(got) != 1 || got[0].Confirmed != "yes" {
			t.Fatalf("after verifying the code: alert %q, rows %+v", alert, b.rows())
		}
		if eval[bool](b, fmt.Sprintf(`document.body.textContent.includes(%q) || !document.getElementById('enroll').hidden`, secret[:8])) {
			t.Error("the page still shows the TOTP key after the enrollment")
		}
	}

	// A recovery code: shown once, confirmed with "I saved it".
	{
		b.press("#add-recovery-code")
		code := strings.ReplaceAll(b.text("#recovery-code"), " ", "")
		if !regexp.MustCompile(`^[A-HJKMNP-Z2-9]{24}$`).MatchString(code) {
			t.Fatalf("recovery code %q, alert %q", code, b.text("#alert"))
		}
		b.screenshot(shots, "recovery-code.png")
		// Copy: to the clipboard, or, where the browser refuses, the code selected for the user to copy.
		b.do("copying the code", chromedp.Click(chromedp.CSS("#recovery-copy")))
		b.waitFor("waiting for the copy", `/Copied the recovery code|the code is selected/.test(document.getElementById('status').textContent)`)
		if status := b.text("#status"); strings.Contains(status, "selected") &&
			strings.ReplaceAll(eval[string](b, `window.getSelection().toString()`), " ", "") != code {
			t.Errorf("status %q, but the selection is %q", status, eval[string](b, `window.getSelection().toString()`))
		}
		b.press("#recovery-saved")
		if alert, got := b.text("#alert"), b.rowsOf("recovery-code"); alert != "" || len(got) != 1 || got[0].Confirmed != "yes" {
			t.Fatalf("after saving the recovery code: alert %q, rows %+v", alert, b.rows())
		}
		if eval[bool](b, fmt.Sprintf(`document.body.textContent.includes(%q)`, code[:12])) {
			t.Error("the page still shows the recovery code")
		}
	}

	// An email address, with the code from the outbox file.
	{
		b.press("#add-email")
		b.do("typing the address", chromedp.SetValue(chromedp.CSS("#email-address"), "alice@example.com"))
		b.press("#email-send")
		sent := lastOutboxLine(t, outboxPath)
		if alert := b.text("#alert"); alert != "" || sent["channel"] != "email" || sent["to"] != "alice@example.com" {
			t.Fatalf("sending the code: alert %q, outbox %v", alert, sent)
		}
		if shown := b.text("#outbox-rows"); !strings.Contains(shown, sent["code"]) || !strings.Contains(shown, "alice@example.com") {
			t.Errorf("the page's outbox shows %q, not the code sent", shown)
		}
		b.do("typing the code", chromedp.SetValue(chromedp.CSS("#email-code"), sent["code"]))
		b.press("#email-verify")
		if alert, got := b.text("#alert"), b.rowsOf("email"); alert != "" || len(got) != 1 || got[0].Email != "alice@example.com" {
			t.Fatalf("after verifying the email: alert %q, rows %+v", alert, b.rows())
		}
	}

	// A phone number by voice, with the code the page's outbox shows; then switched to text messages.
	{
		b.press("#add-phone")
		b.do("typing the number", chromedp.SetValue(chromedp.CSS("#phone-number"), "+14155550123"),
			chromedp.SetValue(chromedp.CSS("#phone-channel"), "voice"))
		b.press("#phone-send")
		code := b.text(`#outbox-rows tr:first-child [data-field="code"]`)
		if alert, channel := b.text("#alert"), b.text(`#outbox-rows tr:first-child [data-field="channel"]`); alert != "" || channel != "voice" || len(code) != 6 {
			t.Fatalf("sending the code: alert %q, outbox %q", alert, b.text("#outbox-rows"))
		}
		b.do("typing the code", chromedp.SetValue(chromedp.CSS("#phone-code"), code))
		b.press("#phone-verify")
		if alert, got := b.text("#alert"), b.rowsOf("phone"); alert != "" || len(got) != 1 || got[0].Phone != "+14155550123" || got[0].Preferred != "voice call" {
			t.Fatalf("after verifying the phone: alert %q, rows %+v", alert, b.rows())
		}
	}

	// A security key: a cross-platform authenticator, verified under the 202's id.
	{
		b.removeAuthenticator(device)
		key := b.addSecurityKey()
		b.press("#add-security-key")
		if alert, got := b.text("#alert"), b.rowsOf("webauthn-roaming"); alert != "" || len(got) != 1 ||
			!strings.HasPrefix(got[0].ID, "webauthn-roaming|dev_") || got[0].Confirmed != "yes" || len(got[0].KeyID) < 16 {
			t.Fatalf("after adding a security key: alert %q, rows %+v", alert, b.rows())
		}
		if status := b.text("#status"); !strings.Contains(status, "Added a security key") {
			t.Errorf("status %q", status)
		}
		b.press("#add-security-key")
		if alert := b.text("#alert"); !strings.Contains(alert, "This authenticator already holds a security key for this account") {
			t.Errorf("the same key twice: alert %q", alert)
		}
		b.removeAuthenticator(key)
	}

	// This device's authenticator: a platform authenticator as a second factor.
	{
		platform := b.addAuthenticator(false)
		b.press("#add-platform")
		if alert, got := b.text("#alert"), b.rowsOf("webauthn-platform"); alert != "" || len(got) != 1 ||
			!strings.HasPrefix(got[0].ID, "webauthn-platform|dev_") || got[0].Confirmed != "yes" || len(got[0].KeyID) < 16 {
			t.Fatalf("after adding this device: alert %q, rows %+v", alert, b.rows())
		}
		b.removeAuthenticator(platform)
	}

	// A password: the policy shown, a weak one refused with each broken rule
	// under the field, then a good one; then changed from its row, where the
	// history rule refuses the same password again.
	{
		b.press("#add-password")
		policy := eval[[]string](b, `[...document.querySelectorAll('#password-policy li')].map((li) => li.dataset.rule)`)
		if want := []string{"length", "character-types", "identical", "profile-data", "history", "dictionary"}; !slices.Equal(policy, want) {
			t.Fatalf("the policy shown: %q (alert %q), want rules %q", policy, b.text("#alert"), want)
		}
		b.do("typing a weak password", chromedp.SetValue(chromedp.CSS("#new-password"), "aaa1"))
		b.press("#password-save")
		broken := passwordErrors(b)
		for _, rule := range []string{"at least 8 characters", "three of", "3 identical characters"} {
			if !slices.ContainsFunc(broken, func(e string) bool { return strings.Contains(e, rule) }) {
				t.Errorf("the rules shown under the field, %q, leave out %q", broken, rule)
			}
		}
		if alert, n := b.text("#alert"), len(b.rowsOf("password")); alert != "" || n != 0 || len(broken) < 3 {
			t.Fatalf("a weak password: alert %q, %d password rows, rules %q", alert, n, broken)
		}
		b.screenshot(shots, "password-refused.png")
		b.do("typing a good password", chromedp.SetValue(chromedp.CSS("#new-password"), "Violet-Harbor-47"))
		b.press("#password-save")
		if alert, got := b.text("#alert"), b.rowsOf("password"); alert != "" || len(got) != 1 || got[0].LastReset == "—" || got[0].LastReset == "" {
			t.Fatalf("after setting a password: alert %q, rows %+v", alert, b.rows())
		}
		if eval[bool](b, `document.getElementById('new-password') !== null || document.body.textContent.includes('Violet-Harbor')`) {
			t.Error("the page still shows the password form after the password was set")
		}
		b.press(`#method-rows tr[data-type="password"] [data-testid="change-password"]`)
		if title := b.text("#enroll h3"); title != "Change your password" {
			t.Errorf("the panel from the row's Change: %q", title)
		}
		b.do("typing the same password", chromedp.SetValue(chromedp.CSS("#new-password"), "Violet-Harbor-47"))
		b.press("#password-save")
		if broken := passwordErrors(b); len(broken) != 1 || !strings.Contains(broken[0], "last 5 passwords") {
			t.Errorf("the same password again: rules %q, alert %q", broken, b.text("#alert"))
		}
		b.do("typing a new password", chromedp.SetValue(chromedp.CSS("#new-password"), "Copper-Lantern-82"))
		b.press("#password-save")
		if alert, status, n := b.text("#alert"), b.text("#status"), len(b.rowsOf("password")); alert != "" || status != "Changed the password." || n != 1 {
			t.Errorf("after changing the password: alert %q, status %q, %d password rows", alert, status, n)
		}
	}

	// A push authenticator: the QR code of the pairing URL; verify refused
	// until "Simulate the phone" confirms the pairing.
	{
		b.press("#add-push")
		b.waitFor("waiting for the pairing's QR code", `(i => i.complete && i.naturalWidth === 240 && i.src.startsWith('blob:'))(document.getElementById('push-qr'))`)
		if uri := b.text("#push-uri"); !strings.HasPrefix(uri, base+"/dev/push/") {
			t.Fatalf("the pairing URL shown: %q, alert %q", uri, b.text("#alert"))
		}
		b.screenshot(shots, "push-pairing.png")
		b.press("#push-verify")
		if alert := b.text("#alert"); !strings.Contains(alert, "400") || !strings.Contains(alert, "not confirmed") || len(b.rowsOf("push-notification")) != 0 {
			t.Errorf("verify before the phone: alert %q, rows %+v", alert, b.rows())
		}
		b.press("#push-simulate")
		if alert, got := b.text("#alert"), b.rowsOf("push-notification"); alert != "" || len(got) != 1 ||
			!strings.HasPrefix(got[0].ID, "push-notification|dev_") || got[0].Confirmed != "yes" {
			t.Fatalf("after simulating the phone: alert %q, rows %+v", alert, b.rows())
		}
	}

	b.screenshot(shots, "after-enrollment.png")

	// The list as the API has it.
	{
		// The page's token is DPoP-bound to a key only the page holds; a
		// bearer token for the same user reads the same list.
		status, _, body := call(t, "GET", base+"/me/v1/authentication-methods", devTokenFor(t, base, "auth0|alice"), "")
		var list struct {
			Methods []struct {
				Type string `json:"type"`
			} `json:"authentication_methods"`
		}
		_ = json.Unmarshal(body, &list)
		var types []string
		for _, m := range list.Methods {
			types = append(types, m.Type)
		}
		slices.Sort(types)
		if want := []string{"email", "passkey", "passkey", "password", "phone", "push-notification", "recovery-code", "totp", "webauthn-platform", "webauthn-roaming"}; status != 200 || !slices.Equal(types, want) {
			t.Errorf("the API lists %d %v, want %v", status, types, want)
		}
	}

	// Phone: codes by text message instead.
	{
		b.press(`#method-rows tr[data-type="phone"] [data-testid="channel"]`)
		if alert, got := b.text("#alert"), b.rowsOf("phone"); alert != "" || len(got) != 1 || got[0].Preferred != "text message" {
			t.Errorf("after switching to text messages: alert %q, rows %+v", alert, got)
		}
	}

	// Rename and delete other types.
	{
		totpID := b.rowsOf("totp")[0].ID
		row := `#method-rows tr[data-id="` + totpID + `"] `
		b.do("opening the rename form", chromedp.Click(chromedp.CSS(row+`[data-testid="rename"]`)),
			chromedp.SetValue(chromedp.CSS("#rename-input"), "Phone app"))
		b.press(row + `[data-testid="rename-save"]`)
		if alert, got := b.text("#alert"), b.rowsOf("totp"); alert != "" || len(got) != 1 || got[0].Name != "Phone app" {
			t.Errorf("after renaming the totp: alert %q, rows %+v", alert, got)
		}
		for _, typ := range []string{"recovery-code", "email", "webauthn-roaming", "webauthn-platform", "password", "push-notification"} {
			row := `#method-rows tr[data-type="` + typ + `"] `
			b.do("asking to delete the "+typ, chromedp.Click(chromedp.CSS(row+`[data-testid="delete"]`)))
			b.press(row + `[data-testid="delete-confirm"]`)
			if alert, n := b.text("#alert"), len(b.rowsOf(typ)); alert != "" || n != 0 {
				t.Errorf("after deleting the %s: alert %q, %d rows", typ, alert, n)
			}
		}
	}

	first, second := rows[0].ID, rows[1].ID
	// Rename.
	{
		row := `#method-rows tr[data-id="` + first + `"] `
		b.do("opening the rename form", chromedp.Click(chromedp.CSS(row+`[data-testid="rename"]`)),
			chromedp.SetValue(chromedp.CSS("#rename-input"), "   "))
		b.press(row + `[data-testid="rename-save"]`)
		if alert := b.text("#alert"); !strings.Contains(alert, "400 Bad Request") || !strings.Contains(alert, "name: must not be blank") {
			t.Errorf("a blank name: alert %q", alert)
		}
		b.do("typing a name", chromedp.SetValue(chromedp.CSS("#rename-input"), "Work laptop"))
		b.press(row + `[data-testid="rename-save"]`)
		if alert, rows := b.text("#alert"), b.rowsOf("passkey"); alert != "" || rows[0].Name != "Work laptop" || rows[1].Name != "(unnamed)" {
			t.Errorf("after renaming: alert %q, rows %+v", alert, rows)
		}
	}

	// Delete.
	{
		b.do("asking to delete", chromedp.Click(chromedp.CSS(`#method-rows tr[data-id="`+second+`"] [data-testid="delete"]`)))
		b.press(`#method-rows tr[data-id="` + second + `"] [data-testid="delete-confirm"]`)
		if alert, rows := b.text("#alert"), b.rowsOf("passkey"); alert != "" || len(rows) != 1 || rows[0].ID != first {
			t.Errorf("after deleting: alert %q, rows %+v", alert, rows)
		}
	}

	// Expired token.
	{
		b.do("choosing a short lifetime", chromedp.SetValue(chromedp.CSS("#lifetime"), "1"))
		b.press("#get-token")
		if alert, n := b.text("#alert"), len(b.rows()); alert != "" || n != 3 {
			t.Fatalf("with a fresh short-lived token: alert %q, %d rows", alert, n)
		}
		// Past the token's exp and the API's default leeway of 5 s.
		time.Sleep(7 * time.Second)
		b.press("#refresh")
		if alert := b.text("#alert"); !strings.Contains(alert, "401 Unauthorized: The access token expired.") {
			t.Errorf("alert %q", alert)
		}
	}

	// CORS.
	{
		token := devToken(t, base)
		allowed := b.fetchFrom(spa.URL + "/#" + url.Values{"api": {base}, "token": {token}}.Encode())
		_, _, factors := call(t, "GET", base+"/me/v1/factors", token, "")
		if want := "status 200 " + string(factors); allowed != want || !strings.Contains(allowed, `"type":"email"`) {
			t.Errorf("from an allowed origin: %q, want %q", allowed, want)
		}
		// The other demo answers the same call from Go, but not to a browser on another origin.
		token = devToken(t, otherBase)
		if status, _, _ := call(t, "GET", otherBase+"/me/v1/factors", token, ""); status != 200 {
			t.Fatalf("the other demo: %d", status)
		}
		blocked := b.fetchFrom(spa.URL + "/#" + url.Values{"api": {otherBase}, "token": {token}}.Encode())
		if !strings.HasPrefix(blocked, "rejected TypeError") {
			t.Errorf("from an origin that is not allowed: %q", blocked)
		}
	}
}

// passwordErrors are the rules shown under the page's password field.
func passwordErrors(b *browser) []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll('#password-errors li')].map((li) => li.textContent)`)
}

// wrongCode is a 6-digit code other than code.
func wrongCode(code string) string {
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%06d", (n+500000)%1000000)
}

// lastOutboxLine reads the last message of the outbox file.
func lastOutboxLine(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the outbox: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var m map[string]string
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("the outbox's last line %q: %v", lines[len(lines)-1], err)
	}
	return m
}

// devToken gets an access token for auth0|carol from a demo's dev issuer.
func devToken(t *testing.T, base string) string {
	t.Helper()
	return devTokenFor(t, base, "auth0|carol")
}

// devTokenFor gets a bearer access token for subject from a demo's dev issuer.
func devTokenFor(t *testing.T, base, subject string) string {
	t.Helper()
	status, _, body := call(t, "POST", base+"/dev/token", "", `{"sub":"`+subject+`"}`)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); status != 200 || err != nil {
		t.Fatalf("token: %d %s", status, body)
	}
	return tok.AccessToken
}
