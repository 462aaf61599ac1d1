package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// TestBrowserManagesPasskeysWithDPoP drives the demo page against a demo that
// requires DPoP-bound tokens and server nonces: the page binds its token to a
// WebCrypto key, signs a proof for every call and takes the server's nonce.
func TestBrowserManagesPasskeysWithDPoP(t *testing.T) {
	chromiumPath(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	base, _ := startDemo(t, "-dpop", "required", "-dpop-nonce", "-tenant-rate", "0", "-user-rate", "0")

	b := startBrowser(ctx, t)
	defer func() {
		if bad := b.consoleErrors(); len(bad) > 0 {
			t.Errorf("the page logged errors:\n%s", strings.Join(bad, "\n"))
		}
	}()
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{EnableUI: new(false)}); err != nil {
		t.Fatalf("enabling the WebAuthn domain: %v", err)
	}
	b.do("opening the page", chromedp.Navigate(base+"/"), chromedp.WaitEnabled(chromedp.CSS("#get-token")))
	b.do("choosing a user", chromedp.SetValue(chromedp.CSS("#user"), "auth0|dana"))
	b.press("#get-token")
	if alert := b.text("#alert"); alert != "" {
		t.Fatalf("getting a token: alert %q", alert)
	}
	if !eval[bool](b, `token.dpop && typeof token.claims.cnf.jkt === 'string' && document.body.dataset.dpop === 'true'`) {
		t.Fatalf("the page's token is not DPoP-bound, or was not used with DPoP: %v", eval[any](b, `token.claims`))
	}
	b.addAuthenticator(true)
	b.press("#add-passkey")
	rows := b.rows()
	if alert := b.text("#alert"); alert != "" || len(rows) != 1 {
		t.Fatalf("after enrolling: alert %q, rows %+v", alert, rows)
	}
	row := `#method-rows tr[data-id="` + rows[0].ID + `"] `
	b.do("opening the rename form", chromedp.Click(chromedp.CSS(row+`[data-testid="rename"]`)),
		chromedp.SetValue(chromedp.CSS("#rename-input"), "Phone"))
	b.press(row + `[data-testid="rename-save"]`)
	if alert, rows := b.text("#alert"), b.rows(); alert != "" || len(rows) != 1 || rows[0].Name != "Phone" {
		t.Fatalf("after renaming: alert %q, rows %+v", alert, rows)
	}
	b.do("asking to delete", chromedp.Click(chromedp.CSS(row+`[data-testid="delete"]`)))
	b.press(row + `[data-testid="delete-confirm"]`)
	if alert, rows := b.text("#alert"), b.rows(); alert != "" || len(rows) != 0 {
		t.Fatalf("after deleting: alert %q, rows %+v", alert, rows)
	}
	// The same token taken from the page and sent as a bearer token is refused.
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch('/me/v1/factors', { headers: { Authorization: 'Bearer ' + token.raw } })
		.then((r) => r.status + ' ' + r.headers.get('WWW-Authenticate'))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, `401 DPoP realm=`) {
		t.Errorf("the bound token as Bearer: %q", got)
	}
}
