package pgstore

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// Methods are read from their rows' wire bytes when the rows come in the
// layout below, which is what pgx asks PostgreSQL for with its default
// statement cache: text columns as text, the others in binary. Reading them
// directly spares pgx's general scanning (ListMethods of 20 passkeys: 156
// allocations instead of 464, 15 KB instead of 27). Rows in any other layout (another
// QueryExecMode, a changed column type) go through pgx's scanning instead.
//
// It pays for itself end to end: with pgx's CollectRows alone, a list of 20
// passkeys over HTTP (BenchmarkPGHTTP) made about 330 more allocations per
// request, 1.43M to 2.74M allocations per paired round (+92%), and took 23%
// more CPU per request on the pgstore side (bench/README.md, "Hand-written
// codecs").

// column is one of methodColumns as it comes over the wire.
type column struct {
	oid    uint32
	format int16
}

var (
	textColumn      = column{pgtype.TextOID, pgtype.TextFormatCode}
	byteaColumn     = column{pgtype.ByteaOID, pgtype.BinaryFormatCode}
	timeColumn      = column{pgtype.TimestamptzOID, pgtype.BinaryFormatCode}
	int8Column      = column{pgtype.Int8OID, pgtype.BinaryFormatCode}
	boolColumn      = column{pgtype.BoolOID, pgtype.BinaryFormatCode}
	textArrayColumn = column{pgtype.TextArrayOID, pgtype.BinaryFormatCode}
	byteaArray      = column{pgtype.ByteaArrayOID, pgtype.BinaryFormatCode}
)

// rawLayout is methodColumns' layout, in their order.
var rawLayout = [...]column{
	textColumn, textColumn, textColumn, textColumn, textColumn, textColumn, // issuer … identity_user_id
	timeColumn,                            // created_at
	byteaColumn, byteaColumn, byteaColumn, // credential_id, public_key, aaguid
	int8Column, boolColumn, boolColumn, textArrayColumn, // sign_count, backup_eligible, backed_up, transports
	textColumn, textColumn, textColumn, byteaColumn, // attestation_format, user_agent, relying_party_id, user_handle
	byteaColumn, textColumn, textColumn, byteaArray, timeColumn, // secret … secret_set_at
	int8Column, // totp_step
}

// readMethods reads every row of rows, of methodColumns; err is the query's
// own, returned as it is.
func readMethods(rows pgx.Rows, err error) ([]*myaccount.Method, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !inRawLayout(rows.FieldDescriptions()) {
		return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*myaccount.Method, error) { return scanMethod(row) })
	}
	var out []*myaccount.Method
	var prev *myaccount.Method
	for rows.Next() {
		m, err := decodeMethod(rows.RawValues(), prev)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
		prev = m
	}
	return out, rows.Err()
}

// readMethod reads the one row of rows, or gives pgx.ErrNoRows.
func readMethod(rows pgx.Rows, err error) (*myaccount.Method, error) {
	methods, err := readMethods(rows, err)
	if err == nil && len(methods) == 0 {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return nil, err
	}
	return methods[0], nil
}

func inRawLayout(fields []pgconn.FieldDescription) bool {
	if len(fields) != len(rawLayout) {
		return false
	}
	for i, f := range fields {
		if (column{f.DataTypeOID, f.Format}) != rawLayout[i] {
			return false
		}
	}
	return true
}

// errMalformed is a row whose bytes do not fit its column's type.
var errMalformed = errors.New("pgstore: malformed row")

