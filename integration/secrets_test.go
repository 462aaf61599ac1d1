package integration_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp/totp"
)

// codes is a Sender that keeps the last code sent.
type codes struct {
	mu   sync.Mutex
	last string
}

func (c *codes) Send(_ context.Context, m myaccount.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = m.Code
	return nil
}

// TestNoSecretInThePostgresRows enrolls a TOTP, a recovery code, an email and
// a password over HTTP on PostgreSQL, then reads every row of the schema as
// text and looks for each secret the user was given or chose: none may be
// there, in any encoding a reader could use to sign in as the user.
func TestNoSecretInThePostgresRows(t *testing.T) {
	sent := &codes{}
	passwords, err := myaccount.NewArgon2Passwords(myaccount.Argon2Options{Memory: 1024, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, func(cfg *myaccount.Config) {
		cfg.Messages.Sender = sent
		cfg.Passwords.Backend = passwords
	})
	u := c.newUser(t)
	u.token = c.iss.Token(t, u.subject, myaccount.AllScopes()...)
	start := func(body map[string]any) map[string]string {
		r := c.do(0, http.MethodPost, methodsPath, u.token, body)
		if r.status != http.StatusAccepted {
			t.Fatalf("POST %v: %d %s", body, r.status, r.body)
		}
		var out map[string]any
		_ = json.Unmarshal(r.body, &out)
		flat := map[string]string{}
		for k, v := range out {
			if s, ok := v.(string); ok {
				flat[k] = s
			}
		}
		return flat
	}
	finish := func(id string, body map[string]any) {
		r := c.do(1, http.MethodPost, methodsPath+"/"+url.PathEscape(id)+"/verify", u.token, body)
		if r.status != http.StatusCreated {
			t.Fatalf("verify %s: %d %s", id, r.status, r.body)
		}
	}
	var secrets []string

	e := start(map[string]any{"type": "totp"})
	code, _ := totp.GenerateCode(e["manual_input_code"], time.Now())
	finish(e["id"], map[string]any{"auth_session": e["auth_session"], "otp_code": code})
	secrets = append(secrets, e["manual_input_code"])

	e = start(map[string]any{"type": "recovery-code"})
	finish(e["id"], map[string]any{"auth_session": e["auth_session"]})
	secrets = append(secrets, e["recovery_code"])

	e = start(map[string]any{"type": "email", "email": "alice@example.com"})
	sent.mu.Lock()
	emailCode := sent.last
	sent.mu.Unlock()
	finish(e["id"], map[string]any{"auth_session": e["auth_session"], "otp_code": emailCode})
	secrets = append(secrets, emailCode)

	const password = "Correct-Horse-Battery-Staple-42"
	e = start(map[string]any{"type": "password"})
	finish(e["id"], map[string]any{"auth_session": e["auth_session"], "new_password": password})
	secrets = append(secrets, password)

	pool := newPool(t)
	var dump strings.Builder
	for _, table := range []string{"myaccount_methods", "myaccount_session_uses", "myaccount_users"} {
		rows, err := pool.Query(t.Context(), `SELECT t::text FROM `+
			pgx.Identifier{c.schema, table}.Sanitize()+` t`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var text string
			if err := rows.Scan(&text); err != nil {
				t.Fatal(err)
			}
			dump.WriteString(text + "\n")
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
	}
	if !strings.Contains(dump.String(), "alice@example.com") {
		t.Fatalf("the dump misses the rows it should read:\n%s", dump.String())
	}
	lower := strings.ToLower(dump.String())
	for _, secret := range secrets {
		for _, form := range []string{secret, hexOf(secret)} {
			if strings.Contains(lower, strings.ToLower(form)) {
				t.Errorf("secret %q is in the PostgreSQL rows", secret)
			}
		}
	}
	if t.Failed() {
		t.Logf("rows:\n%s", dump.String())
	}
}

// hexOf is s as PostgreSQL prints a bytea holding it.
func hexOf(s string) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(s))
	for i := range len(s) {
		out = append(out, digits[s[i]>>4], digits[s[i]&15])
	}
	return string(out)
}
