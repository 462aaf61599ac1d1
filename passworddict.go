package myaccount

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
)

// commonPasswordList is the dictionary of the password policy, en_10k: the
// 10,000 passwords people pick most, lowercase, one a line (see the file's
// header for where they come from).
//
//go:embed passwordlist/en_10k.txt
var commonPasswordList string

// commonPasswords is the list as a set, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]bool {
	set := make(map[string]bool, 10_000)
	for line := range strings.Lines(commonPasswordList) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			set[line] = true
		}
	}
	return set
})

// isCommonPassword reports whether password, ignoring case, is on the list,
// or is an entry followed only by digits and symbols ("Password123!").
func isCommonPassword(password string) bool {
	lower := strings.ToLower(password)
	set := commonPasswords()
	if set[lower] {
		return true
	}
	stem := strings.TrimRightFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	return stem != "" && set[stem]
}
