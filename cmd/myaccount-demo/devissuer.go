package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

const devTokenLifetime = time.Hour

// devTokenHandler mints access tokens for whoever asks: POST /dev/token with
// ?sub=...&scope=... (or a JSON body {"sub": ..., "scopes": [...]}). It answers
// a token response (RFC 6749 5.1) as JSON, or the bare token for Accept: text/plain.
func devTokenHandler(iss *myaccounttest.Issuer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := struct {
			Sub    string   `json:"sub"`
			Scopes []string `json:"scopes"`
			// ExpiresIn is the lifetime in seconds, for trying out expiry.
			ExpiresIn int `json:"expires_in"`
		}{Sub: r.URL.Query().Get("sub"), Scopes: strings.Fields(r.URL.Query().Get("scope"))}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
				http.Error(w, "body must be {\"sub\": string, \"scopes\": [string], \"expires_in\": seconds}", http.StatusBadRequest)
				return
			}
		}
		if req.Sub == "" {
			http.Error(w, "sub is required", http.StatusBadRequest)
			return
		}
		if len(req.Scopes) == 0 {
			req.Scopes = myaccount.AllScopes()
		}
		lifetime := devTokenLifetime
		if req.ExpiresIn > 0 {
			lifetime = time.Duration(req.ExpiresIn) * time.Second
		}
		token, err := iss.Mint(req.Sub, req.Scopes,
			myaccounttest.ExpiresIn(lifetime),
			myaccounttest.WithClaim("name", req.Sub))
		if err != nil {
			http.Error(w, "could not mint a token", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if strings.Contains(r.Header.Get("Accept"), "text/plain") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte(token))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": token, "token_type": "Bearer",
			"expires_in": int(lifetime.Seconds()), "scope": strings.Join(req.Scopes, " "),
		})
	})
}
