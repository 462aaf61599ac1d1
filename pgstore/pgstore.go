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
// exceed it.
//
// A create marks its auth_session used in the same transaction, with an INSERT
// ... ON CONFLICT on the session's row, so of concurrent creates with one session
// exactly one wins, on any number of instances; a failed create leaves nothing.
// A method id the user holds already is refused by the primary key
// ([myaccount.ErrMethodExists]).
//
// A delete with a check (the API's delete policy)
// takes the same advisory lock, reads the user's methods, runs the check and
// deletes in one transaction: of concurrent deletes that would each leave the
// user without what the policy keeps, at most one succeeds.
//
// A TOTP method's last accepted time step advances in one UPDATE that compares
// it ([Store.AdvanceTOTPStep]): of concurrent checks of one code, one wins.
//
// # Durability
//
// Methods and user handles are durable: a create or a first user handle is
// acknowledged only once its commit is flushed to disk (with the server's
// synchronous_commit, on by default). What makes a session single use is kept
// where the session's own durability matters little: [Store.SpendSession],
// [Store.CountAttempt] and the cleanup of expired records commit with
// synchronous_commit off, without waiting for the disk, so a crash of
// PostgreSQL may forget the last few hundred milliseconds of them. That costs
// at most a few more code attempts on a session alive at the crash, never a
// second method: a create marks its session used in its own, durable
// transaction, and the method id the session was issued for can be created
// only once. A verify commits one transaction; an enrollment's first step
// commits nothing but a user's first user handle, and reads the user's
// methods and handle in one round trip ([Store.MethodsAndUserHandle]).
//
// Records of expired sessions are deleted in small batches as new ones are
// written, with no goroutine.
//
// # Connections
//
// Size the pool with the DSN's pool_max_conns (pgxpool's default is 4, or the
// number of CPUs if greater), below the server's max_connections shared by
// every instance. When PostgreSQL refuses a new connection (SQLSTATE 53300,
// too many clients, or a refused dial, as while it restarts), a call waits
// and retries for up to [WithConnectRetry] before it fails with
// [myaccount.ErrUnavailable].
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
	pool         *pgxpool.Pool
	schema       string
	connectRetry time.Duration
	q            queries
	writes       atomic.Uint64 // session records written, for the expired-record sweep

	cq connectedQueries // connected.go
}

var (
	_ myaccount.Store                  = (*Store)(nil)
	_ myaccount.MethodsAndHandleReader = (*Store)(nil)
)

// Option configures a [Store].
type Option func(*Store)

// WithSchema keeps the store's tables in the named PostgreSQL schema, which
// [Store.Migrate] creates if it does not exist. Default: unqualified table names,
// created in the first schema of the connection's search_path (usually "public").
func WithSchema(name string) Option {
	return func(s *Store) { s.schema = name }
}

// WithConnectRetry bounds how long a call keeps retrying when PostgreSQL
// refuses a new connection (too many clients, or nothing listening) before it
// fails with [myaccount.ErrUnavailable]; it never waits past half of the time
// left before the context's deadline. Zero or less fails at the first refusal.
// Default: 500 milliseconds.
func WithConnectRetry(d time.Duration) Option {
	return func(s *Store) { s.connectRetry = d }
}

// New returns a store on pool. Call [Store.Migrate] before first use.
func New(pool *pgxpool.Pool, opts ...Option) *Store {
	s := &Store{pool: pool, connectRetry: 500 * time.Millisecond}
	for _, o := range opts {
		o(s)
	}
	s.q = newQueries(s.table)
	s.cq = newConnectedQueries(s.table)
	return s
}

// table returns the quoted, schema-qualified name of one of the store's tables.
func (s *Store) table(name string) string {
	if s.schema == "" {
		return pgx.Identifier{name}.Sanitize()
	}
	return pgx.Identifier{s.schema, name}.Sanitize()
}

// sweepEvery and sweepBatch bound the cleanup of expired session records: every
// sweepEvery-th write of a record deletes at most sweepBatch expired ones.
const (
	sweepEvery = 16
	sweepBatch = 100
)

