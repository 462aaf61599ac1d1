package pgstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
)

// FuzzStoreInputs stores methods whose free-form fields (name, user agent,
// transport, identity, credential id) come from the fuzzer, seeded from
// testdata/fuzz/FuzzStoreInputs with the bytes that broke inserts before
// (Latin-1, NUL, a 3 KB transport). Whatever the input, the store either
// refuses it with an error and stays usable, or gives back exactly what it was
// given; it never panics or keeps half a method. It needs PostgreSQL and skips
// without it (fails under CI=true).
func FuzzStoreInputs(f *testing.F) {
	pool := testPool(f)
	store, _ := migrated(f, pool)
	const issuer = "https://fuzz.example.com/"
	f.Fuzz(func(t *testing.T, name, userAgent, transport, identity string, credentialID []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		user := "auth0|" + rand.Text()
		m := &myaccount.Method{
			ID: "passkey|dev_" + rand.Text()[:16], Issuer: issuer, UserID: user, Type: "passkey",
			Name: name, IdentityUserID: identity, CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
			WebAuthn: myaccount.WebAuthnCredential{
				CredentialID: append([]byte(rand.Text()), credentialID...), PublicKey: []byte{0xa5, 0x01, 0x02},
				AAGUID: make([]byte, 16), Transports: []string{transport}, AttestationFormat: "none",
				UserAgent: userAgent, RelyingPartyID: "localhost", UserHandle: []byte(rand.Text()),
			},
		}
		session := myaccount.SessionRef{ID: rand.Text(), Issuer: issuer, UserID: user, ExpiresAt: time.Now().Add(time.Minute)}
		if err := store.CreateMethod(ctx, m, 20, session); err != nil {
			if errors.Is(err, myaccount.ErrLimitReached) || errors.Is(err, myaccount.ErrCredentialExists) {
				t.Fatalf("CreateMethod of a new user's first method: %v", err)
			}
			if got, err := store.ListMethods(ctx, issuer, user, ""); err == nil && len(got) != 0 {
				t.Fatalf("a refused method was kept: %+v", got[0])
			}
			if _, err := store.ListMethods(ctx, issuer, "auth0|probe", ""); err != nil {
				t.Fatalf("the store is unusable after refusing an input: %v", err)
			}
			return
		}
		got, err := store.GetMethod(ctx, issuer, user, m.ID)
		if err != nil {
			t.Fatalf("GetMethod of a stored method: %v", err)
		}
		if got.Name != name || got.IdentityUserID != identity || got.WebAuthn.UserAgent != userAgent ||
			!slices.Equal(got.WebAuthn.Transports, []string{transport}) || !bytes.Equal(got.WebAuthn.CredentialID, m.WebAuthn.CredentialID) {
			t.Fatalf("stored %+v, read back %+v", m, got)
		}
		if updated, err := store.UpdateMethod(ctx, issuer, user, m.ID, myaccount.MethodUpdate{Name: &userAgent}); err == nil && updated.Name != userAgent {
			t.Fatalf("renamed to %q, read back %q", userAgent, updated.Name)
		}
		if err := store.SpendSession(ctx, myaccount.SessionRef{ID: name, Issuer: issuer, UserID: user, ExpiresAt: time.Now().Add(time.Minute)}); err != nil && !errors.Is(err, myaccount.ErrSessionUsed) {
			if _, err := store.ListMethods(ctx, issuer, "auth0|probe", ""); err != nil {
				t.Fatalf("the store is unusable after SpendSession(%q): %v", name, err)
			}
		}
		if err := store.DeleteMethod(ctx, issuer, user, m.ID, nil); err != nil {
			t.Fatalf("DeleteMethod: %v", err)
		}
	})
}
