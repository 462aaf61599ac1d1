package pgstore

import (
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/jackc/pgx/v5"
)

// readMethods reads every row of rows, of methodColumns, through pgx's
// scanning; err is the query's own, returned as it is.
func readMethods(rows pgx.Rows, err error) ([]*myaccount.Method, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*myaccount.Method, error) { return scanMethod(row) })
}

// readMethod reads the one row of rows, or gives pgx.ErrNoRows.
func readMethod(rows pgx.Rows, err error) (*myaccount.Method, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (*myaccount.Method, error) { return scanMethod(row) })
}

// scanMethod reads a row of methodColumns.
func scanMethod(row pgx.Row) (*myaccount.Method, error) {
	m := &myaccount.Method{}
	p := &m.WebAuthn
	var signCount int64
	var setAt *time.Time
	err := row.Scan(&m.Issuer, &m.UserID, &m.ID, &m.Type, &m.Name, &m.IdentityUserID, &m.CreatedAt,
		&p.CredentialID, &p.PublicKey, &p.AAGUID, &signCount, &p.BackupEligible, &p.BackedUp, &p.Transports,
		&p.AttestationFormat, &p.UserAgent, &p.RelyingPartyID, &p.UserHandle,
		&m.Secret, &m.Destination, &m.PreferredChannel, &m.SecretHistory, &setAt)
	if err != nil {
		return nil, err
	}
	if len(m.SecretHistory) == 0 {
		m.SecretHistory = nil
	}
	if setAt != nil {
		m.SecretSetAt = setAt.UTC()
	}
	m.CreatedAt = m.CreatedAt.UTC()
	p.SignCount = uint32(signCount)
	return m, nil
}
