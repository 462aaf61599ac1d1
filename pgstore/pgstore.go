// Package pgstore is a [myaccount.Store] on PostgreSQL, for running the My Account
// API on more than one machine.
//
// # Use
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	...
//	store := pgstore.New(pool)
//	if err := store.Migrate(ctx); err != nil { ... }
//	api, err := myaccount.New(myaccount.Config{Domain: "tenant.auth0.com", Store: store})
//
// # Schema
//
// [Store.Migrate] creates the tables from SQL files embedded in the package, in
// order, and records each applied version in the table myaccount_schema_migrations.
// Instances that start together are safe: migrations run in one transaction under an
// advisory lock. [WithSchema] keeps the tables in a schema of their own.
//
// # Guarantees
//
// The per-user method limit is enforced in the database: a create takes a
// transaction-scoped advisory lock on the user, then inserts only if the user holds
// fewer than the limit, so concurrent creates on any number of instances never
// exceed it. Sessions are taken with one DELETE ... RETURNING, so of concurrent
// takes exactly one wins. Expired sessions are deleted in small batches by
// [Store.PutSession], with no goroutine.
//
// # Errors
//
// Failures to reach PostgreSQL (refused or dropped connections, a server shutting
// down, connect timeouts, SQLSTATE classes 08, 53 and 57) are returned wrapping
// [myaccount.ErrUnavailable], which the API answers with 503. When the caller's
// context ends first, the error matches context.Canceled or
// context.DeadlineExceeded instead.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is a [myaccount.Store] on PostgreSQL. It is safe for concurrent use. It
// does not own the pool: close the pool when done.
type Store struct {
	pool   *pgxpool.Pool
	schema string
	q      queries
	puts   atomic.Uint64 // PutSession calls, for the expired-session sweep
}

var _ myaccount.Store = (*Store)(nil)

// Option configures a [Store].
type Option func(*Store)

// WithSchema keeps the store's tables in the named PostgreSQL schema, which
// [Store.Migrate] creates if it does not exist. Default: unqualified table names,
// created in the first schema of the connection's search_path (usually "public").
func WithSchema(name string) Option {
	return func(s *Store) { s.schema = name }
}

// New returns a store on pool. Call [Store.Migrate] before first use.
func New(pool *pgxpool.Pool, opts ...Option) *Store {
	s := &Store{pool: pool}
	for _, o := range opts {
		o(s)
	}
	s.q = newQueries(s.table)
	return s
}

// table returns the quoted, schema-qualified name of one of the store's tables.
func (s *Store) table(name string) string {
	if s.schema == "" {
		return pgx.Identifier{name}.Sanitize()
	}
	return pgx.Identifier{s.schema, name}.Sanitize()
}

// sweepEvery and sweepBatch bound the expired-session cleanup: every sweepEvery-th
// PutSession deletes at most sweepBatch expired sessions.
const (
	sweepEvery = 16
	sweepBatch = 100
)

// lockClass is the first key of the advisory locks this package takes, keeping
// them apart from an application's own two-key advisory locks.
const lockClass = 0x6d796163 // "myac"

const methodColumns = `issuer, user_id, id, type, name, identity_user_id, created_at,
	credential_id, public_key, aaguid, sign_count, backup_eligible, backed_up, transports,
	attestation_format, user_agent, relying_party_id, user_handle`

type queries struct {
	lockUser, insertMethod, listMethods, getMethod, updateMethod, deleteMethod string
	getHandle, insertHandle                                                    string
	putSession, sweepSessions, takeSession                                     string
}