// settleTimeout bounds how long a create, once sent, waits for its outcome
// (and for its cancel request) after the caller's context has ended.
const settleTimeout = 3 * time.Second

// lockClass is the first key of the advisory locks this package takes, keeping
// them apart from an application's own two-key advisory locks.
const lockClass = 0x6d796163 // "myac"

const methodColumns = `issuer, user_id, id, type, name, identity_user_id, created_at,
	credential_id, public_key, aaguid, sign_count, backup_eligible, backed_up, transports,
	attestation_format, user_agent, relying_party_id, user_handle,
	secret, destination, preferred_channel, secret_history, secret_set_at, totp_step`

type queries struct {
	begin, lockUser, createMethod, listMethods, getMethod, updateMethod, deleteMethod string
	lockMethod, setSecret, advanceTOTPStep                                            string
	getHandle, insertHandle                                                           string
	noFlush, spendSession, countAttempt, sweepSessions                                string
}

func newQueries(table func(string) string) queries {
	methods, users, uses := table("myaccount_methods"), table("myaccount_users"), table("myaccount_session_uses")
	return queries{
		begin:    `BEGIN ISOLATION LEVEL READ COMMITTED`,
		lockUser: `SELECT pg_advisory_xact_lock($1::int4, $2::int4)`,
		// Run after lockUser in the same transaction, at READ COMMITTED: the count
		// sees every create that held the lock before. The session is marked used
		// only when there is room, and the method inserted only when the session
		// was marked; the caller tells the outcomes apart by the three columns.
		createMethod: `WITH room AS (
				SELECT count(*) < $24 AS ok FROM ` + methods + ` WHERE issuer = $1 AND user_id = $2 AND type = $4
			), used AS (
				INSERT INTO ` + uses + ` AS u (id, expires_at, used, attempts)
				SELECT $25::text, $26::timestamptz, true, 0 FROM room WHERE room.ok
				ON CONFLICT (id) DO UPDATE SET used = true WHERE NOT u.used
				RETURNING 1
			), created AS (
				INSERT INTO ` + methods + ` (` + methodColumns + `)
				SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::timestamptz,
					$8::bytea, $9::bytea, $10::bytea, $11::bigint, $12::boolean, $13::boolean, $14::text[],
					$15::text, $16::text, $17::text, $18::bytea, $19::bytea, $20::text, $21::text,
					$22::bytea[], $23::timestamptz, $27::bigint
				WHERE EXISTS (SELECT FROM used)
				RETURNING 1
			)
			SELECT (SELECT ok FROM room),
				coalesce((SELECT u.used FROM ` + uses + ` u WHERE u.id = $25), false),
				EXISTS (SELECT FROM created)`,
		listMethods: `SELECT ` + methodColumns + ` FROM ` + methods + `
			WHERE issuer = $1 AND user_id = $2 AND ($3 = '' OR type = $3) ORDER BY created_at, id`,
		getMethod: `SELECT ` + methodColumns + ` FROM ` + methods + ` WHERE issuer = $1 AND user_id = $2 AND id = $3`,
		updateMethod: `UPDATE ` + methods + ` SET name = coalesce($4::text, name),
				preferred_channel = coalesce($5::text, preferred_channel)
			WHERE issuer = $1 AND user_id = $2 AND id = $3 RETURNING ` + methodColumns,
		deleteMethod: `DELETE FROM ` + methods + ` WHERE issuer = $1 AND user_id = $2 AND id = $3`,
		lockMethod:   `SELECT FROM ` + methods + ` WHERE issuer = $1 AND user_id = $2 AND id = $3 FOR UPDATE`,
		// The UPDATE waits for a concurrent one of the row, then tests the
		// step again against the row as that one left it (READ COMMITTED):
		// of concurrent advances to one step, one updates. The second column
		// tells a method that is not there from a step not ahead.
		advanceTOTPStep: `WITH advanced AS (
				UPDATE ` + methods + ` SET totp_step = $4
				WHERE issuer = $1 AND user_id = $2 AND id = $3 AND totp_step < $4
				RETURNING 1
			)
			SELECT EXISTS (SELECT FROM advanced),
				EXISTS (SELECT FROM ` + methods + ` WHERE issuer = $1 AND user_id = $2 AND id = $3)`,
		// The old secret, when there is one, goes to the front of the history,
		// which is then cut to $6 entries.
		setSecret: `UPDATE ` + methods + ` SET secret = $4, secret_set_at = $5,
				secret_history = (CASE WHEN coalesce(length(secret), 0) = 0 THEN secret_history
					ELSE array_prepend(secret, secret_history) END)[1:$6::int]
			WHERE issuer = $1 AND user_id = $2 AND id = $3 RETURNING ` + methodColumns,
		getHandle: `SELECT user_handle FROM ` + users + ` WHERE issuer = $1 AND user_id = $2`,
		insertHandle: `INSERT INTO ` + users + ` (issuer, user_id, user_handle) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING RETURNING user_handle`,
		// Sent first in a batch, which PostgreSQL runs as one implicit
		// transaction: its commit does not wait for the disk.
		noFlush: `SELECT set_config('synchronous_commit', 'off', true)`,
		spendSession: `INSERT INTO ` + uses + ` AS u (id, expires_at, used, attempts) VALUES ($1, $2, true, 0)
			ON CONFLICT (id) DO UPDATE SET used = true WHERE NOT u.used
			RETURNING true`,
		// A try past the maximum spends the session and is not counted.
		countAttempt: `INSERT INTO ` + uses + ` AS u (id, expires_at, used, attempts)
			VALUES ($1, $2, $3::int <= 0, least($3::int, 1))
			ON CONFLICT (id) DO UPDATE SET
				used = u.used OR u.attempts >= $3::int,
				attempts = CASE WHEN u.used OR u.attempts >= $3::int THEN u.attempts ELSE u.attempts + 1 END
			RETURNING NOT used`,
		sweepSessions: `DELETE FROM ` + uses + ` WHERE id IN (
			SELECT id FROM ` + uses + ` WHERE expires_at <= $1
			ORDER BY expires_at LIMIT ` + fmt.Sprint(sweepBatch) + ` FOR UPDATE SKIP LOCKED)`,
	}
}

