//go:build backends

package main

import (
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// Two demos on one PostgreSQL and one Redis: a passkey enrolled through the
// first is listed by the second, which validates the first's dev tokens.
func TestBackendsShareStateBetweenDemos(t *testing.T) {
	dsn := testenv.Need(t, "MYACCOUNT_POSTGRES_DSN", "PostgreSQL")
	redisURL := testenv.Need(t, "MYACCOUNT_REDIS_URL", "Redis")
	first, _ := startDemo(t, "-postgres", dsn, "-redis", redisURL)
	second, _ := startDemo(t, "-issuer", first+"/", "-postgres", dsn, "-redis", redisURL)

	sub := "auth0|demo-" + rand.Text()
	body, _ := json.Marshal(map[string]any{"sub": sub})
	status, _, answer := call(t, "POST", first+"/dev/token", "", string(body))
	if status != 200 {
		t.Fatalf("token: %d %s", status, answer)
	}
	token := devAccessToken(t, answer)
	status, _, answer = call(t, "POST", first+"/me/v1/authentication-methods", token, `{"type":"passkey"}`)
	var started struct {
		AuthSession string          `json:"auth_session"`
		Options     json.RawMessage `json:"authn_params_public_key"`
	}
	if err := json.Unmarshal(answer, &started); status != 202 || err != nil {
		t.Fatalf("enroll on the first: %d %s", status, answer)
	}
	attestation, err := myaccounttest.NewAuthenticator().Create(started.Options, first)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = json.Marshal(map[string]any{"auth_session": started.AuthSession, "authn_response": json.RawMessage(attestation)})
	if status, _, answer := call(t, "POST", first+"/me/v1/authentication-methods/passkey%7Cnew/verify", token, string(body)); status != 201 {
		t.Fatalf("verify on the first: %d %s", status, answer)
	}
	status, _, answer = call(t, "GET", second+"/me/v1/authentication-methods", token, "")
	var list struct {
		Methods []json.RawMessage `json:"authentication_methods"`
	}
	if err := json.Unmarshal(answer, &list); status != 200 || err != nil || len(list.Methods) != 1 {
		t.Fatalf("list on the second: %d %s", status, answer)
	}
}
