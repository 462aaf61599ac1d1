package main

import (
	"encoding/json"
	"net/url"
	"testing"
)

// TestKeepLastPrimaryFlag deletes a user's only primary method, a password,
// over HTTP: with -keep-last-primary the demo answers 409 and keeps it,
// without it the delete goes through.
func TestKeepLastPrimaryFlag(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		status int
	}{
		{[]string{"-keep-last-primary"}, 409},
		{nil, 204},
	} {
		base, _ := startDemo(t, append(tt.args, "-user-rate", "0")...)
		tok := devTokenFor(t, base, "auth0|dana")
		status, _, body := call(t, "POST", base+"/me/v1/authentication-methods", tok, `{"type":"password"}`)
		var begun struct {
			ID          string `json:"id"`
			AuthSession string `json:"auth_session"`
		}
		if err := json.Unmarshal(body, &begun); status != 202 || err != nil {
			t.Fatalf("%v: begin: %d %s", tt.args, status, body)
		}
		path := base + "/me/v1/authentication-methods/" + url.PathEscape(begun.ID)
		verify, _ := json.Marshal(map[string]string{"auth_session": begun.AuthSession, "new_password": "Quokka-Lantern-47"})
		if status, _, body := call(t, "POST", path+"/verify", tok, string(verify)); status != 201 {
			t.Fatalf("%v: verify: %d %s", tt.args, status, body)
		}
		status, _, body = call(t, "DELETE", path, tok, "")
		if status != tt.status {
			t.Fatalf("%v: DELETE of the last primary method: %d %s, want %d", tt.args, status, body, tt.status)
		}
		if tt.status == 409 {
			var problem struct{ Type string }
			if err := json.Unmarshal(body, &problem); err != nil || problem.Type != "https://auth0.com/api-errors/A0E-409-0003" {
				t.Errorf("409 body %s", body)
			}
			if status, _, _ := call(t, "GET", path, tok, ""); status != 200 {
				t.Errorf("after the refused delete, GET: %d, want 200", status)
			}
		}
	}
}