// acquire takes a connection from the pool. When PostgreSQL refuses a new one
// (too many clients, or a refused dial), it waits briefly and tries again, for
// up to the store's connect retry and half the time left before ctx's
// deadline; connections usually free up within milliseconds.
func (s *Store) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	deadline := time.Now().Add(s.connectRetry)
	if d, ok := ctx.Deadline(); ok {
		if half := time.Now().Add(time.Until(d) / 2); half.Before(deadline) {
			deadline = half
		}
	}
	wait := 2 * time.Millisecond
	for {
		conn, err := s.pool.Acquire(ctx)
		left := time.Until(deadline)
		if err == nil || !refused(err) || ctx.Err() != nil || left <= 0 {
			return conn, err
		}
		t := time.NewTimer(min(wait, left)) // the last try is at the deadline
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// refused reports whether err is PostgreSQL refusing a new connection: too
// many clients, or nothing listening on its address.
func refused(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "53300" // too_many_connections
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// CreateMethod implements [myaccount.Store]. It is one transaction in one round
// trip: BEGIN, an advisory lock on the user, one statement that counts the
// user's methods of the type, marks the session used and inserts the method,
// and COMMIT, sent together; the COMMIT's answer waits for the disk. When the
// statement writes nothing (no room, or the session used) the COMMIT commits
// nothing; when it fails, PostgreSQL skips the COMMIT and the transaction is
// rolled back.
//
// When ctx ends while the round trip is under way, the create asks PostgreSQL
// to cancel it (which stops a wait for the user's lock, or a statement, and
// so rolls the transaction back) and still waits for the answer, for up to
// [settleTimeout]: the caller learns whether the method was created. A create
// that returns an error has not happened, unless PostgreSQL did not answer
// in time (the error then wraps [myaccount.ErrUnavailable]).
func (s *Store) CreateMethod(ctx context.Context, m *myaccount.Method, limit int, session myaccount.SessionRef) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return s.fail(ctx, err)
	}
	defer conn.Release()
	if err := ctx.Err(); err != nil {
		return err
	}
	settle, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	p := &m.WebAuthn
	credentialID := p.CredentialID
	if len(credentialID) == 0 {
		credentialID = nil // NULL: no credential, outside the unique index
	}
	b := &pgx.Batch{}
	b.Queue(s.q.begin)
	b.Queue(s.q.lockUser, lockClass, userLockKey(m.Issuer, m.UserID))
	b.Queue(s.q.createMethod, m.Issuer, m.UserID, m.ID, m.Type, m.Name, m.IdentityUserID, m.CreatedAt,
		credentialID, p.PublicKey, p.AAGUID, int64(p.SignCount), p.BackupEligible, p.BackedUp, p.Transports,
		p.AttestationFormat, p.UserAgent, p.RelyingPartyID, p.UserHandle, m.Secret, m.Destination, m.PreferredChannel,
		nonNilHistory(m.SecretHistory), nullTime(m.SecretSetAt), limit, session.ID, session.ExpiresAt, m.LastTOTPStep)
	b.Queue("COMMIT")
	canceled := make(chan struct{})
	stopCancel := context.AfterFunc(ctx, func() {
		defer close(canceled)
		_ = conn.Conn().PgConn().CancelRequest(settle)
	})
	br := conn.SendBatch(settle, b)
	var room, usedBefore, created bool
	_, err = br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		err = br.QueryRow().Scan(&room, &usedBefore, &created)
	}
	if err == nil {
		_, err = br.Exec()
	}
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	switch {
	case !stopCancel():
		// A cancel request went out; it could yet stop whatever this
		// connection runs next. Closing it rolls back what is left open.
		<-canceled
		_ = conn.Conn().Close(settle)
	case err != nil && conn.Conn().PgConn().TxStatus() != 'I':
		// A failed statement left the transaction open, aborted. Should the
		// rollback fail too, the pool drops the connection on release.
		_, _ = conn.Exec(settle, "ROLLBACK")
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "myaccount_methods_credential_key":
		return myaccount.ErrCredentialExists
	case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "myaccount_methods_pkey":
		// A method the session was issued for exists: the session was used,
		// and its record lost (a crash forgot it).
		return myaccount.ErrMethodExists
	case err != nil:
		return s.fail(ctx, err)
	case created:
		s.sweepNow(ctx, conn)
		return nil
	case !room && !usedBefore:
		return myaccount.ErrLimitReached
	}
	return myaccount.ErrSessionUsed
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
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	defer conn.Release()
	out, err := readMethods(conn.Query(ctx, s.q.listMethods, issuer, userID, typ))
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return out, nil
}

