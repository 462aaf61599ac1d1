package myaccount_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// slowReads is a store whose reads take a while to come back, as a
// database's answers do: a policy decided on a read, then a delete, leaves a
// window that two deletes can both pass through.
type slowReads struct{ myaccount.Store }

func (s slowReads) ListMethods(ctx context.Context, issuer, userID, typ string) ([]*myaccount.Method, error) {
	defer time.Sleep(20 * time.Millisecond)
	return s.Store.ListMethods(ctx, issuer, userID, typ)
}

func (s slowReads) GetMethod(ctx context.Context, issuer, userID, id string) (*myaccount.Method, error) {
	defer time.Sleep(20 * time.Millisecond)
	return s.Store.GetMethod(ctx, issuer, userID, id)
}

// TestDeletePolicyIsAtomicWithDelete sends concurrent DELETEs of a user's two
// passkeys under KeepLastPrimary: one may succeed, never both, so the user
// keeps a passkey. The policy is decided in the store's delete, not on an
// earlier read.
func TestDeletePolicyIsAtomicWithDelete(t *testing.T) {
	h := newHarness(t, func(c *myaccount.Config) {
		c.Users.DeletePolicy = myaccount.KeepLastPrimary
		c.Store = slowReads{myaccount.NewMemoryStore()}
		c.SecretKeys = testKeys
	})
	const rounds, perPasskey = 5, 4
	for round := range rounds {
		alice := h.token("auth0|alice" + string(rune('a'+round)))
		ids := []string{
			h.enroll(alice, myaccounttest.NewAuthenticator())["id"].(string),
			h.enroll(alice, myaccounttest.NewAuthenticator())["id"].(string),
		}
		statuses := deleteAtOnce(t, h, alice, ids, perPasskey)
		if statuses[http.StatusNoContent] != 1 || statuses[http.StatusNoContent]+statuses[http.StatusConflict]+statuses[http.StatusNotFound] != 2*perPasskey {
			t.Fatalf("round %d: concurrent deletes of two passkeys answered %v, want one 204 and the rest 409 or 404", round, statuses)
		}
		if left := h.list(alice, "passkey"); len(left) != 1 {
			t.Fatalf("round %d: %d passkeys left, want 1", round, len(left))
		}
	}
}

// deleteAtOnce sends n DELETEs of each id, all released at once, and counts
// the answers by status.
func deleteAtOnce(t *testing.T, h *harness, token string, ids []string, n int) map[int]int {
	t.Helper()
	var mu sync.Mutex
	statuses := map[int]int{}
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n * len(ids) {
		done.Go(func() {
			req, _ := http.NewRequest("DELETE", h.server.URL+"/me/v1/authentication-methods/"+url.PathEscape(ids[i%len(ids)]), nil)
			req.Header.Set("Authorization", "Bearer "+token)
			start.Wait()
			resp, err := h.server.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	start.Done()
	done.Wait()
	return statuses
}
