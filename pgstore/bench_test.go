package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/pgstore"
	"github.com/go-myaccount/myaccount/storetest"
	"github.com/jackc/pgx/v5"
)

func BenchmarkList(b *testing.B) {
	s, _ := migrated(b, testPool(b))
	storetest.BenchmarkList(b, s)
}

func BenchmarkCreate(b *testing.B) {
	s, _ := migrated(b, testPool(b))
	storetest.BenchmarkCreate(b, s)
}

// BenchmarkSessionRecords measures the durability choices for session-use
// records (see the package documentation): each write as the store makes it
// (committed without waiting for the disk), waiting for the disk, and in an
// unlogged table; and a create, whose session record shares the method's
// transaction, with the records logged or unlogged. The differences show only
// on a server whose fsync is on.
func BenchmarkSessionRecords(b *testing.B) {
	for _, v := range []struct {
		name            string
		flush, unlogged bool
	}{
		{"durability=nowait", false, false},
		{"durability=flush", true, false},
		{"durability=unlogged", false, true},
	} {
		setup := func(b *testing.B) *pgstore.Store {
			pool := testPool(b)
			s, schema := migrated(b, pool)
			if v.flush {
				s.WaitForFlush()
			}
			if v.unlogged {
				if _, err := pool.Exec(b.Context(), "ALTER TABLE "+pgx.Identifier{schema, "myaccount_session_uses"}.Sanitize()+" SET UNLOGGED"); err != nil {
					b.Fatal(err)
				}
			}
			return s
		}
		b.Run("op=count-attempt/"+v.name, func(b *testing.B) {
			s := setup(b)
			ctx := context.Background()
			for b.Loop() {
				if err := s.CountAttempt(ctx, newRef(), 5); err != nil {
					b.Fatal(err)
				}
			}
		})
		if v.flush {
			continue // creates always wait for the disk
		}
		b.Run("op=create/"+v.name, func(b *testing.B) {
			s := setup(b)
			ctx := context.Background()
			for b.Loop() {
				ref := newRef()
				m := &myaccount.Method{ID: "totp|dev_" + rand.Text()[:16], Issuer: ref.Issuer, UserID: ref.UserID,
					Type: "totp", CreatedAt: time.Now(), Secret: make([]byte, 48)}
				if err := s.CreateMethod(ctx, m, 1, ref); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func newRef() myaccount.SessionRef {
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return myaccount.SessionRef{ID: hex.EncodeToString(id), Issuer: "https://bench.example/", UserID: "u" + rand.Text()[:10],
		ExpiresAt: time.Now().Add(5 * time.Minute)}
}