// GetMethod implements [myaccount.Store].
func (s *Store) GetMethod(ctx context.Context, issuer, userID, id string) (*myaccount.Method, error) {
	return s.oneMethod(ctx, s.q.getMethod, issuer, userID, id)
}

// UpdateMethod implements [myaccount.Store]. It is one UPDATE of the fields set
// in u, so concurrent updates of other fields or other methods are kept.
func (s *Store) UpdateMethod(ctx context.Context, issuer, userID, id string, u myaccount.MethodUpdate) (*myaccount.Method, error) {
	return s.oneMethod(ctx, s.q.updateMethod, issuer, userID, id, u.Name, u.PreferredChannel)
}

// oneMethod runs query, which returns at most one method of the user.
func (s *Store) oneMethod(ctx context.Context, query string, args ...any) (*myaccount.Method, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	defer conn.Release()
	m, err := readMethod(conn.Query(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, myaccount.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return m, nil
}

// DeleteMethod implements [myaccount.Store]. The method's credential id is free
// again once it returns. Without a check it is one DELETE. With one, it is a
// transaction that takes the user's advisory lock, as a create does, reads
// the user's methods, runs check and deletes: creates and checked deletes of
// the user, on any number of instances, take turns, so check sees the
// methods as the delete leaves the others.
func (s *Store) DeleteMethod(ctx context.Context, issuer, userID, id string, check func(*myaccount.Method, []*myaccount.Method) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return s.fail(ctx, err)
	}
	defer conn.Release()
	if check == nil {
		tag, err := conn.Exec(ctx, s.q.deleteMethod, issuer, userID, id)
		if err != nil {
			return s.fail(ctx, err)
		}
		if tag.RowsAffected() == 0 {
			return myaccount.ErrNotFound
		}
		return nil
	}
	var refused error
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.q.lockUser, lockClass, userLockKey(issuer, userID)); err != nil {
			return err
		}
		all, err := readMethods(tx.Query(ctx, s.q.listMethods, issuer, userID, ""))
		if err != nil {
			return err
		}
		var m *myaccount.Method
		others := make([]*myaccount.Method, 0, len(all))
		for _, o := range all {
			if o.ID == id {
				m = o
			} else {
				others = append(others, o)
			}
		}
		if m == nil {
			return myaccount.ErrNotFound
		}
		if refused = check(m, others); refused != nil {
			return refused
		}
		_, err = tx.Exec(ctx, s.q.deleteMethod, issuer, userID, id)
		return err
	})
	switch {
	case refused != nil:
		return refused
	case err == nil, errors.Is(err, myaccount.ErrNotFound):
		return err
	}
	return s.fail(ctx, err)
}

