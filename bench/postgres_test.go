package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/testenv"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/go-myaccount/myaccount/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The PostgreSQL benchmarks run each operation four ways:
//
//	impl=memory    through the API handler, on the memory store
//	impl=pgstore   through the API handler, on pgstore
//	impl=store     the pgstore calls the API makes for it, without the API
//	impl=raw-pgx   the same SQL statements through the same pool with bare
//	               pgx: the floor impl=store is measured against
//
// They need a PostgreSQL (scripts/with-services.sh starts one, as make test
// does): they skip with a message without one, and fail under CI=true.

// pgBench is one benchmark's database: a pool and a pgstore in a schema of
// its own, dropped at cleanup.
type pgBench struct {
	pool   *pgxpool.Pool
	store  *pgstore.Store
	schema string
}

func newPGBench(b *testing.B) *pgBench {
	b.Helper()
	dsn := testenv.Need(b, "MYACCOUNT_POSTGRES_DSN", "PostgreSQL")
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	schema := "bench_" + strings.ToLower(rand.Text()[:12])
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			b.Errorf("drop schema: %v", err)
		}
	})
	store := pgstore.New(pool, pgstore.WithSchema(schema))
	if err := store.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	fsyncOnce.Do(func() {
		var fsync string
		if err := pool.QueryRow(context.Background(), "SHOW fsync").Scan(&fsync); err == nil && fsync != "on" {
			fmt.Fprintf(os.Stderr, "bench: fsync is %s on this PostgreSQL: commits cost less than on a default server\n", fsync)
		}
	})
	return &pgBench{pool: pool, store: store, schema: schema}
}

// fsyncOnce warns once that fsync is off.
var fsyncOnce sync.Once

// table is a table of the benchmark's schema, as pgstore names it.
func (p *pgBench) table(name string) string { return pgx.Identifier{p.schema, name}.Sanitize() }

// pgContenders are the stores the API-level benchmarks run on.
var pgContenders = []string{"memory", "pgstore"}

// apiOn returns an API on the named store and a token of subject with every
// scope, the token already in the API's cache.
func apiOn(b *testing.B, impl string) (*myaccount.API, *myaccounttest.Issuer, *recordingStore, string, *pgBench) {
	b.Helper()
	iss := myaccounttest.NewIssuer(b)
	store := &recordingStore{Store: myaccount.NewMemoryStore()}
	var pg *pgBench
	if impl == "pgstore" {
		pg = newPGBench(b)
		store.Store = pg.store
	}
	api := newAPI(b, iss, store)
	token := iss.Token(b, subject, myaccount.AllScopes()...)
	return api, iss, store, token, pg
}

// enrolled enrolls n passkeys through api and returns the id of the last.
func enrolled(b *testing.B, api http.Handler, store *recordingStore, token string, n int) string {
	b.Helper()
	for range n {
		enroll(b, api, token, myaccounttest.NewAuthenticator())
	}
	return store.last
}

// call builds a request as post does, for any method; body may be empty.
func call(method, path, token, body string) *http.Request {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	return req
}

func BenchmarkPGList(b *testing.B) {
	for _, n := range []int{1, 5, 20} {
		for _, impl := range pgContenders {
			b.Run(fmt.Sprintf("passkeys=%d/impl=%s", n, impl), func(b *testing.B) {
				api, _, store, token, _ := apiOn(b, impl)
				enrolled(b, api, store, token, n)
				req := call(http.MethodGet, "/me/v1/authentication-methods", token, "")
				b.ReportAllocs()
				for b.Loop() {
					serve(b, api, req, http.StatusOK)
				}
			})
		}
		b.Run(fmt.Sprintf("passkeys=%d/impl=store", n), func(b *testing.B) {
			pg, iss := pgWithPasskeys(b, n)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if list, err := pg.store.ListMethods(ctx, iss, subject, ""); err != nil || len(list) != n {
					b.Fatalf("ListMethods: %d, %v", len(list), err)
				}
			}
		})
		b.Run(fmt.Sprintf("passkeys=%d/impl=raw-pgx", n), func(b *testing.B) {
			pg, iss := pgWithPasskeys(b, n)
			ctx := context.Background()
			query := `SELECT ` + methodColumns + ` FROM ` + pg.table("myaccount_methods") + `
				WHERE issuer = $1 AND user_id = $2 AND ($3 = '' OR type = $3) ORDER BY created_at, id`
			b.ReportAllocs()
			for b.Loop() {
				rows, err := pg.pool.Query(ctx, query, iss, subject, "")
				if err != nil {
					b.Fatal(err)
				}
				var list []*myaccount.Method
				for rows.Next() {
					m, err := scanRaw(rows)
					if err != nil {
						b.Fatal(err)
					}
					list = append(list, m)
				}
				if rows.Err() != nil || len(list) != n {
					b.Fatalf("list: %d, %v", len(list), rows.Err())
				}
			}
		})
	}
}

