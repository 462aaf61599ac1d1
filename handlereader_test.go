package myaccount_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
)

// plainStore is a Store with only the Store interface's methods, and counts
// the calls a passkey enrollment's first step makes.
type plainStore struct {
	myaccount.Store
	lists, handles atomic.Int32
}

func (s *plainStore) ListMethods(ctx context.Context, issuer, userID, typ string) ([]*myaccount.Method, error) {
	s.lists.Add(1)
	return s.Store.ListMethods(ctx, issuer, userID, typ)
}

func (s *plainStore) UserHandle(ctx context.Context, issuer, userID string, candidate []byte) ([]byte, error) {
	s.handles.Add(1)
	return s.Store.UserHandle(ctx, issuer, userID, candidate)
}

// readerStore adds MethodsAndUserHandle to a plainStore, counting its calls.
type readerStore struct {
	*plainStore
	reads atomic.Int32
}

func (s *readerStore) MethodsAndUserHandle(ctx context.Context, issuer, userID, typ string, candidate []byte) ([]*myaccount.Method, []byte, error) {
	s.reads.Add(1)
	return s.Store.(myaccount.MethodsAndHandleReader).MethodsAndUserHandle(ctx, issuer, userID, typ, candidate)
}

// A passkey enrollment's first step reads the user's methods and user handle
// in one call from a store that offers it, in two from one that does not;
// either way every enrollment of the user gets the one handle the store keeps.
func TestEnrollmentReadsMethodsAndHandleTogether(t *testing.T) {
	plain := &plainStore{Store: myaccount.NewMemoryStore()}
	reader := &readerStore{plainStore: &plainStore{Store: myaccount.NewMemoryStore()}}
	for _, tc := range []struct {
		name  string
		store myaccount.Store
		plain *plainStore
		reads func() int32
	}{
		{"plain", plain, plain, func() int32 { return 0 }},
		{"reader", reader, reader.plainStore, reader.reads.Load},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *myaccount.Config) { c.Store, c.SecretKeys = tc.store, testKeys })
			alice := h.token("auth0|alice")
			var handles [][]byte
			for range 2 {
				e := h.begin(alice)
				handles = append(handles, optionsUserID(t, e.Options))
				wantStatus(t, h.verify(alice, e.AuthSession, attest(t, myaccounttest.NewAuthenticator(), e)), http.StatusCreated)
			}
			stored, err := tc.store.UserHandle(t.Context(), h.issuer.Issuer, "auth0|alice", []byte("another candidate"))
			if err != nil {
				t.Fatal(err)
			}
			for i, got := range handles {
				if !bytes.Equal(got, stored) {
					t.Fatalf("enrollment %d was offered user.id %x, want the stored handle %x", i, got, stored)
				}
			}
			separate := tc.plain.lists.Load() + tc.plain.handles.Load() - 1 // the UserHandle call above
			if tc.name == "plain" && (separate != 4 || tc.reads() != 0) {
				t.Errorf("store without the reader: %d separate calls, want 4 (a list and a handle per enrollment)", separate)
			}
			if tc.name == "reader" && (separate != 0 || tc.reads() != 2) {
				t.Errorf("store with the reader: %d separate calls and %d reads, want none and 2", separate, tc.reads())
			}
		})
	}
}

// optionsUserID is user.id of a 202's creation options.
func optionsUserID(t *testing.T, options json.RawMessage) []byte {
	t.Helper()
	var o struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatal(err)
	}
	id, err := base64.RawURLEncoding.DecodeString(o.User.ID)
	if err != nil || len(id) == 0 {
		t.Fatalf("user.id %q: %v", o.User.ID, err)
	}
	return id
}