// AdvanceTOTPStep implements [myaccount.Store] with one UPDATE whose WHERE
// holds the comparison; its commit waits for the disk, so that a crash does
// not forget an accepted code.
func (s *Store) AdvanceTOTPStep(ctx context.Context, issuer, userID, id string, step int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return false, s.fail(ctx, err)
	}
	defer conn.Release()
	var advanced, exists bool
	if err := conn.QueryRow(ctx, s.q.advanceTOTPStep, issuer, userID, id, step).Scan(&advanced, &exists); err != nil {
		return false, s.fail(ctx, err)
	}
	if !exists {
		return false, myaccount.ErrNotFound
	}
	return advanced, nil
}

// UserHandle implements [myaccount.Store]: a SELECT, and for a new user an INSERT
// ... ON CONFLICT DO NOTHING and a second SELECT should another instance have
// inserted first. The insert's commit waits for the disk.
func (s *Store) UserHandle(ctx context.Context, issuer, userID string, candidate []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	defer conn.Release()
	var handle []byte
	err = conn.QueryRow(ctx, s.q.getHandle, issuer, userID).Scan(&handle)
	if errors.Is(err, pgx.ErrNoRows) {
		handle, err = s.storeHandle(ctx, conn, issuer, userID, candidate)
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return handle, nil
}

// MethodsAndUserHandle implements [myaccount.MethodsAndHandleReader]: the
// SELECTs of ListMethods and UserHandle in one round trip; for a new user, the
// handle is then stored as UserHandle stores it.
func (s *Store) MethodsAndUserHandle(ctx context.Context, issuer, userID, typ string, candidate []byte) ([]*myaccount.Method, []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, nil, s.fail(ctx, err)
	}
	defer conn.Release()
	b := &pgx.Batch{}
	b.Queue(s.q.listMethods, issuer, userID, typ)
	b.Queue(s.q.getHandle, issuer, userID)
	br := conn.SendBatch(ctx, b)
	var handle []byte
	methods, err := readMethods(br.Query())
	if err == nil {
		err = br.QueryRow().Scan(&handle)
	}
	if closeErr := br.Close(); closeErr != nil && (err == nil || errors.Is(err, pgx.ErrNoRows)) {
		err = closeErr
	}
	if errors.Is(err, pgx.ErrNoRows) {
		handle, err = s.storeHandle(ctx, conn, issuer, userID, candidate)
	}
	if err != nil {
		return nil, nil, s.fail(ctx, err)
	}
	return methods, handle, nil
}

