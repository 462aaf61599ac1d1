package pgstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/jackc/pgx/v5"
)

// maxFlowsPerUser bounds the unexpired connect flows of one user; a person
// starts a handful.
const maxFlowsPerUser = 100

const flowColumns = `handle, id, issuer, user_id, expires_at, sealed`

const accountColumns = `issuer, user_id, id, connection, subject, scopes, created_at,
	expires_at, revoked, tokens, version`

type connectedQueries struct {
	createFlow, getFlow, replaceFlow, deleteFlow, spendFlow string
	updateAccount, countAccounts, insertAccount             string
	listAccounts, getAccount, deleteAccount, swapTokens     string
}

func newConnectedQueries(table func(string) string) connectedQueries {
	flows, accounts := table("myaccount_connect_flows"), table("myaccount_connected_accounts")
	return connectedQueries{
		// Expired flows are swept, a few at a time, as new ones arrive; the
		// per-user bound is checked in the same statement.
		createFlow: `WITH swept AS (
				DELETE FROM ` + flows + ` WHERE handle IN (
					SELECT handle FROM ` + flows + ` WHERE expires_at <= $7
					ORDER BY expires_at LIMIT 20 FOR UPDATE SKIP LOCKED)
			), room AS (
				SELECT count(*) < ` + strconv.Itoa(maxFlowsPerUser) + ` AS ok FROM ` + flows + `
				WHERE issuer = $3 AND user_id = $4 AND expires_at > $7
			)
			INSERT INTO ` + flows + ` (` + flowColumns + `)
			SELECT $1, $2, $3, $4, $5, $6 FROM room WHERE room.ok RETURNING 1`,
		getFlow: `SELECT ` + flowColumns + ` FROM ` + flows + ` WHERE handle = $1 AND expires_at > $2`,
		// The row moves to its new handle only if it still has the old one:
		// of concurrent steps, the first to update it wins.
		replaceFlow: `UPDATE ` + flows + ` SET handle = $3, expires_at = $4, sealed = $5
			WHERE handle = $1 AND id = $2 AND expires_at > $6`,
		deleteFlow: `DELETE FROM ` + flows + ` WHERE handle = $1`,
		spendFlow:  `DELETE FROM ` + flows + ` WHERE handle = $1 AND expires_at > $2`,
		updateAccount: `UPDATE ` + accounts + ` SET scopes = $5, expires_at = $6, tokens = $7,
				revoked = false, version = version + 1
			WHERE issuer = $1 AND user_id = $2 AND connection = $3 AND subject = $4
			RETURNING ` + accountColumns,
		countAccounts: `SELECT count(*) FROM ` + accounts + ` WHERE issuer = $1 AND user_id = $2`,
		insertAccount: `INSERT INTO ` + accounts + ` (` + accountColumns + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, $9, 0) RETURNING ` + accountColumns,
		listAccounts: `SELECT ` + accountColumns + ` FROM ` + accounts + `
			WHERE issuer = $1 AND user_id = $2 ORDER BY created_at, id`,
		getAccount:    `SELECT ` + accountColumns + ` FROM ` + accounts + ` WHERE issuer = $1 AND user_id = $2 AND id = $3`,
		deleteAccount: `DELETE FROM ` + accounts + ` WHERE issuer = $1 AND user_id = $2 AND id = $3`,
		// The swap and whether the account exists, in one statement.
		swapTokens: `WITH swapped AS (
				UPDATE ` + accounts + ` SET tokens = $5, revoked = $6,
					expires_at = coalesce($7, expires_at), version = version + 1
				WHERE issuer = $1 AND user_id = $2 AND id = $3 AND version = $4
				RETURNING 1
			)
			SELECT EXISTS (SELECT FROM swapped),
				EXISTS (SELECT FROM ` + accounts + ` WHERE issuer = $1 AND user_id = $2 AND id = $3)`,
	}
}

// exec runs fn on a pooled connection, wrapping its error for the caller.
func (s *Store) exec(ctx context.Context, fn func(conn *pgx.Conn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return s.fail(ctx, err)
	}
	defer conn.Release()
	err = fn(conn.Conn())
	var sentinel bool
	for _, e := range []error{myaccount.ErrNotFound, myaccount.ErrSessionUsed, myaccount.ErrLimitReached, myaccount.ErrRateLimited} {
		sentinel = sentinel || errors.Is(err, e)
	}
	if sentinel {
		return err
	}
	return s.fail(ctx, err)
}

// CreateConnectFlow implements [myaccount.Store]. One statement sweeps a
// few expired flows, counts the user's and inserts, under the user's
// advisory lock: at READ COMMITTED two concurrent creates would otherwise
// both count the same flows and pass the bound together.
func (s *Store) CreateConnectFlow(ctx context.Context, f *myaccount.ConnectFlow) error {
	return s.exec(ctx, func(conn *pgx.Conn) error {
		return pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, s.q.lockUser, lockClass, userLockKey(f.Issuer, f.UserID)); err != nil {
				return err
			}
			var one int
			err := tx.QueryRow(ctx, s.cq.createFlow, f.Handle, f.ID, f.Issuer, f.UserID, f.ExpiresAt, f.Sealed, time.Now()).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				return myaccount.ErrRateLimited
			}
			return err
		})
	})
}

// ConnectFlow implements [myaccount.Store].
func (s *Store) ConnectFlow(ctx context.Context, handle string) (*myaccount.ConnectFlow, error) {
	var f myaccount.ConnectFlow
	err := s.exec(ctx, func(conn *pgx.Conn) error {
		err := conn.QueryRow(ctx, s.cq.getFlow, handle, time.Now()).Scan(&f.Handle, &f.ID, &f.Issuer, &f.UserID, &f.ExpiresAt, &f.Sealed)
		if errors.Is(err, pgx.ErrNoRows) {
			return myaccount.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// ReplaceConnectFlow implements [myaccount.Store] with one
// UPDATE of the row that still has the old handle.
func (s *Store) ReplaceConnectFlow(ctx context.Context, handle string, next *myaccount.ConnectFlow) error {
	return s.exec(ctx, func(conn *pgx.Conn) error {
		tag, err := conn.Exec(ctx, s.cq.replaceFlow, handle, next.ID, next.Handle, next.ExpiresAt, next.Sealed, time.Now())
		if err == nil && tag.RowsAffected() == 0 {
			return myaccount.ErrSessionUsed
		}
		return err
	})
}

// DeleteConnectFlow implements [myaccount.Store].
func (s *Store) DeleteConnectFlow(ctx context.Context, handle string) error {
	return s.exec(ctx, func(conn *pgx.Conn) error {
		tag, err := conn.Exec(ctx, s.cq.deleteFlow, handle)
		if err == nil && tag.RowsAffected() == 0 {
			return myaccount.ErrSessionUsed
		}
		return err
	})
}

// CompleteConnectFlow implements [myaccount.Store]. It is one
// transaction under the user's advisory lock (the one CreateMethod takes), so
// concurrent completes count the user's accounts in turn: the flow is
// deleted, then the account updated, or counted and inserted.
func (s *Store) CompleteConnectFlow(ctx context.Context, handle string, a *myaccount.ConnectedAccount, limit int) (*myaccount.ConnectedAccount, error) {
	var out *myaccount.ConnectedAccount
	err := s.exec(ctx, func(conn *pgx.Conn) error {
		return pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, s.q.lockUser, lockClass, userLockKey(a.Issuer, a.UserID)); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, s.cq.spendFlow, handle, time.Now())
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return myaccount.ErrSessionUsed
			}
			expires := nullTime(a.ExpiresAt)
			out, err = readAccount(tx.Query(ctx, s.cq.updateAccount, a.Issuer, a.UserID, a.Connection, a.Subject, nonNilStrings(a.Scopes), expires, a.Tokens))
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			var count int
			if err := tx.QueryRow(ctx, s.cq.countAccounts, a.Issuer, a.UserID).Scan(&count); err != nil {
				return err
			}
			if count >= limit {
				return myaccount.ErrLimitReached
			}
			out, err = readAccount(tx.Query(ctx, s.cq.insertAccount, a.Issuer, a.UserID, a.ID, a.Connection, a.Subject,
				nonNilStrings(a.Scopes), a.CreatedAt, expires, a.Tokens))
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListConnectedAccounts implements [myaccount.Store].
func (s *Store) ListConnectedAccounts(ctx context.Context, issuer, userID string) ([]*myaccount.ConnectedAccount, error) {
	var out []*myaccount.ConnectedAccount
	err := s.exec(ctx, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, s.cq.listAccounts, issuer, userID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scanAccount)
		return err
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []*myaccount.ConnectedAccount{}
	}
	return out, nil
}

// GetConnectedAccount implements [myaccount.Store].
func (s *Store) GetConnectedAccount(ctx context.Context, issuer, userID, id string) (*myaccount.ConnectedAccount, error) {
	var out *myaccount.ConnectedAccount
	err := s.exec(ctx, func(conn *pgx.Conn) error {
		var err error
		out, err = readAccount(conn.Query(ctx, s.cq.getAccount, issuer, userID, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return myaccount.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteConnectedAccount implements [myaccount.Store].
func (s *Store) DeleteConnectedAccount(ctx context.Context, issuer, userID, id string) error {
	return s.exec(ctx, func(conn *pgx.Conn) error {
		tag, err := conn.Exec(ctx, s.cq.deleteAccount, issuer, userID, id)
		if err == nil && tag.RowsAffected() == 0 {
			return myaccount.ErrNotFound
		}
		return err
	})
}

// SwapConnectedAccountTokens implements [myaccount.Store]
// with one UPDATE ... WHERE version = $4: of concurrent swaps from one
// version, the first to take the row wins and the others find it moved on.
func (s *Store) SwapConnectedAccountTokens(ctx context.Context, issuer, userID, id string, version int64, tokens []byte, revoked bool, expiresAt time.Time) (bool, error) {
	var swapped, exists bool
	err := s.exec(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, s.cq.swapTokens, issuer, userID, id, version, tokens, revoked, nullTime(expiresAt)).Scan(&swapped, &exists)
	})
	switch {
	case err != nil:
		return false, err
	case !exists:
		return false, myaccount.ErrNotFound
	}
	return swapped, nil
}

func scanAccount(row pgx.CollectableRow) (*myaccount.ConnectedAccount, error) {
	var a myaccount.ConnectedAccount
	var expires *time.Time
	err := row.Scan(&a.Issuer, &a.UserID, &a.ID, &a.Connection, &a.Subject, &a.Scopes, &a.CreatedAt,
		&expires, &a.Revoked, &a.Tokens, &a.Version)
	if expires != nil {
		a.ExpiresAt = *expires
	}
	return &a, err
}

// readAccount reads the one account rows returns; pgx.ErrNoRows for none.
func readAccount(rows pgx.Rows, err error) (*myaccount.ConnectedAccount, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectExactlyOneRow(rows, scanAccount)
}

// nonNilStrings is a list as PostgreSQL's NOT NULL array column takes it: an
// empty array for none (pgx sends a nil slice as NULL).
func nonNilStrings(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
