package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"reflect"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/go-myaccount/myaccount/pgstore"
	"github.com/go-myaccount/myaccount/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// simpleProtocolPool is a pool whose results come as text, so that pgstore
// reads them through pgx's scanning rather than from their binary bytes.
func simpleProtocolPool(t *testing.T) *pgxpool.Pool {
	cfg, err := pgxpool.ParseConfig(testenv.Need(t, "MYACCOUNT_POSTGRES_DSN", "PostgreSQL"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.MaxConns = 32
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// The store keeps its promises on a pool whose rows it cannot read from
// their binary bytes.
func TestConformanceWithTextResults(t *testing.T) {
	_, schema := migrated(t, testPool(t))
	pool := simpleProtocolPool(t)
	storetest.Run(t, func(*testing.T) myaccount.Store { return pgstore.New(pool, pgstore.WithSchema(schema)) })
}

// Methods read from their rows' binary bytes are exactly those pgx's scanning
// reads from text, nil and empty slices told apart.
func TestDecodedMethodsEqualScannedMethods(t *testing.T) {
	binaryStore, schema := migrated(t, testPool(t))
	textStore := pgstore.New(simpleProtocolPool(t), pgstore.WithSchema(schema))
	ctx := t.Context()
	issuer := "https://decode.example/"
	at := time.Date(2026, 12, 2, 9, 30, 15, 123_000_000, time.UTC)
	random := func(n int) []byte { b := make([]byte, n); _, _ = rand.Read(b); return b }
	passkey := func(id string, transports []string) *myaccount.Method {
		return &myaccount.Method{ID: "passkey|" + id, Issuer: issuer, UserID: "alice", Type: "passkey",
			Name: "Clé «USB» 🔑", IdentityUserID: "alice", CreatedAt: at,
			WebAuthn: myaccount.WebAuthnCredential{CredentialID: random(32), PublicKey: random(77), AAGUID: random(16),
				SignCount: 4_000_000_000, BackupEligible: true, Transports: transports, AttestationFormat: "packed",
				UserAgent: "Mozilla/5.0 (X11)", RelyingPartyID: "decode.example", UserHandle: random(64)}}
	}
	methods := []*myaccount.Method{
		passkey("a", []string{"internal", "hybrid", "usb"}),
		passkey("b", []string{}),
		passkey("c", nil),
		{ID: "totp|t", Issuer: issuer, UserID: "alice", Type: "totp", CreatedAt: at.Add(time.Second), Secret: random(48)},
		{ID: "password|p", Issuer: issuer, UserID: "alice", Type: "password", CreatedAt: at.Add(2 * time.Second),
			Secret: random(60), SecretHistory: [][]byte{random(60), random(60)}, SecretSetAt: at.Add(-time.Hour)},
		{ID: "email|e", Issuer: issuer, UserID: "alice", Type: "email", CreatedAt: at.Add(3 * time.Second),
			Destination: "a@decode.example"},
		{ID: "phone|f", Issuer: issuer, UserID: "alice", Type: "phone", CreatedAt: at.Add(4 * time.Second),
			Destination: "+15555550100", PreferredChannel: "voice"},
	}
	for _, m := range methods {
		session := myaccount.SessionRef{ID: hex.EncodeToString(random(32)), Issuer: issuer, UserID: "alice", ExpiresAt: at.Add(time.Hour)}
		if err := binaryStore.CreateMethod(ctx, m, 20, session); err != nil {
			t.Fatalf("CreateMethod(%s): %v", m.ID, err)
		}
	}
	decoded, err := binaryStore.ListMethods(ctx, issuer, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	scanned, err := textStore.ListMethods(ctx, issuer, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(decoded) != len(methods) || len(scanned) != len(methods) {
		t.Fatalf("listed %d decoded and %d scanned methods, want %d", len(decoded), len(scanned), len(methods))
	}
	for i := range methods {
		if !reflect.DeepEqual(decoded[i], scanned[i]) {
			t.Errorf("method %s:\ndecoded %+v\nscanned %+v", methods[i].ID, decoded[i], scanned[i])
		}
		one, err := binaryStore.GetMethod(ctx, issuer, "alice", methods[i].ID)
		if err != nil || !reflect.DeepEqual(one, scanned[i]) {
			t.Errorf("GetMethod(%s) = %+v, %v; want %+v", methods[i].ID, one, err, scanned[i])
		}
	}
	// Writing to a decoded slice cannot reach another field's bytes.
	m := decoded[0]
	before := append([]byte(nil), m.WebAuthn.PublicKey...)
	_ = append(m.WebAuthn.CredentialID, 0xff, 0xff, 0xff)
	if !reflect.DeepEqual(m.WebAuthn.PublicKey, before) {
		t.Error("appending to the credential id changed the public key")
	}
}
