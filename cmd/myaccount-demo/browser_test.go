package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/go-myaccount/myaccount/internal/testenv"
)

// chromiumPath finds Debian's Chromium. Without one the test skips, except under
// CI=true, where the browser test must run.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		if path, err = exec.LookPath("chromium"); err != nil {
			path = ""
		}
	}
	if path == "" {
		testenv.Missing(t, "the browser test needs Chromium: none at /usr/bin/chromium or on PATH (apt-get install chromium)")
	}
	return path
}

// browser is a headless Chromium that lives until the test ends, and the
// console messages of its pages.
type browser struct {
	t   *testing.T
	ctx context.Context // the first tab

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// startBrowser starts a headless Chromium with a fresh profile, no network
// services of its own, and a first tab. Everything stops when ctx ends or the
// test ends, whichever is first.
func startBrowser(ctx context.Context, t *testing.T) *browser {
	t.Helper()
	exe := chromiumPath(t)
	profile := t.TempDir()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
	)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	b := &browser{t: t, ctx: tab}
	consoleDone := make(chan struct{})
	t.Cleanup(func() {
		cancelTab()
		<-consoleDone
		cancelAlloc() // waits for the browser to exit
		// Chromium's helpers can write to the profile for a moment after it exits.
		for i := 0; ; i++ {
			err := os.RemoveAll(profile)
			if err == nil || i == 50 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	if err := chromedp.Do(tab); err != nil {
		close(consoleDone)
		t.Fatalf("starting %s: %v", exe, err)
	}
	messages := chromedp.Console(tab)
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// consoleErrors lists the uncaught exceptions and the security messages (such as
// Content-Security-Policy violations) the pages logged, and logs all messages
// when the test failed.
func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var bad []string
	for _, m := range b.console {
		line := fmt.Sprintf("%s %s: %s", m.Type, m.URL, m.Text)
		if b.t.Failed() {
			b.t.Log("console:", line)
		}
		if m.IsException() || m.Source == "security" || strings.Contains(m.Text, "Content Security Policy") {
			bad = append(bad, line)
		}
	}
	return bad
}

// do runs the actions on the first tab, failing the test on an error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression on the first tab.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// press clicks a button of the demo page and waits until the action it started
// is over: the page counts finished actions in <body data-tasks-done>.
func (b *browser) press(sel string) {
	b.t.Helper()
	before := eval[string](b, `document.body.dataset.tasksDone`)
	b.do("pressing "+sel,
		chromedp.WaitEnabled(chromedp.CSS(sel)),
		chromedp.Click(chromedp.CSS(sel)),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.body.dataset.tasksDone !== %q`, before),
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)),
	)
}

// text is the text content of the first element matching sel, or "" without one.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
}

// methodRow is one row of the page's list of sign-in methods, as a person
// reads it; the fields of other types are empty.
type methodRow struct {
	ID         string `json:"id"`
	Type       string `json:"type"` // the API's type, from the row's data-type
	Name       string `json:"name"`
	Created    string `json:"created"`
	DeviceType string `json:"deviceType"`
	BackedUp   string `json:"backedUp"`
	Transports string `json:"transports"`
	AAGUID     string `json:"aaguid"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
	Preferred  string `json:"preferred"`
	Confirmed  string `json:"confirmed"`
	KeyID      string `json:"keyId"`
	LastReset  string `json:"lastReset"`
}

func (b *browser) rows() []methodRow {
	b.t.Helper()
	return eval[[]methodRow](b, `[...document.querySelectorAll('#method-rows tr')].map((tr) => {
		const f = (name) => (tr.querySelector('[data-field="' + name + '"]') || {}).textContent || '';
		return {
			id: tr.dataset.id, type: tr.dataset.type, name: (tr.querySelector('.name') || {}).textContent || '',
			created: f('created'), deviceType: f('device-type'), backedUp: f('backed-up'), transports: f('transports'),
			aaguid: f('aaguid'), email: f('email'), phone: f('phone-number'), preferred: f('preferred'), confirmed: f('confirmed'), keyId: f('key-id'),
			lastReset: f('last-reset'),
		};
	})`)
}

// rowsOf are the rows of one type.
func (b *browser) rowsOf(typ string) []methodRow {
	b.t.Helper()
	var out []methodRow
	for _, r := range b.rows() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// screenshot saves a screenshot of the whole page into dir and logs its path.
func (b *browser) screenshot(dir, name string) {
	b.t.Helper()
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

// waitFor polls a JavaScript condition on the first tab until it is true.
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	b.do(what, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
}

// addAuthenticator plugs a virtual passkey authenticator into the first tab:
// CTAP2, built in, with resident keys and user verification, that answers at once.
func (b *browser) addAuthenticator(backedUp bool) webauthn.AuthenticatorID {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport:      webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true,
			AutomaticPresenceSimulation: true,
			DefaultBackupEligibility:    backedUp, DefaultBackupState: backedUp,
		},
	})
	if err != nil {
		b.t.Fatalf("adding a virtual authenticator: %v", err)
	}
	return res.AuthenticatorID
}

// addSecurityKey plugs a virtual security key into the first tab: CTAP2 over
// USB, so a cross-platform authenticator, without resident keys.
func (b *browser) addSecurityKey() webauthn.AuthenticatorID {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportUsb,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		b.t.Fatalf("adding a virtual security key: %v", err)
	}
	return res.AuthenticatorID
}

func (b *browser) removeAuthenticator(id webauthn.AuthenticatorID) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, webauthn.RemoveVirtualAuthenticator,
		webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: id}); err != nil {
		b.t.Fatalf("removing a virtual authenticator: %v", err)
	}
}

// fetchFrom opens url in a new tab of the browser and returns what its page
// writes into #outcome once that is no longer "pending".
func (b *browser) fetchFrom(url string) string {
	b.t.Helper()
	tab, cancel := chromedp.NewContext(b.ctx)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		b.t.Fatalf("opening %s: %v", url, err)
	}
	out, err := chromedp.Run(tab, chromedp.Poll[string](
		`(t => t !== 'pending' && t)(document.getElementById('outcome').textContent)`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		b.t.Fatalf("waiting for the outcome of %s: %v", url, err)
	}
	return out
}
