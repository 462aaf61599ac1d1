package myaccount

import (
	"strings"
)

// methodID is a method id read from a request path. Only parseMethodID makes
// one, and only from the id grammar: "{type}|dev_" and 16 letters or digits,
// {type} one of the contract's types, or "passkey|new", where a passkey
// enrollment is verified. Whatever else a client puts in a path (NUL, bytes
// that are not UTF-8, an overlong encoding, another length) is no method's id
// and is answered 404 before any store is asked.
type methodID struct{ s string }

// methodIDSuffixLength is how many letters and digits follow "|dev_".
const methodIDSuffixLength = 16

// parseMethodID reads s, the path segment already unescaped.
func parseMethodID(s string) (methodID, bool) {
	if s == passkeyVerifyID {
		return methodID{s}, true
	}
	typ, rest, ok := strings.Cut(s, "|dev_")
	if !ok || !isType(typ) || len(rest) != methodIDSuffixLength {
		return methodID{}, false
	}
	for i := 0; i < len(rest); i++ {
		if !strings.ContainsRune(alphanumerics, rune(rest[i])) {
			return methodID{}, false
		}
	}
	return methodID{s}, true
}

// String returns the id as stores know it.
func (id methodID) String() string { return id.s }

// typ is the type the id names.
func (id methodID) typ() string {
	typ, _, _ := strings.Cut(id.s, "|")
	return typ
}
