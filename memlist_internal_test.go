package myaccount

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// createTestMethod stores a method of typ for user in s, created at.
func createTestMethod(t *testing.T, s *memoryStore, user, typ, id string, at time.Time) {
	t.Helper()
	m := &Method{ID: id, Issuer: "iss", UserID: user, Type: typ, Name: "name of " + id, CreatedAt: at}
	if typ == typePasskey {
		m.WebAuthn = WebAuthnCredential{CredentialID: []byte(id), PublicKey: []byte{1, 2, 3}, RelyingPartyID: "localhost",
			Transports: []string{"internal"}, UserHandle: []byte("handle")}
	}
	session := SessionRef{ID: "session " + id, Issuer: "iss", UserID: user, ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateMethod(context.Background(), m, 100, session); err != nil {
		t.Fatal(err)
	}
}

// The list the memory store writes itself is what the API writes from
// ListMethods, for every filter, whatever order the methods were created in.
func TestMemoryStoreListIsListMethodsWritten(t *testing.T) {
	s := newMemoryStore()
	ctx := context.Background()
	base := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	for i, c := range []struct {
		typ string
		at  time.Duration
	}{{typePasskey, 3}, {typeTOTP, 1}, {typePasskey, 1}, {typeEmail, 7}, {typePasskey, 0}, {typeEmail, 2}, {typePasskey, 3}} {
		createTestMethod(t, s, "alice", c.typ, fmt.Sprintf("%s|dev_%02d", c.typ, 20-i), base.Add(c.at*time.Second))
	}
	createTestMethod(t, s, "bob", typePasskey, "passkey|dev_bob", base)
	// A list now keeps the JSON it writes; the changes below must not be
	// listed from what it kept.
	for _, typ := range []string{"", typeTOTP} {
		if _, err := s.appendMethodList(ctx, nil, "iss", "alice", typ); err != nil {
			t.Fatal(err)
		}
	}
	name := "renamed"
	if _, err := s.UpdateMethod(ctx, "iss", "alice", "totp|dev_19", MethodUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMethod(ctx, "iss", "alice", "email|dev_17", nil); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"alice", "bob", "nobody"} {
		for _, typ := range []string{"", typePasskey, typeTOTP, typeEmail, typePhone} {
			methods, err := s.ListMethods(ctx, "iss", user, typ)
			if err != nil {
				t.Fatal(err)
			}
			var want []byte
			for i, m := range methods {
				if i > 0 {
					want = append(want, ',')
				}
				want = appendMethod(want, m)
			}
			got, err := s.appendMethodList(ctx, []byte("["), "iss", user, typ)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "["+string(want) {
				t.Errorf("%s, type %q:\n got %s\nwant [%s", user, typ, got, want)
			}
		}
	}
	all, _ := s.ListMethods(ctx, "iss", "alice", "")
	var order []string
	for _, m := range all {
		order = append(order, m.ID)
	}
	if got, want := strings.Join(order, " "), "passkey|dev_16 passkey|dev_18 totp|dev_19 email|dev_15 passkey|dev_14 passkey|dev_20"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	// What the lists kept goes with the methods.
	if len(s.wire) != 7 {
		t.Errorf("%d methods' JSON kept, want the 7 stored", len(s.wire))
	}
	for _, m := range all {
		if err := s.DeleteMethod(ctx, "iss", "alice", m.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.wire) != 1 { // bob's
		t.Errorf("%d methods' JSON kept after alice's were deleted, want bob's alone", len(s.wire))
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.appendMethodList(cancelled, nil, "iss", "alice", ""); err != context.Canceled {
		t.Errorf("a cancelled list: %v", err)
	}
}

// A list written while the methods change shows each method whole, as it was
// before or after a change (run with -race: the list reads stored methods
// after the lock is released, so no change may be made in place).
func TestMemoryStoreListDuringChanges(t *testing.T) {
	s := newMemoryStore()
	ctx := context.Background()
	createTestMethod(t, s, "alice", typePasskey, "passkey|dev_a", time.Now())
	createTestMethod(t, s, "alice", typePassword, "password|dev_b", time.Now())
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		for i := range maxSessionsPerUser / 2 { // each SetSecret leaves a session record
			select {
			case <-done:
				return
			default:
			}
			name := strings.Repeat(string(rune('a'+i%2)), 8)
			if _, err := s.UpdateMethod(ctx, "iss", "alice", "passkey|dev_a", MethodUpdate{Name: &name}); err != nil {
				t.Error(err)
				return
			}
			session := SessionRef{ID: fmt.Sprint("set ", i), Issuer: "iss", UserID: "alice", ExpiresAt: time.Now().Add(time.Hour)}
			if _, err := s.SetSecret(ctx, "iss", "alice", "password|dev_b", []byte(name), time.Now(), 2, session); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 2000 {
		b, err := s.appendMethodList(ctx, []byte("["), "iss", "alice", "")
		if err != nil {
			t.Fatal(err)
		}
		var list []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		if err := json.Unmarshal(append(b, ']'), &list); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		if len(list) != 2 || (list[0].Name != "name of passkey|dev_a" && list[0].Name != "aaaaaaaa" && list[0].Name != "bbbbbbbb") {
			t.Fatalf("list %s", b)
		}
	}
	close(done)
	wg.Wait()
}

// Every change the memory store makes to a stored method stores a changed
// copy: a method a list took before the change still reads as it was, in
// every field, the ones a list does not write included.
func TestMemoryStoreChangesNoMethodInPlace(t *testing.T) {
	s := newMemoryStore()
	ctx := context.Background()
	createTestMethod(t, s, "alice", typeTOTP, "totp|dev_a", time.Now())
	createTestMethod(t, s, "alice", typePassword, "password|dev_b", time.Now())
	name := "renamed"
	for what, change := range map[string]func() error{
		"UpdateMethod": func() error {
			_, err := s.UpdateMethod(ctx, "iss", "alice", "totp|dev_a", MethodUpdate{Name: &name})
			return err
		},
		"AdvanceTOTPStep": func() error {
			_, err := s.AdvanceTOTPStep(ctx, "iss", "alice", "totp|dev_a", 42)
			return err
		},
		"SetSecret": func() error {
			session := SessionRef{ID: "set", Issuer: "iss", UserID: "alice", ExpiresAt: time.Now().Add(time.Hour)}
			_, err := s.SetSecret(ctx, "iss", "alice", "password|dev_b", []byte("hash"), time.Now(), 2, session)
			return err
		},
	} {
		s.mu.Lock()
		taken := slices.Clone(s.methods[userKey{"iss", "alice"}])
		s.mu.Unlock()
		before := copyMethods(taken)
		if err := change(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for i, m := range taken {
			if !reflect.DeepEqual(m, before[i]) {
				t.Errorf("%s changed %s in place: %+v, was %+v", what, m.ID, m, before[i])
			}
		}
	}
}
