package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/go-myaccount/myaccount"
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
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	spa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, spaPage)
	}))
	t.Cleanup(spa.Close)
	// The rate limits are off: the test is quicker than a person.
	base, _ := startDemo(t, "-tenant-rate", "0", "-user-rate", "0", "-cors-origin", spa.URL)
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
	b.addAuthenticator(false)
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
			if !strings.HasPrefix(r.ID, "passkey|dev_") || r.Name != "(unnamed)" || r.Created == "" ||
				r.DeviceType != want[i].deviceType || r.BackedUp != want[i].backedUp ||
				!strings.Contains(r.Transports, "internal") || !uuidPattern.MatchString(r.AAGUID) {
				t.Errorf("row %d: %+v", i, r)
			}
		}
	}

	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir, err := os.MkdirTemp("", "myaccount-demo-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	shotPath := filepath.Join(dir, "after-enrollment.png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the page after enrollment: %s", shotPath)

	first, second := rows[0].ID, rows[1].ID
	// Rename.
	{
		row := `#passkey-rows tr[data-id="` + first + `"] `
		b.do("opening the rename form", chromedp.Click(chromedp.CSS(row+`[data-testid="rename"]`)),
			chromedp.SetValue(chromedp.CSS("#rename-input"), "   "))
		b.press(row + `[data-testid="rename-save"]`)
		if alert := b.text("#alert"); !strings.Contains(alert, "400 Bad Request") || !strings.Contains(alert, "name: must not be blank") {
			t.Errorf("a blank name: alert %q", alert)
		}
		b.do("typing a name", chromedp.SetValue(chromedp.CSS("#rename-input"), "Work laptop"))
		b.press(row + `[data-testid="rename-save"]`)
		if alert, rows := b.text("#alert"), b.rows(); alert != "" || rows[0].Name != "Work laptop" || rows[1].Name != "(unnamed)" {
			t.Errorf("after renaming: alert %q, rows %+v", alert, rows)
		}
	}

	// Delete.
	{
		b.do("asking to delete", chromedp.Click(chromedp.CSS(`#passkey-rows tr[data-id="`+second+`"] [data-testid="delete"]`)))
		b.press(`#passkey-rows tr[data-id="` + second + `"] [data-testid="delete-confirm"]`)
		if alert, rows := b.text("#alert"), b.rows(); alert != "" || len(rows) != 1 || rows[0].ID != first {
			t.Errorf("after deleting: alert %q, rows %+v", alert, rows)
		}
	}

	// Expired token.
	{
		b.do("choosing a short lifetime", chromedp.SetValue(chromedp.CSS("#lifetime"), "1"))
		b.press("#get-token")
		if alert, n := b.text("#alert"), len(b.rows()); alert != "" || n != 1 {
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
		allowed := b.fetchFrom(spa.URL + "/#" + url.Values{"api": {base}, "token": {devToken(t, base)}}.Encode())
		if want := `status 200 {"factors":[{"type":"passkey","usage":["primary"]}]}`; allowed != want {
			t.Errorf("from an allowed origin: %q, want %q", allowed, want)
		}
		// The other demo answers the same call from Go, but not to a browser on another origin.
		token := devToken(t, otherBase)
		if status, _, _ := call(t, "GET", otherBase+"/me/v1/factors", token, ""); status != 200 {
			t.Fatalf("the other demo: %d", status)
		}
		blocked := b.fetchFrom(spa.URL + "/#" + url.Values{"api": {otherBase}, "token": {token}}.Encode())
		if !strings.HasPrefix(blocked, "rejected TypeError") {
			t.Errorf("from an origin that is not allowed: %q", blocked)
		}
	}
}

// devToken gets an access token for auth0|carol from a demo's dev issuer.
func devToken(t *testing.T, base string) string {
	t.Helper()
	status, _, body := call(t, "POST", base+"/dev/token", "", `{"sub":"auth0|carol"}`)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); status != 200 || err != nil {
		t.Fatalf("token: %d %s", status, body)
	}
	return tok.AccessToken
}
