package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPageHidesItsEmptyParts: before a token exists the page shows no "Signed
// in as / Scopes / Expires" labels, nor any other part marked hidden; a token
// shows them.
func TestPageHidesItsEmptyParts(t *testing.T) {
	chromiumPath(t) // skip early, before starting servers
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	base, _ := startDemo(t)
	b := startBrowser(ctx, t)
	b.do("opening the page", chromedp.Navigate(base+"/"), chromedp.WaitEnabled(chromedp.CSS("#get-token")))
	shown := func(sel string) bool {
		return eval[bool](b, `document.querySelector('`+sel+`').checkVisibility()`)
	}
	if shown("#token-info") {
		t.Error("the token's labels show without a token")
	}
	if n := eval[int](b, `[...document.querySelectorAll('[hidden]')].filter((e) => e.checkVisibility()).length`); n != 0 {
		t.Errorf("%d elements marked hidden are shown", n)
	}
	b.press("#get-token")
	if !shown("#token-info") || b.text("#token-sub") == "" {
		t.Error("a token does not show who is signed in")
	}
}