// decodeMethod decodes one row in rawLayout. Strings equal to prev's are
// shared with it, and the row's byte values share one allocation, each slice
// capped at its own length.
func decodeMethod(v [][]byte, prev *myaccount.Method) (*myaccount.Method, error) {
	if prev == nil {
		prev = &myaccount.Method{}
	}
	m := &myaccount.Method{}
	p, pp := &m.WebAuthn, &prev.WebAuthn
	m.Issuer, m.UserID, m.ID = reuse(v[0], prev.Issuer), reuse(v[1], prev.UserID), string(v[2])
	m.Type, m.Name, m.IdentityUserID = reuse(v[3], prev.Type), string(v[4]), reuse(v[5], prev.IdentityUserID)
	p.AttestationFormat, p.UserAgent = reuse(v[14], pp.AttestationFormat), reuse(v[15], pp.UserAgent)
	p.RelyingPartyID, m.Destination, m.PreferredChannel = reuse(v[16], pp.RelyingPartyID), string(v[19]), reuse(v[20], prev.PreferredChannel)

	var err error
	if m.CreatedAt, err = decodeTime(v[6]); err != nil {
		return nil, err
	}
	if v[22] != nil {
		if m.SecretSetAt, err = decodeTime(v[22]); err != nil {
			return nil, err
		}
	}
	if len(v[10]) != 8 || len(v[11]) != 1 || len(v[12]) != 1 || len(v[23]) != 8 {
		return nil, errMalformed
	}
	m.LastTOTPStep = int64(binary.BigEndian.Uint64(v[23]))
	p.SignCount = uint32(binary.BigEndian.Uint64(v[10]))
	p.BackupEligible, p.BackedUp = v[11][0] != 0, v[12][0] != 0

	bytea := [...]int{7, 8, 9, 17, 18}
	size := 0
	for _, i := range bytea {
		size += len(v[i])
	}
	backing := make([]byte, 0, size)
	take := func(i int) []byte {
		if v[i] == nil {
			return nil
		}
		start := len(backing)
		backing = append(backing, v[i]...)
		return backing[start:len(backing):len(backing)]
	}
	p.CredentialID, p.PublicKey, p.AAGUID, p.UserHandle, m.Secret = take(7), take(8), take(9), take(17), take(18)

	if v[13] != nil {
		p.Transports = []string{} // as pgx scans an empty array
	}
	if err := eachArrayElement(v[13], func(b []byte) { p.Transports = append(p.Transports, string(b)) }); err != nil {
		return nil, err
	}
	if err := eachArrayElement(v[21], func(b []byte) { m.SecretHistory = append(m.SecretHistory, append([]byte(nil), b...)) }); err != nil {
		return nil, err
	}
	return m, nil
}

// reuse returns b as a string, prev itself when they are equal.
func reuse(b []byte, prev string) string {
	if string(b) == prev {
		return prev
	}
	return string(b)
}

// postgresEpoch is the zero of PostgreSQL's binary timestamps, in Unix
// microseconds.
const postgresEpoch = 946_684_800_000_000

// decodeTime decodes a binary timestamptz: microseconds since 2000-01-01 UTC.
func decodeTime(b []byte) (time.Time, error) {
	if len(b) != 8 {
		return time.Time{}, errMalformed
	}
	us := int64(binary.BigEndian.Uint64(b))
	if us == math.MaxInt64 || us == math.MinInt64 { // infinity: no method has it
		return time.Time{}, errMalformed
	}
	return time.UnixMicro(us + postgresEpoch).UTC(), nil
}

// eachArrayElement calls fn with each element of a binary one-dimensional
// array, NULL elements skipped; a NULL or empty array has none.
func eachArrayElement(b []byte, fn func([]byte)) error {
	if b == nil {
		return nil
	}
	if len(b) < 12 {
		return errMalformed
	}
	dims := binary.BigEndian.Uint32(b)
	if dims == 0 {
		return nil
	}
	if dims != 1 || len(b) < 20 {
		return errMalformed
	}
	n := int64(binary.BigEndian.Uint32(b[12:]))
	b = b[20:]
	for range n {
		if len(b) < 4 {
			return errMalformed
		}
		size := int32(binary.BigEndian.Uint32(b))
		b = b[4:]
		if size < 0 {
			continue
		}
		if int(size) > len(b) {
			return errMalformed
		}
		fn(b[:size])
		b = b[size:]
	}
	if len(b) != 0 {
		return errMalformed
	}
	return nil
}

// scanMethod reads a row of methodColumns through pgx's scanning, for rows
// not in rawLayout.
func scanMethod(row pgx.Row) (*myaccount.Method, error) {
	m := &myaccount.Method{}
	p := &m.WebAuthn
	var signCount int64
	var setAt *time.Time
	err := row.Scan(&m.Issuer, &m.UserID, &m.ID, &m.Type, &m.Name, &m.IdentityUserID, &m.CreatedAt,
		&p.CredentialID, &p.PublicKey, &p.AAGUID, &signCount, &p.BackupEligible, &p.BackedUp, &p.Transports,
		&p.AttestationFormat, &p.UserAgent, &p.RelyingPartyID, &p.UserHandle,
		&m.Secret, &m.Destination, &m.PreferredChannel, &m.SecretHistory, &setAt, &m.LastTOTPStep)
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
