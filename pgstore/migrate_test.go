package pgstore_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/pgstore"
	"github.com/jackc/pgx/v5"
)

// TestUpgradeFromVersion1 stores a passkey, a user handle and a pending
// session as version 1 of the schema did, migrates, and finds the passkey and
// the handle as they were, under the new rules.
func TestUpgradeFromVersion1(t *testing.T) {
	pool := testPool(t)
	ctx := t.Context()
	schema := freshSchema(t, pool)
	s := pgstore.New(pool, pgstore.WithSchema(schema))
	if err := s.MigrateTo(ctx, 1); err != nil {
		t.Fatalf("migrate to version 1: %v", err)
	}
	table := func(name string) string { return pgx.Identifier{schema, name}.Sanitize() }
	created := time.Now().UTC().Truncate(time.Millisecond)
	old := &myaccount.Method{
		ID: "passkey|dev_v1v1v1v1v1v1v1v1", Issuer: "https://issuer.example/", UserID: "alice", Type: "passkey",
		Name: "old key", IdentityUserID: "alice", CreatedAt: created,
		WebAuthn: myaccount.WebAuthnCredential{
			CredentialID: []byte("credential-v1"), PublicKey: []byte("cose"), AAGUID: make([]byte, 16), SignCount: 9,
			BackupEligible: true, BackedUp: true, Transports: []string{"usb", "nfc"}, AttestationFormat: "packed",
			UserAgent: "browser", RelyingPartyID: "example.com", UserHandle: []byte("handle-v1"),
		},
	}
	p := &old.WebAuthn
	if _, err := pool.Exec(ctx, `INSERT INTO `+table("myaccount_methods")+` (issuer, user_id, id, type, name,
		identity_user_id, created_at, credential_id, public_key, aaguid, sign_count, backup_eligible, backed_up,
		transports, attestation_format, user_agent, relying_party_id, user_handle)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		old.Issuer, old.UserID, old.ID, old.Type, old.Name, old.IdentityUserID, old.CreatedAt, p.CredentialID,
		p.PublicKey, p.AAGUID, int64(p.SignCount), p.BackupEligible, p.BackedUp, p.Transports, p.AttestationFormat,
		p.UserAgent, p.RelyingPartyID, p.UserHandle); err != nil {
		t.Fatalf("insert a version 1 passkey: %v", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO `+table("myaccount_users")+` VALUES ($1, $2, $3)`,
		old.Issuer, old.UserID, []byte("handle-v1")); err != nil {
		t.Fatalf("insert a version 1 user: %v", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO `+table("myaccount_sessions")+` VALUES ('pending', $1, $2, 'passkey', $3, '\x00')`,
		old.Issuer, old.UserID, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("insert a version 1 session: %v", err)
	}

	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate from version 1: %v", err)
	}
	got, err := s.GetMethod(ctx, old.Issuer, old.UserID, old.ID)
	if err != nil {
		t.Fatalf("GetMethod of the version 1 passkey: %v", err)
	}
	if got.Name != old.Name || !got.CreatedAt.Equal(created) || !bytes.Equal(got.WebAuthn.PublicKey, p.PublicKey) ||
		got.WebAuthn.SignCount != 9 || len(got.WebAuthn.Transports) != 2 || got.WebAuthn.RelyingPartyID != "example.com" ||
		!bytes.Equal(got.WebAuthn.UserHandle, p.UserHandle) || got.Secret != nil || got.Destination != "" {
		t.Fatalf("after the upgrade the passkey is %+v, want %+v", got, old)
	}
	if h, err := s.UserHandle(ctx, old.Issuer, old.UserID, []byte("new")); err != nil || string(h) != "handle-v1" {
		t.Fatalf("UserHandle after the upgrade = %q, %v; want the version 1 handle", h, err)
	}
	// Its credential id is still taken, now for every WebAuthn type.
	roaming := &myaccount.Method{ID: "webauthn-roaming|dev_v2v2v2v2v2v2v2v2", Issuer: old.Issuer, UserID: "bob",
		Type: "webauthn-roaming", CreatedAt: created,
		WebAuthn: myaccount.WebAuthnCredential{CredentialID: p.CredentialID, RelyingPartyID: p.RelyingPartyID}}
	session := myaccount.SessionRef{ID: "upgrade", Issuer: old.Issuer, UserID: "bob", ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.CreateMethod(ctx, roaming, 20, session); !errors.Is(err, myaccount.ErrCredentialExists) {
		t.Fatalf("CreateMethod of the version 1 credential id as webauthn-roaming: %v, want ErrCredentialExists", err)
	}
	var sessions *string
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1)::text", schema+".myaccount_sessions").Scan(&sessions); err != nil || sessions != nil {
		t.Fatalf("the version 1 sessions table: %v, %v; want it dropped", sessions, err)
	}
}

// TestNoFlushIsLocal: the statement that spares session writes the wait for
// the disk applies to its own batch only.
func TestNoFlushIsLocal(t *testing.T) {
	pool := testPool(t)
	ctx := t.Context()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var server string
	if err := conn.QueryRow(ctx, "SHOW synchronous_commit").Scan(&server); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	b.Queue(pgstore.NoFlush)
	b.Queue("SHOW synchronous_commit")
	br := conn.SendBatch(ctx, b)
	var inBatch string
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&inBatch)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var after string
	if err := conn.QueryRow(ctx, "SHOW synchronous_commit").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if inBatch != "off" || after != server {
		t.Fatalf("synchronous_commit in the batch %q, after it %q; want off, then the server's %q", inBatch, after, server)
	}
}