// storeHandle stores candidate as the handle of a user who has none, and
// returns the handle stored: candidate, or the one another caller stored first.
func (s *Store) storeHandle(ctx context.Context, conn *pgxpool.Conn, issuer, userID string, candidate []byte) ([]byte, error) {
	var handle []byte
	err := conn.QueryRow(ctx, s.q.insertHandle, issuer, userID, candidate).Scan(&handle)
	if errors.Is(err, pgx.ErrNoRows) { // another caller inserted first
		err = conn.QueryRow(ctx, s.q.getHandle, issuer, userID).Scan(&handle)
	}
	return handle, err
}

// SetSecret implements [myaccount.Store]. It is one transaction that waits
// for the disk, as a create does: the method's row is locked, the session
// marked used, and the secret replaced; a missing method or a used session
// rolls it all back.
func (s *Store) SetSecret(ctx context.Context, issuer, userID, id string, secret []byte, setAt time.Time, keepHistory int, session myaccount.SessionRef) (*myaccount.Method, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	defer conn.Release()
	var m *myaccount.Method
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, s.q.lockMethod, issuer, userID, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return myaccount.ErrNotFound
		}
		var spent bool
		if err := tx.QueryRow(ctx, s.q.spendSession, session.ID, session.ExpiresAt).Scan(&spent); errors.Is(err, pgx.ErrNoRows) {
			return myaccount.ErrSessionUsed
		} else if err != nil {
			return err
		}
		m, err = readMethod(tx.Query(ctx, s.q.setSecret, issuer, userID, id, secret, setAt, max(keepHistory, 0)))
		return err
	})
	switch {
	case errors.Is(err, myaccount.ErrNotFound), errors.Is(err, myaccount.ErrSessionUsed):
		return nil, err
	case err != nil:
		return nil, s.fail(ctx, err)
	}
	return m, nil
}

// nonNilHistory is history as PostgreSQL's NOT NULL column takes it: an
// empty array for none.
func nonNilHistory(history [][]byte) [][]byte {
	if history == nil {
		return [][]byte{}
	}
	return history
}

// nullTime is t, or NULL when t is zero.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// SpendSession implements [myaccount.Store] with one INSERT ... ON CONFLICT,
// committed without waiting for the disk.
func (s *Store) SpendSession(ctx context.Context, session myaccount.SessionRef) error {
	var spent bool
	err := s.sessionWrite(ctx, s.q.spendSession, []any{session.ID, session.ExpiresAt}, &spent)
	if errors.Is(err, pgx.ErrNoRows) {
		return myaccount.ErrSessionUsed
	}
	return err
}

// CountAttempt implements [myaccount.Store] with one INSERT ... ON CONFLICT,
// committed without waiting for the disk: concurrent tries of one session
// take its row in turn.
func (s *Store) CountAttempt(ctx context.Context, session myaccount.SessionRef, max int) error {
	var counted bool
	err := s.sessionWrite(ctx, s.q.countAttempt, []any{session.ID, session.ExpiresAt, max}, &counted)
	if err == nil && !counted {
		return myaccount.ErrSessionUsed
	}
	return err
}

// sessionWrite runs query, which writes one session record and returns one
// row or none, into dst, in a transaction whose commit does not wait for the
// disk. It sweeps expired records now and then.
func (s *Store) sessionWrite(ctx context.Context, query string, args []any, dst any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return s.fail(ctx, err)
	}
	defer conn.Release()
	b := &pgx.Batch{}
	b.Queue(s.q.noFlush)
	b.Queue(query, args...)
	br := conn.SendBatch(ctx, b)
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(dst)
	}
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if err != nil {
		return s.fail(ctx, err)
	}
	s.sweepNow(ctx, conn)
	return nil
}

// sweepNow counts one session record written, and every sweepEvery-th time
// deletes up to sweepBatch expired records, without waiting for the disk. A
// failure of that cleanup is ignored: the next one catches up.
func (s *Store) sweepNow(ctx context.Context, conn *pgxpool.Conn) {
	if s.writes.Add(1)%sweepEvery != 0 {
		return
	}
	b := &pgx.Batch{}
	b.Queue(s.q.noFlush)
	b.Queue(s.q.sweepSessions, time.Now())
	_ = conn.SendBatch(ctx, b).Close()
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
