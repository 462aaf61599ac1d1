package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserConnectsAnAccount drives the page's Connected accounts section
// in a headless Chromium: Connect leaves for the development provider, which
// approves at once, and the page comes back, completes with its PKCE
// verifier and lists the account; the vault's token is used at the provider
// by the demo's back end; Disconnect removes the account.
func TestBrowserConnectsAnAccount(t *testing.T) {
	chromiumPath(t) // skip early, before starting servers
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	base, _ := startDemo(t, "-tenant-rate", "0", "-user-rate", "0")
	b := startBrowser(ctx, t)
	defer func() {
		if bad := b.consoleErrors(); len(bad) > 0 {
			t.Errorf("the pages logged errors:\n%s", strings.Join(bad, "\n"))
		}
	}()
	b.do("opening the page", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/"),
		chromedp.WaitEnabled(chromedp.CSS("#get-token")))
	b.do("choosing a user", chromedp.SetValue(chromedp.CSS("#user"), "auth0|dana"))
	b.press("#get-token")
	if got := eval[string](b, `document.getElementById('connection').value`); got != "dev-provider" {
		t.Fatalf("the provider offered is %q", got)
	}
	if alert := b.text("#alert"); alert != "" {
		t.Fatalf("alert %q", alert)
	}

	// The page leaves for the provider and comes back: wait across the
	// navigations, in which evaluating can fail for a moment.
	b.do("pressing Connect", chromedp.Click(chromedp.CSS("#connect")))
	for deadline := time.Now().Add(20 * time.Second); ; {
		back, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`location.search === '' && document.body.dataset.busy === 'false' &&
			document.querySelectorAll('#account-rows tr').length === 1`))
		if err == nil && back {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page did not come back connected: %v; status %q, alert %q", err, b.text("#status"), b.text("#alert"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status, alert := b.text("#status"), b.text("#alert"); !strings.Contains(status, "Connected dev-provider (cac_") || alert != "" {
		t.Fatalf("status %q, alert %q", status, alert)
	}
	if url := eval[string](b, `location.href`); url != base+"/" {
		t.Errorf("the page kept the connect code in its URL: %s", url)
	}
	if got := b.text(`#account-rows [data-field="access"]`); got != "granted" {
		t.Errorf("access %q", got)
	}
	if got := b.text("#token-sub"); got != "auth0|dana" {
		t.Errorf("signed in again as %q", got)
	}

	b.press("#vault-call")
	if got := b.text("#vault-result"); !strings.Contains(got, `The provider answered 200`) || !strings.Contains(got, `"sub":"provider-user"`) {
		t.Errorf("vault call: %q, alert %q", got, b.text("#alert"))
	}

	b.press(`#account-rows button[data-action="disconnect"]`)
	if n := eval[int](b, `document.querySelectorAll('#account-rows tr').length`); n != 0 || b.text("#alert") != "" {
		t.Errorf("after disconnecting: %d rows, alert %q", n, b.text("#alert"))
	}
	b.press("#vault-call")
	if alert := b.text("#alert"); !strings.Contains(alert, "404") {
		t.Errorf("vault call with no account: alert %q", alert)
	}
}
