package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

const devTokenLifetime = time.Hour

// devTokenHandler mints access tokens for whoever asks: POST /dev/token with
// ?sub=...&scope=... (or a JSON body {"sub": ..., "scopes": [...]}). With a jkt
// (the RFC 7638 thumbprint of the client's DPoP key, ?jkt= or "jkt") the token
// is DPoP-bound to that key. Tokens carry auth_time (now), for step-up. It
// answers a token response (RFC 6749 5.1) as JSON, or the bare token for
// Accept: text/plain.
func devTokenHandler(iss *myaccounttest.Issuer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := struct {
			Sub    string   `json:"sub"`
			Scopes []string `json:"scopes"`
			// ExpiresIn is the lifetime in seconds, for trying out expiry.
			ExpiresIn int `json:"expires_in"`
			// JKT binds the token to a DPoP key (RFC 9449 section 6.1).
			JKT string `json:"jkt"`
		}{Sub: r.URL.Query().Get("sub"), Scopes: strings.Fields(r.URL.Query().Get("scope")), JKT: r.URL.Query().Get("jkt")}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
				http.Error(w, "body must be {\"sub\": string, \"scopes\": [string], \"expires_in\": seconds, \"jkt\": thumbprint}", http.StatusBadRequest)
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
		if req.JKT != "" && !isThumbprint(req.JKT) {
			http.Error(w, "jkt must be a SHA-256 JWK thumbprint: 43 characters of base64url", http.StatusBadRequest)
			return
		}
		opts := []myaccounttest.TokenOption{
			myaccounttest.ExpiresIn(lifetime),
			myaccounttest.WithClaim("name", req.Sub),
			myaccounttest.AuthTime(time.Now()),
		}
		tokenType := "Bearer"
		if req.JKT != "" {
			opts = append(opts, myaccounttest.BoundTo(req.JKT))
			tokenType = "DPoP"
		}
		token, err := iss.Mint(req.Sub, req.Scopes, opts...)
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
			"access_token": token, "token_type": tokenType,
			"expires_in": int(lifetime.Seconds()), "scope": strings.Join(req.Scopes, " "),
		})
	})
}

// isThumbprint reports whether s looks like an RFC 7638 SHA-256 thumbprint.
func isThumbprint(s string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == sha256.Size
}
