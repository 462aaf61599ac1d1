package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestPageIsServedWithItsHeaders(t *testing.T) {
	base, out := startDemo(t)
	if !strings.Contains(out.String(), "open "+base+"/") {
		t.Errorf("the demo does not print the page's address:\n%s", out)
	}
	tests := []struct {
		path, contentType, body string
	}{
		{"/", "text/html; charset=utf-8", `<script src="/app.js" defer></script>`},
		{"/app.js", "text/javascript; charset=utf-8", "navigator.credentials.create"},
		{"/dpop.js", "text/javascript; charset=utf-8", "crypto.subtle.sign"},
		{"/style.css", "text/css; charset=utf-8", "#alert"},
	}
	for _, tt := range tests {
		status, h, body := call(t, "GET", base+tt.path, "", "")
		if status != 200 || h.Get("Content-Type") != tt.contentType || !strings.Contains(string(body), tt.body) {
			t.Errorf("GET %s: %d %q, body without %q", tt.path, status, h.Get("Content-Type"), tt.body)
		}
		for name, want := range map[string]string{
			"Content-Security-Policy": pageCSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("GET %s: %s %q, want %q", tt.path, name, got, want)
			}
		}
		req, _ := http.NewRequest("GET", base+tt.path, nil)
		req.Header.Set("If-None-Match", h.Get("ETag"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d", tt.path, resp.StatusCode)
		}
	}
	if !strings.HasPrefix(pageCSP, "default-src 'self'; script-src 'self';") || strings.Contains(pageCSP, "unsafe") {
		t.Errorf("CSP %q", pageCSP)
	}
	for _, path := range []string{"/index.html", "/web/app.js", "/nope"} {
		if status, _, _ := call(t, "GET", base+path, "", ""); status != 404 {
			t.Errorf("GET %s: %d", path, status)
		}
	}
	if status, _, _ := call(t, "POST", base+"/", "", ""); status != 405 {
		t.Errorf("POST /: %d", status)
	}
}
