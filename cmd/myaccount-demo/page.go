package main

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"time"
)

// webFiles holds the demo page: plain HTML, CSS and a script, no build step.
//
//go:embed web/index.html web/app.js web/dpop.js web/style.css
var webFiles embed.FS

// pageCSP allows the page's own script, stylesheet and API calls, and nothing
// else: no inline script, no other origin, no framing. Images may be blob: URLs,
// for the QR code the page fetches with a POST.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// pageFiles are the paths the page is served at, with the file and type of each.
var pageFiles = []struct{ path, file, contentType string }{
	{"/{$}", "web/index.html", "text/html; charset=utf-8"},
	{"/app.js", "web/app.js", "text/javascript; charset=utf-8"},
	{"/dpop.js", "web/dpop.js", "text/javascript; charset=utf-8"},
	{"/style.css", "web/style.css", "text/css; charset=utf-8"},
}

// mountPage serves the demo page at / and its assets beside it.
func mountPage(mux *http.ServeMux) {
	for _, f := range pageFiles {
		body, err := webFiles.ReadFile(f.file)
		if err != nil {
			panic(err) // the embed directive lists the same files
		}
		mux.Handle("GET "+f.path, staticFile(body, f.contentType))
	}
	mux.Handle("POST /dev/qr", qrHandler()) // the authenticator app's QR code
}

// staticFile serves one embedded file with the page's security headers. Its
// ETag lets browsers revalidate cheaply under Cache-Control: no-cache.
func staticFile(body []byte, contentType string) http.Handler {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}
