package pgstore_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/proptest"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/pquerna/otp/totp"
)

// guaranteesServer is the API over HTTP on a migrated store in a fresh schema.
func guaranteesServer(t *testing.T) *proptest.Server {
	t.Helper()
	s, _ := migrated(t, testPool(t))
	return proptest.NewServer(t, s)
}

// TestGuaranteesUnderRandomCalls drives random sequences of calls over HTTP
// against pgstore and checks the contract's guarantees after every one (see
// package proptest). Shrunk failures are kept in testdata/rapid and replayed
// first.
func TestGuaranteesUnderRandomCalls(t *testing.T) {
	proptest.Run(t, guaranteesServer(t))
}

// call sends one request and requires the status.
func call(t *testing.T, srv *proptest.Server, token, method, path string, body any, status int) map[string]any {
	t.Helper()
	r, err := srv.Do(method, path, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.Status != status {
		t.Fatalf("%s %s answered %d, want %d: %s", method, path, r.Status, status, r.Body)
	}
	var out map[string]any
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return out
}

// enrollPasskey enrolls a passkey of a new software authenticator and returns its id.
func enrollPasskey(t *testing.T, srv *proptest.Server, token string) string {
	t.Helper()
	e := call(t, srv, token, "POST", "", map[string]any{"type": "passkey"}, http.StatusAccepted)
	options, _ := json.Marshal(e["authn_params_public_key"])
	resp, err := myaccounttest.NewAuthenticator().Create(options, "https://localhost")
	if err != nil {
		t.Fatal(err)
	}
	m := call(t, srv, token, "POST", proptest.PathOf("passkey|new")+"/verify",
		map[string]any{"auth_session": e["auth_session"], "authn_response": json.RawMessage(resp)}, http.StatusCreated)
	return m["id"].(string)
}

// TestDeletePolicyIsAtomicWithDelete sends concurrent DELETEs of a user's two
// passkeys under KeepLastPrimary: one succeeds, never both, so the user keeps
// a passkey. The policy is decided in the delete's transaction.
func TestDeletePolicyIsAtomicWithDelete(t *testing.T) {
	srv := guaranteesServer(t)
	const rounds, perPasskey = 10, 4
	for round := range rounds {
		user := "auth0|atomic-" + string(rune('a'+round))
		token, err := srv.Issuer.Mint(user, myaccount.AllScopes())
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{enrollPasskey(t, srv, token), enrollPasskey(t, srv, token)}
		reqs := make([]proptest.Request, 2*perPasskey)
		for i := range reqs {
			reqs[i] = proptest.Request{Method: "DELETE", Path: proptest.PathOf(ids[i%2]), Token: token}
		}
		answers, errs := srv.DoAll(reqs)
		statuses := map[int]int{}
		for i, r := range answers {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			statuses[r.Status]++
		}
		if statuses[http.StatusNoContent] != 1 || statuses[http.StatusNoContent]+statuses[http.StatusConflict]+statuses[http.StatusNotFound] != len(reqs) {
			t.Fatalf("round %d: concurrent deletes of two passkeys answered %v, want one 204 and the rest 409 or 404", round, statuses)
		}
		left, err := srv.Store.ListMethods(context.Background(), srv.Issuer.Issuer, user, "passkey")
		if err != nil || len(left) != 1 {
			t.Fatalf("round %d: %d passkeys left (%v), want 1", round, len(left), err)
		}
	}
}

// TestTOTPStepAcceptedOnce checks RFC 6238 §5.2 on pgstore: the enrollment's
// code is not accepted again, and of concurrent checks of one later code
// exactly one is true.
func TestTOTPStepAcceptedOnce(t *testing.T) {
	srv := guaranteesServer(t)
	token, err := srv.Issuer.Mint("auth0|alice", myaccount.AllScopes())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	e := call(t, srv, token, "POST", "", map[string]any{"type": "totp"}, http.StatusAccepted)
	secret := e["manual_input_code"].(string)
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	call(t, srv, token, "POST", proptest.PathOf(e["id"].(string))+"/verify",
		map[string]any{"auth_session": e["auth_session"], "otp_code": code(now)}, http.StatusCreated)
	m, err := srv.Store.GetMethod(context.Background(), srv.Issuer.Issuer, "auth0|alice", e["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := srv.API.CheckTOTP(context.Background(), m, code(now), now); ok || err != nil {
		t.Fatalf("the enrollment's code checked again: %v, %v", ok, err)
	}
	later := now.Add(30 * time.Second)
	const n = 20
	var accepted atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			ok, err := srv.API.CheckTOTP(context.Background(), m, code(later), later)
			if err != nil {
				t.Error(err)
			}
			if ok {
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
	if got := accepted.Load(); got != 1 {
		t.Fatalf("%d of %d concurrent checks of one code accepted it, want exactly 1", got, n)
	}
}

// TestLongestSubjectIsKept checks that the longest sub a token may carry
// (1,024 bytes) keys the rows PostgreSQL's indexes hold: a user handle, a
// method, the list.
func TestLongestSubjectIsKept(t *testing.T) {
	srv := guaranteesServer(t)
	sub := "auth0|" + strings.Repeat("y", 1018)
	token, err := srv.Issuer.Mint(sub, myaccount.AllScopes())
	if err != nil {
		t.Fatal(err)
	}
	call(t, srv, token, "POST", "", map[string]any{"type": "passkey"}, http.StatusAccepted)
	e := call(t, srv, token, "POST", "", map[string]any{"type": "totp"}, http.StatusAccepted)
	code, err := totp.GenerateCode(e["manual_input_code"].(string), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	call(t, srv, token, "POST", proptest.PathOf(e["id"].(string))+"/verify",
		map[string]any{"auth_session": e["auth_session"], "otp_code": code}, http.StatusCreated)
	if list := call(t, srv, token, "GET", "", nil, http.StatusOK); len(list["authentication_methods"].([]any)) != 1 {
		t.Fatalf("list: %v", list)
	}
}