func newQueries(table func(string) string) queries {
	methods, users, sessions := table("myaccount_methods"), table("myaccount_users"), table("myaccount_sessions")
	return queries{
		lockUser: `SELECT pg_advisory_xact_lock($1::int4, $2::int4)`,
		// Run after lockUser in the same transaction, at READ COMMITTED: the count
		// sees every create that held the lock before.
		insertMethod: `INSERT INTO ` + methods + ` (` + methodColumns + `)
			SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::timestamptz,
				$8::bytea, $9::bytea, $10::bytea, $11::bigint, $12::boolean, $13::boolean, $14::text[],
				$15::text, $16::text, $17::text, $18::bytea
			WHERE (SELECT count(*) FROM ` + methods + ` WHERE issuer = $1 AND user_id = $2 AND type = $4) < $19`,
		listMethods: `SELECT ` + methodColumns + ` FROM ` + methods + `
			WHERE issuer = $1 AND user_id = $2 AND ($3 = '' OR type = $3) ORDER BY created_at, id`,
		getMethod: `SELECT ` + methodColumns + ` FROM ` + methods + ` WHERE issuer = $1 AND user_id = $2 AND id = $3`,
		updateMethod: `UPDATE ` + methods + ` SET name = coalesce($4::text, name)
			WHERE issuer = $1 AND user_id = $2 AND id = $3 RETURNING ` + methodColumns,
		deleteMethod: `DELETE FROM ` + methods + ` WHERE issuer = $1 AND user_id = $2 AND id = $3`,
		getHandle:    `SELECT user_handle FROM ` + users + ` WHERE issuer = $1 AND user_id = $2`,
		insertHandle: `INSERT INTO ` + users + ` (issuer, user_id, user_handle) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING RETURNING user_handle`,
		putSession: `INSERT INTO ` + sessions + ` (id, issuer, user_id, type, expires_at, data)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO UPDATE SET issuer = excluded.issuer, user_id = excluded.user_id,
				type = excluded.type, expires_at = excluded.expires_at, data = excluded.data`,
		sweepSessions: `DELETE FROM ` + sessions + ` WHERE id IN (
			SELECT id FROM ` + sessions + ` WHERE expires_at <= $1
			ORDER BY expires_at LIMIT ` + fmt.Sprint(sweepBatch) + ` FOR UPDATE SKIP LOCKED)`,
		takeSession: `DELETE FROM ` + sessions + ` WHERE id = $1 AND issuer = $2 AND user_id = $3
			RETURNING type, expires_at, data`,
	}
}

// CreateMethod implements [myaccount.Store]. The count and the insert run in one
// READ COMMITTED transaction holding an advisory lock on the user.
func (s *Store) CreateMethod(ctx context.Context, m *myaccount.Method, max int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		p := &m.WebAuthn
		b := &pgx.Batch{}
		b.Queue(s.q.lockUser, lockClass, userLockKey(m.Issuer, m.UserID))
		b.Queue(s.q.insertMethod, m.Issuer, m.UserID, m.ID, m.Type, m.Name, m.IdentityUserID, m.CreatedAt,
			p.CredentialID, p.PublicKey, p.AAGUID, int64(p.SignCount), p.BackupEligible, p.BackedUp, p.Transports,
			p.AttestationFormat, p.UserAgent, p.RelyingPartyID, p.UserHandle, max)
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		tag, err := br.Exec()
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return myaccount.ErrLimitReached
		}
		return br.Close()
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "myaccount_methods_credential_key" {
		return myaccount.ErrCredentialExists
	}
	if errors.Is(err, myaccount.ErrLimitReached) {
		return myaccount.ErrLimitReached
	}
	return s.fail(ctx, err)
}

// userLockKey spreads users over the second key of the advisory lock. Two users
// sharing a key only wait for each other.
func userLockKey(issuer, userID string) int32 {
	h := fnv.New32a()
	_, _ = io.WriteString(h, issuer)
	_, _ = h.Write([]byte{0})
	_, _ = io.WriteString(h, userID)
	return int32(h.Sum32())
}

// ListMethods implements [myaccount.Store].
func (s *Store) ListMethods(ctx context.Context, issuer, userID, typ string) ([]*myaccount.Method, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.q.listMethods, issuer, userID, typ)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*myaccount.Method, error) { return scanMethod(row) })
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return out, nil
}

