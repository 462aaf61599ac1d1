//go:build backends

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/jackc/pgx/v5"
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

func TestPostgresMaxConnsFlag(t *testing.T) {
	if err := run(t.Context(), []string{"-postgres-max-conns", "-1"}, &testenv.Buffer{}, nil); err == nil {
		t.Error("-postgres-max-conns -1 was accepted")
	}
}

// TestInstancesShareASecretKey runs three demos on one PostgreSQL database,
// two of them with the same -secret-key: an enrollment begun on one finishes
// on the other, and not on the third, which warns that its key is its own.
func TestInstancesShareASecretKey(t *testing.T) {
	dsn := freshDatabase(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	const origin = "http://localhost:9"
	common := []string{"-postgres", dsn, "-postgres-max-conns", "2", "-dev-issuer", "-issuer", "https://demo.example/",
		"-origin", origin, "-tenant-rate", "0", "-user-rate", "0"}
	a, _ := startDemo(t, append(common, "-secret-key", hex.EncodeToString(key))...)
	b, _ := startDemo(t, append(common, "-secret-key", hex.EncodeToString(key))...)
	c, out := startDemo(t, common...)
	if !strings.Contains(out.String(), "warning: -postgres without -secret-key") {
		t.Errorf("a demo on PostgreSQL without -secret-key printed no warning:\n%s", out)
	}

	begin := func(base string) (session, verifyBody string) {
		t.Helper()
		status, _, body := call(t, "POST", base+"/me/v1/authentication-methods", devToken(t, base), `{"type":"passkey"}`)
		if status != 202 {
			t.Fatalf("enroll on %s: %d %s", base, status, body)
		}
		var e struct {
			AuthSession string          `json:"auth_session"`
			Options     json.RawMessage `json:"authn_params_public_key"`
		}
		_ = json.Unmarshal(body, &e)
		attestation, err := myaccounttest.NewAuthenticator().Create(e.Options, origin)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := json.Marshal(map[string]any{"auth_session": e.AuthSession, "authn_response": json.RawMessage(attestation)})
		return e.AuthSession, string(v)
	}
	verify := func(base, body string) (int, []byte) {
		status, _, resp := call(t, "POST", base+"/me/v1/authentication-methods/passkey%7Cnew/verify", devToken(t, base), body)
		return status, resp
	}

	_, body := begin(a)
	if status, resp := verify(c, body); status != 400 {
		t.Fatalf("verify on an instance with another key: %d %s, want 400", status, resp)
	}
	if status, resp := verify(b, body); status != 201 {
		t.Fatalf("verify on an instance sharing the key: %d %s, want 201", status, resp)
	}
	if status, resp := verify(a, body); status != 400 {
		t.Fatalf("second verify, on the instance that began it: %d %s, want 400", status, resp)
	}
	for _, base := range []string{a, b, c} {
		status, _, resp := call(t, "GET", base+"/me/v1/authentication-methods", devToken(t, base), "")
		var list struct {
			Methods []json.RawMessage `json:"authentication_methods"`
		}
		if err := json.Unmarshal(resp, &list); status != 200 || err != nil || len(list.Methods) != 1 {
			t.Fatalf("list on %s: %d %s, want the one passkey", base, status, resp)
		}
	}
}

// freshDatabase creates a database for this test alone on the test
// PostgreSQL, dropped at cleanup, and returns its DSN.
func freshDatabase(t *testing.T) string {
	t.Helper()
	dsn := testenv.Need(t, "MYACCOUNT_POSTGRES_DSN", "PostgreSQL")
	admin, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	name := "demo_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database: %v", err)
		}
		_ = admin.Close(ctx)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
