package myaccount

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/rangetable"
)

// notText are the characters that no name, email address or user agent
// holds: controls (Cc), format characters (Cf: bidirectional overrides and
// isolates, zero-width spaces and joiners, the BOM, tag characters), and the
// line and paragraph separators (Zl, Zp). Each can make one string show as
// another ("support\u202e@moc.elgoog.com" reads as an address at google.com)
// or split a line where a log or a screen does not expect it.
var notText = runes.In(rangetable.Merge(unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp))

// isText reports whether s is valid UTF-8 without a character of notText:
// the one rule for the names and email addresses a client sends, which are
// refused (400 at their pointer) when it fails.
func isText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, notText.Contains) < 0
}

// cleanText is the same rule for text a client sends without choosing it, a
// User-Agent header: bytes that are not UTF-8 become U+FFFD and the
// characters of notText are removed.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, notText.Contains) < 0 {
		return s
	}
	clean, _, _ := transform.String(runes.Remove(notText), s)
	return clean
}

// normalizePassword is a password as every rule and every hash sees it: its
// NFKC form (NIST SP 800-63B section 5.1.1.2), so that the full-width
// "Ｐａｓｓｗｏｒｄ１２３!" is the common "Password123!", a decomposed "é" is the
// composed one, and a password's length is counted in the characters the
// user typed, however the client's keyboard encoded them.
func normalizePassword(password string) string {
	return norm.NFKC.String(password)
}