func BenchmarkPGGet(b *testing.B) {
	for _, impl := range pgContenders {
		b.Run("impl="+impl, func(b *testing.B) {
			api, _, store, token, _ := apiOn(b, impl)
			id := enrolled(b, api, store, token, 1)
			req := call(http.MethodGet, "/me/v1/authentication-methods/"+url.PathEscape(id), token, "")
			b.ReportAllocs()
			for b.Loop() {
				serve(b, api, req, http.StatusOK)
			}
		})
	}
	b.Run("impl=store", func(b *testing.B) {
		pg, iss := pgWithPasskeys(b, 1)
		ctx := context.Background()
		id := pg.lastID(b, iss)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pg.store.GetMethod(ctx, iss, subject, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=raw-pgx", func(b *testing.B) {
		pg, iss := pgWithPasskeys(b, 1)
		ctx := context.Background()
		id := pg.lastID(b, iss)
		query := `SELECT ` + methodColumns + ` FROM ` + pg.table("myaccount_methods") + ` WHERE issuer = $1 AND user_id = $2 AND id = $3`
		b.ReportAllocs()
		for b.Loop() {
			if _, err := scanRaw(pg.pool.QueryRow(ctx, query, iss, subject, id)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkPGRename(b *testing.B) {
	for _, impl := range pgContenders {
		b.Run("impl="+impl, func(b *testing.B) {
			api, _, store, token, _ := apiOn(b, impl)
			id := enrolled(b, api, store, token, 1)
			path := "/me/v1/authentication-methods/" + url.PathEscape(id)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				serve(b, api, call(http.MethodPatch, path, token, `{"name":"key `+fmt.Sprint(i%10)+`"}`), http.StatusOK)
			}
		})
	}
	b.Run("impl=store", func(b *testing.B) {
		pg, iss := pgWithPasskeys(b, 1)
		ctx := context.Background()
		id := pg.lastID(b, iss)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			name := "key " + fmt.Sprint(i%10)
			if _, err := pg.store.UpdateMethod(ctx, iss, subject, id, myaccount.MethodUpdate{Name: &name}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=raw-pgx", func(b *testing.B) {
		pg, iss := pgWithPasskeys(b, 1)
		ctx := context.Background()
		id := pg.lastID(b, iss)
		query := `UPDATE ` + pg.table("myaccount_methods") + ` SET name = coalesce($4::text, name),
				preferred_channel = coalesce($5::text, preferred_channel)
			WHERE issuer = $1 AND user_id = $2 AND id = $3 RETURNING ` + methodColumns
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			name := "key " + fmt.Sprint(i%10)
			if _, err := scanRaw(pg.pool.QueryRow(ctx, query, iss, subject, id, &name, (*string)(nil))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPGEnroll is one passkey enrollment cycle, POST and verify, for a
// user who holds one passkey already (32 users taking turns). Deleting the new
// passkey after each cycle, so that every cycle starts alike, is not timed;
// the commits it makes are not counted.
func BenchmarkPGEnroll(b *testing.B) {
	for _, impl := range pgContenders {
		b.Run("impl="+impl, func(b *testing.B) {
			api, iss, store, _, pg := apiOn(b, impl)
			users := newBenchUsers(b, iss, 32)
			users.each(func(token string) { enroll(b, api, token, myaccounttest.NewAuthenticator()) })
			report := func() {}
			if pg != nil {
				// Ten users get a second passkey, not deleted: deletes would be counted.
				report = countCommits(b, pg, 10, func() { enroll(b, api, users.token(), myaccounttest.NewAuthenticator()) })
			}
			b.ReportAllocs()
			for b.Loop() {
				enroll(b, api, users.token(), myaccounttest.NewAuthenticator())
				b.StopTimer()
				store.deleteLast(b, iss.Issuer)
				b.StartTimer()
			}
			report()
		})
	}
	// What the cycle asks of the store: the POST reads the user's passkeys and
	// user handle; the verify creates the method with the session.
	storeCycle := func(pg *pgBench, iss string) string {
		ctx := context.Background()
		if _, _, err := pg.store.MethodsAndUserHandle(ctx, iss, subject, "passkey", benchKeys[0]); err != nil {
			b.Fatal(err)
		}
		m := benchPasskey(iss)
		if err := pg.store.CreateMethod(ctx, m, 20, benchSession(iss)); err != nil {
			b.Fatal(err)
		}
		return m.ID
	}
	b.Run("impl=store", func(b *testing.B) {
		pg, iss := pgWithPasskeys(b, 1)
		report := countCommits(b, pg, 10, func() { storeCycle(pg, iss) })
		deleteAllBut(b, pg.store, iss, 1)
		b.ReportAllocs()
		for b.Loop() {
			id := storeCycle(pg, iss)
			b.StopTimer()
			if err := pg.store.DeleteMethod(context.Background(), iss, subject, id, nil); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		report()
	})
	b.Run("impl=raw-pgx", func(b *testing.B) {
		pg, iss := pgWithPasskeys(b, 1)
		r := newRawCycle(pg)
		report := countCommits(b, pg, 10, func() { r.cycle(b, iss) })
		deleteAllBut(b, pg.store, iss, 1)
		b.ReportAllocs()
		for b.Loop() {
			id := r.cycle(b, iss)
			b.StopTimer()
			if err := pg.store.DeleteMethod(context.Background(), iss, subject, id, nil); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		report()
	})
}

// countCommits runs cycle n times and returns a function that reports the
// transactions it committed per cycle (benchmark metrics are reported after
// the loop, which resets them): all of them (xacts/cycle, reads included),
// and those that wrote and so waited for a flush (commits/cycle, counted as
// transaction ids assigned).
func countCommits(b *testing.B, pg *pgBench, n int, cycle func()) (report func()) {
	b.Helper()
	ctx := context.Background()
	counts := func() (xacts, xids int64) {
		// Statistics are read from a snapshot taken at the first access in a
		// transaction: clear it.
		if _, err := pg.pool.Exec(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
			b.Fatal(err)
		}
		err := pg.pool.QueryRow(ctx, `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
			pg_snapshot_xmax(pg_current_snapshot())::text::bigint`).Scan(&xacts, &xids)
		if err != nil {
			b.Fatal(err)
		}
		return xacts, xids
	}
	// Backends send their statistics at most once a second: let the earlier
	// ones settle before counting, and these arrive after.
	time.Sleep(1100 * time.Millisecond)
	x0, i0 := counts()
	for range n {
		cycle()
	}
	time.Sleep(1100 * time.Millisecond)
	x1, i1 := counts()
	// Each counts() is two transactions.
	xacts, commits := float64(x1-x0-2)/float64(n), float64(i1-i0)/float64(n)
	return func() {
		b.ReportMetric(xacts, "xacts/cycle")
		b.ReportMetric(commits, "commits/cycle")
	}
}

// deleteAllBut deletes the user's newest passkeys until keep remain.
func deleteAllBut(b *testing.B, s myaccount.Store, iss string, keep int) {
	b.Helper()
	list, err := s.ListMethods(context.Background(), iss, subject, "")
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range list[keep:] {
		if err := s.DeleteMethod(context.Background(), iss, subject, m.ID, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// pgWithPasskeys is a pgstore holding n passkeys of subject at a new issuer.
func pgWithPasskeys(b *testing.B, n int) (*pgBench, string) {
	b.Helper()
	pg := newPGBench(b)
	iss := "https://bench-" + strings.ToLower(rand.Text()[:8]) + ".example/"
	for range n {
		if err := pg.store.CreateMethod(context.Background(), benchPasskey(iss), 20, benchSession(iss)); err != nil {
			b.Fatal(err)
		}
	}
	return pg, iss
}

func (pg *pgBench) lastID(b *testing.B, iss string) string {
	b.Helper()
	list, err := pg.store.ListMethods(context.Background(), iss, subject, "")
	if err != nil || len(list) == 0 {
		b.Fatalf("ListMethods: %d, %v", len(list), err)
	}
	return list[len(list)-1].ID
}

// benchPasskey is a passkey of subject as the API would create it.
func benchPasskey(iss string) *myaccount.Method {
	return &myaccount.Method{
		ID: "passkey|dev_" + rand.Text()[:16], Issuer: iss, UserID: subject, Type: "passkey",
		IdentityUserID: subject, CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
		WebAuthn: myaccount.WebAuthnCredential{
			CredentialID: randomBytes(32), PublicKey: randomBytes(77), AAGUID: make([]byte, 16),
			BackupEligible: true, BackedUp: true, Transports: []string{"internal", "hybrid"},
			AttestationFormat: "none", UserAgent: "bench", RelyingPartyID: "localhost", UserHandle: benchKeys[0],
		},
	}
}

func benchSession(iss string) myaccount.SessionRef {
	return myaccount.SessionRef{ID: hex.EncodeToString(randomBytes(32)), Issuer: iss, UserID: subject,
		ExpiresAt: time.Now().Add(5 * time.Minute)}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// methodColumns are pgstore's, in its order.
const methodColumns = `issuer, user_id, id, type, name, identity_user_id, created_at,
	credential_id, public_key, aaguid, sign_count, backup_eligible, backed_up, transports,
	attestation_format, user_agent, relying_party_id, user_handle,
	secret, destination, preferred_channel`

// scanRaw reads a row of methodColumns, as pgstore does.
func scanRaw(row pgx.Row) (*myaccount.Method, error) {
	m := &myaccount.Method{}
	p := &m.WebAuthn
	var signCount int64
	err := row.Scan(&m.Issuer, &m.UserID, &m.ID, &m.Type, &m.Name, &m.IdentityUserID, &m.CreatedAt,
		&p.CredentialID, &p.PublicKey, &p.AAGUID, &signCount, &p.BackupEligible, &p.BackedUp, &p.Transports,
		&p.AttestationFormat, &p.UserAgent, &p.RelyingPartyID, &p.UserHandle,
		&m.Secret, &m.Destination, &m.PreferredChannel)
	p.SignCount = uint32(signCount)
	return m, err
}

// rawCycle is the enroll cycle's statements with bare pgx: one batch of the
// list and the user handle, then one of BEGIN, the user's lock, the create
// and COMMIT.
type rawCycle struct {
	pool                      *pgxpool.Pool
	list, handle, lock, creat string
}

func newRawCycle(pg *pgBench) *rawCycle {
	methods, uses := pg.table("myaccount_methods"), pg.table("myaccount_session_uses")
	return &rawCycle{
		pool: pg.pool,
		list: `SELECT ` + methodColumns + ` FROM ` + methods + `
			WHERE issuer = $1 AND user_id = $2 AND ($3 = '' OR type = $3) ORDER BY created_at, id`,
		handle: `SELECT user_handle FROM ` + pg.table("myaccount_users") + ` WHERE issuer = $1 AND user_id = $2`,
		lock:   `SELECT pg_advisory_xact_lock($1::int4, $2::int4)`,
		creat: `WITH room AS (
				SELECT count(*) < $22 AS ok FROM ` + methods + ` WHERE issuer = $1 AND user_id = $2 AND type = $4
			), used AS (
				INSERT INTO ` + uses + ` AS u (id, expires_at, used, attempts)
				SELECT $23::text, $24::timestamptz, true, 0 FROM room WHERE room.ok
				ON CONFLICT (id) DO UPDATE SET used = true WHERE NOT u.used
				RETURNING 1
			), created AS (
				INSERT INTO ` + methods + ` (` + methodColumns + `)
				SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::timestamptz,
					$8::bytea, $9::bytea, $10::bytea, $11::bigint, $12::boolean, $13::boolean, $14::text[],
					$15::text, $16::text, $17::text, $18::bytea, $19::bytea, $20::text, $21::text
				WHERE EXISTS (SELECT FROM used)
				RETURNING 1
			)
			SELECT (SELECT ok FROM room),
				coalesce((SELECT u.used FROM ` + uses + ` u WHERE u.id = $23), false),
				EXISTS (SELECT FROM created)`,
	}
}

func (r *rawCycle) cycle(b *testing.B, iss string) string {
	ctx := context.Background()
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	reads := &pgx.Batch{}
	reads.Queue(r.list, iss, subject, "passkey")
	reads.Queue(r.handle, iss, subject)
	results := conn.SendBatch(ctx, reads)
	rows, err := results.Query()
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		if _, err := scanRaw(rows); err != nil {
			b.Fatal(err)
		}
	}
	if rows.Err() != nil {
		b.Fatal(rows.Err())
	}
	var handle []byte
	if err := results.QueryRow().Scan(&handle); err != nil && err != pgx.ErrNoRows {
		b.Fatal(err)
	}
	if err := results.Close(); err != nil {
		b.Fatal(err)
	}
	m, s := benchPasskey(iss), benchSession(iss)
	p := &m.WebAuthn
	batch := &pgx.Batch{}
	batch.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	batch.Queue(r.lock, 0x6d796163, 42)
	batch.Queue(r.creat, m.Issuer, m.UserID, m.ID, m.Type, m.Name, m.IdentityUserID, m.CreatedAt,
		p.CredentialID, p.PublicKey, p.AAGUID, int64(p.SignCount), p.BackupEligible, p.BackedUp, p.Transports,
		p.AttestationFormat, p.UserAgent, p.RelyingPartyID, p.UserHandle, m.Secret, m.Destination, m.PreferredChannel,
		20, s.ID, s.ExpiresAt)
	batch.Queue("COMMIT")
	var room, used, created bool
	br := conn.SendBatch(ctx, batch)
	_, err = br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		err = br.QueryRow().Scan(&room, &used, &created)
	}
	if err == nil {
		_, err = br.Exec()
	}
	if err := br.Close(); err != nil {
		b.Fatal(err)
	}
	if err != nil || !created {
		b.Fatalf("create: %v %v", created, err)
	}
	return m.ID
}

// BenchmarkPGEnrollParallel is the enroll cycle from 16 goroutines at once,
// as a loaded server sees it: ns/op is wall time per cycle, the inverse of
// throughput, so that a store's round trips overlap and its commits share
// flushes. Users take turns, each enrolling up to 19 passkeys beside the one
// it starts with, which are not deleted; there are enough of them for b.N.
func BenchmarkPGEnrollParallel(b *testing.B) {
	for _, impl := range pgContenders {
		b.Run("impl="+impl, func(b *testing.B) {
			api, iss, _, _, _ := apiOn(b, impl)
			users := newBenchUsers(b, iss, b.N/19+1)
			users.each(func(token string) { enroll(b, api, token, myaccounttest.NewAuthenticator()) })
			var next atomic.Int64
			b.SetParallelism(8) // 16 goroutines on 2 CPUs
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					if i > 19*int64(len(users.tokens)) {
						b.Error("out of users: raise their number")
						return
					}
					enroll(b, api, users.tokens[i%int64(len(users.tokens))], myaccounttest.NewAuthenticator())
				}
			})
		})
	}
}
