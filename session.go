package myaccount

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// enrollState is what an enrollment carries from its first step to its second.
// It travels sealed inside the auth_session: the server keeps nothing between
// the steps, and only a holder of the key ring can read or forge it.
type enrollState struct {
	Type      string
	MethodID  string // the id the method gets when verified
	Identity  string // its identity_user_id
	ExpiresAt time.Time
	Data      []byte // the method family's own state
}

// sessionFormat is the first byte of a sealed enrollState. State with another
// first byte is not ours to read: its auth_session is invalid.
const sessionFormat = 1

// maxAuthSessionLength bounds an auth_session before any work is spent on it;
// the largest this package writes is well under a kilobyte.
const maxAuthSessionLength = 4096

// appendSession appends the auth_session that carries st for the claims'
// user: the issuer and subject are authenticated with it, so it opens for no
// one else.
func (a *API) appendSession(b []byte, claims *Claims, st *enrollState) []byte {
	plain := append(make([]byte, 0, 64+len(st.Type)+len(st.MethodID)+len(st.Identity)+len(st.Data)), sessionFormat)
	plain = binary.BigEndian.AppendUint64(plain, uint64(st.ExpiresAt.UnixMilli()))
	plain = appendFields(plain, []byte(st.Type), []byte(st.MethodID), []byte(st.Identity), st.Data)
	return b64url.AppendEncode(b, a.keys.seal(nil, plain, sessionContext(claims)))
}

// openSession reverses appendSession. It gives [errSessionInvalid] for anything
// it did not seal for this user, and for an expired session.
func (a *API) openSession(claims *Claims, authSession string) (*enrollState, SessionRef, error) {
	if len(authSession) > maxAuthSessionLength {
		return nil, SessionRef{}, errSessionInvalid
	}
	sealed, ok := decodeAuthSession(authSession)
	if !ok {
		return nil, SessionRef{}, errSessionInvalid
	}
	plain, err := a.keys.open(sealed, sessionContext(claims))
	if err != nil || len(plain) < 9 || plain[0] != sessionFormat {
		return nil, SessionRef{}, errSessionInvalid
	}
	fields, ok := readFields(plain[9:], 4)
	if !ok {
		return nil, SessionRef{}, errSessionInvalid
	}
	st := &enrollState{
		ExpiresAt: time.UnixMilli(int64(binary.BigEndian.Uint64(plain[1:9]))),
		Type:      string(fields[0]), MethodID: string(fields[1]), Identity: string(fields[2]), Data: fields[3],
	}
	if !time.Now().Before(st.ExpiresAt) {
		return nil, SessionRef{}, errSessionInvalid
	}
	ref := SessionRef{ID: sessionID(sealed), Issuer: claims.Issuer, UserID: claims.Subject, ExpiresAt: st.ExpiresAt}
	return st, ref, nil
}

// strictB64URL decodes the one spelling appendSession writes: unpadded
// base64url with zero unused trailing bits.
var strictB64URL = base64.RawURLEncoding.Strict()

// decodeAuthSession reads an auth_session in its one spelling. Go's decoder,
// strict or not, skips '\r' and '\n', so every byte is checked against the
// alphabet first: whitespace, padding and any other character refuse it, and
// the strict decoder refuses non-zero unused trailing bits. Two strings that
// decode to the same bytes are therefore the same string.
func decodeAuthSession(s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if !base64URLAlphabet[s[i]] {
			return nil, false
		}
	}
	b, err := strictB64URL.DecodeString(s)
	return b, err == nil && len(b) > 0
}

// base64URLAlphabet holds the bytes of unpadded base64url.
var base64URLAlphabet = func() (in [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		in[c] = true
	}
	return in
}()

// sessionID is how a store knows an auth_session: the SHA-256 of its decoded
// bytes, so a session is one record whatever the client sent, and what a
// store keeps cannot be turned back into a usable session.
func sessionID(sealed []byte) string {
	sum := sha256.Sum256(sealed)
	return hex.EncodeToString(sum[:])
}

func sessionContext(claims *Claims) []byte {
	return []byte("myaccount auth_session\x00" + claims.Issuer + "\x00" + claims.Subject)
}

// appendFields appends each field as a uvarint length and its bytes.
func appendFields(b []byte, fields ...[]byte) []byte {
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// readFields splits data written by appendFields into exactly n fields, which
// alias data; ok is false for anything else, a length written in more bytes
// than appendFields writes it included, so each value has one encoding.
func readFields(data []byte, n int) (fields [][]byte, ok bool) {
	fields = make([][]byte, n)
	var minimal [binary.MaxVarintLen64]byte
	for i := range fields {
		size, k := binary.Uvarint(data)
		if k <= 0 || size > uint64(len(data)-k) || k != binary.PutUvarint(minimal[:], size) {
			return nil, false
		}
		fields[i] = data[k : k+int(size) : k+int(size)]
		data = data[k+int(size):]
	}
	return fields, len(data) == 0
}
