package integration_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/go-myaccount/myaccount/internal/testenv"
)

// TestCrashAfterVerify kills PostgreSQL (an immediate shutdown, no checkpoint)
// the moment a verify has answered 201, and starts it again: the passkey is
// there, its session stays used, and a session begun just before the crash is
// either verified once or refused, never half used.
func TestCrashAfterVerify(t *testing.T) {
	testenv.Need(t, "MYACCOUNT_PG_CTL", "PostgreSQL")
	testenv.Need(t, "MYACCOUNT_PG_DATA", "PostgreSQL")
	c := newCluster(t, nil)
	u := c.newUser(t)
	t.Cleanup(func() {
		// Leave the server running for whatever runs next, even when this test fails midway.
		if testenv.PGCtl(t, "status") == 3 {
			testenv.PGCtl(t, "start")
		}
	})

	resp, used, options := c.begin(0, u)
	if resp.status != http.StatusAccepted {
		t.Fatalf("begin: %d %s %v", resp.status, resp.body, resp.err)
	}
	usedAttestation, err := newPasskey(options)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	resp, pending, options := c.begin(1, u)
	if resp.status != http.StatusAccepted {
		t.Fatalf("second begin: %d %s %v", resp.status, resp.body, resp.err)
	}
	pendingAttestation, err := newPasskey(options)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	resp = c.verify(0, u, used, usedAttestation)
	if resp.status != http.StatusCreated {
		t.Fatalf("verify: %d %s %v", resp.status, resp.body, resp.err)
	}
	testenv.PGCtl(t, "crash")
	id := methodID(t, resp.body)
	testenv.PGCtl(t, "start")

	for i := range c.urls {
		if ids := listAfterRestart(t, c, i, u); !slices.Contains(ids, id) {
			t.Fatalf("instance %d lists %v after the crash; the passkey %s that got 201 is lost", i, ids, id)
		}
	}
	if resp := c.verify(1, u, used, usedAttestation); resp.status != http.StatusBadRequest {
		t.Fatalf("verify of the used session after the crash: %d %s, want 400", resp.status, resp.body)
	}
	created := 0
	for i := range 3 {
		switch resp := c.verify(i, u, pending, pendingAttestation); resp.status {
		case http.StatusCreated:
			created++
		case http.StatusBadRequest:
		default:
			t.Fatalf("verify %d of the session begun before the crash: %d %s", i, resp.status, resp.body)
		}
	}
	ids := c.list(t, 0, u)
	if created > 1 || len(ids) != 1+created {
		t.Fatalf("the session begun before the crash created %d passkeys; %d listed, want at most one more than before", created, len(ids))
	}
}

// listAfterRestart lists on instance i once PostgreSQL answers again.
func listAfterRestart(t *testing.T, c *cluster, i int, u *user) []string {
	t.Helper()
	for range 50 {
		if r := c.do(i, http.MethodGet, methodsPath, u.token, nil); r.status == http.StatusOK {
			break
		}
	}
	return c.list(t, i, u)
}