// GetMethod implements [myaccount.Store].
func (s *Store) GetMethod(ctx context.Context, issuer, userID, id string) (*myaccount.Method, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, err := scanMethod(s.pool.QueryRow(ctx, s.q.getMethod, issuer, userID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, myaccount.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return m, nil
}

// UpdateMethod implements [myaccount.Store]. It is one UPDATE of the fields set
// in u, so concurrent updates of other fields or other methods are kept.
func (s *Store) UpdateMethod(ctx context.Context, issuer, userID, id string, u myaccount.MethodUpdate) (*myaccount.Method, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, err := scanMethod(s.pool.QueryRow(ctx, s.q.updateMethod, issuer, userID, id, u.Name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, myaccount.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return m, nil
}

// DeleteMethod implements [myaccount.Store]. The method's credential id is free
// again once it returns.
func (s *Store) DeleteMethod(ctx context.Context, issuer, userID, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, s.q.deleteMethod, issuer, userID, id)
	if err != nil {
		return s.fail(ctx, err)
	}
	if tag.RowsAffected() == 0 {
		return myaccount.ErrNotFound
	}
	return nil
}

func scanMethod(row pgx.Row) (*myaccount.Method, error) {
	m := &myaccount.Method{}
	p := &m.WebAuthn
	var signCount int64
	err := row.Scan(&m.Issuer, &m.UserID, &m.ID, &m.Type, &m.Name, &m.IdentityUserID, &m.CreatedAt,
		&p.CredentialID, &p.PublicKey, &p.AAGUID, &signCount, &p.BackupEligible, &p.BackedUp, &p.Transports,
		&p.AttestationFormat, &p.UserAgent, &p.RelyingPartyID, &p.UserHandle)
	if err != nil {
		return nil, err
	}
	m.CreatedAt = m.CreatedAt.UTC()
	p.SignCount = uint32(signCount)
	return m, nil
}

// UserHandle implements [myaccount.Store]: a SELECT, and for a new user an INSERT
// ... ON CONFLICT DO NOTHING and a second SELECT should another instance have
// inserted first.
func (s *Store) UserHandle(ctx context.Context, issuer, userID string, candidate []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var handle []byte
	err := s.pool.QueryRow(ctx, s.q.getHandle, issuer, userID).Scan(&handle)
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.pool.QueryRow(ctx, s.q.insertHandle, issuer, userID, candidate).Scan(&handle)
	}
	if errors.Is(err, pgx.ErrNoRows) { // another caller inserted first
		err = s.pool.QueryRow(ctx, s.q.getHandle, issuer, userID).Scan(&handle)
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return handle, nil
}

// PutSession implements [myaccount.Store]. Every 16th call also deletes up to 100
// expired sessions; a failure of that cleanup is ignored.
func (s *Store) PutSession(ctx context.Context, sess *myaccount.Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.q.putSession, sess.ID, sess.Issuer, sess.UserID, sess.Type, sess.ExpiresAt, sess.Data)
	if err != nil {
		return s.fail(ctx, err)
	}
	if s.puts.Add(1)%sweepEvery == 0 {
		_, _ = s.pool.Exec(ctx, s.q.sweepSessions, time.Now())
	}
	return nil
}

// TakeSession implements [myaccount.Store] with one DELETE ... RETURNING: the
// session is gone whoever asked, and only its owner gets it, unexpired.
func (s *Store) TakeSession(ctx context.Context, issuer, userID, id string) (*myaccount.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sess := &myaccount.Session{ID: id, Issuer: issuer, UserID: userID}
	err := s.pool.QueryRow(ctx, s.q.takeSession, id, issuer, userID).Scan(&sess.Type, &sess.ExpiresAt, &sess.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, myaccount.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	if !time.Now().Before(sess.ExpiresAt) {
		return nil, myaccount.ErrNotFound
	}
	sess.ExpiresAt = sess.ExpiresAt.UTC()
	return sess, nil
}

// fail wraps err from PostgreSQL for the caller: the caller's context error when
// ctx is done, [myaccount.ErrUnavailable] for a database out of reach.
func (s *Store) fail(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		if errors.Is(err, ctx.Err()) {
			return fmt.Errorf("pgstore: %w", err)
		}
		return fmt.Errorf("pgstore: %w: %w", ctx.Err(), err)
	case unreachable(err):
		return fmt.Errorf("pgstore: %w: %w", myaccount.ErrUnavailable, err)
	}
	return fmt.Errorf("pgstore: %w", err)
}

// unreachable reports whether err means PostgreSQL could not be reached or could
// not answer: a failed or dropped connection, a timeout, or a server shutting
// down, starting up or out of resources.
func unreachable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		class := pgErr.Code[:min(2, len(pgErr.Code))]
		return class == "08" || class == "53" || class == "57"
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || strings.Contains(err.Error(), "closed pool")
}
