package myaccount

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameLength is the longest name a method may have, in characters.
const maxNameLength = 100

// parseName decodes and checks the "name" member of a PATCH body, raw as it
// came in the JSON. A name is shown to the user as the label of a method, so it
// must not be able to pass for another: no bytes that are not UTF-8 and no
// unpaired surrogate escapes (which decoding would quietly turn into U+FFFD),
// no control characters, no bidirectional controls (U+202E can make
// "evil.exe" read as "exe.live"), no line or paragraph separators, no other
// format characters (zero-width spaces and joiners, a BOM: the text rule of
// isText), and not blank once the characters that show nothing (spaces,
// variation selectors, fillers) are taken out. Errors are 400s pointing at /name.
func parseName(raw json.RawMessage) (string, error) {
	if !utf8.Valid(raw) || hasLoneSurrogate(raw) {
		return "", bodyError("/name", "must be valid UTF-8, without unpaired surrogates")
	}
	name := unquote(raw)
	if n := utf8.RuneCountInString(name); n < 1 || n > maxNameLength {
		return "", bodyError("/name", "must be 1 to 100 characters long")
	}
	visible := false
	for _, c := range name {
		switch {
		case unicode.IsControl(c):
			return "", bodyError("/name", "must not contain control characters")
		case unicode.Is(unicode.Bidi_Control, c):
			return "", bodyError("/name", "must not contain bidirectional control characters (such as U+202E)")
		case c == '\u2028' || c == '\u2029':
			return "", bodyError("/name", "must not contain line or paragraph separators")
		case notText.Contains(c):
			return "", bodyError("/name", "must not contain format characters (such as zero-width spaces and joiners)")
		}
		visible = visible || !invisible(c)
	}
	if !visible {
		return "", bodyError("/name", "must not be blank (spaces and invisible characters alone)")
	}
	return name, nil
}

// invisible reports whether c shows nothing on its own: white space, format
// characters (zero-width space and joiners, the BOM, soft hyphen), variation
// selectors, the combining grapheme joiner and the Hangul fillers.
func invisible(c rune) bool {
	return unicode.IsSpace(c) || unicode.Is(unicode.Cf, c) || unicode.Is(unicode.Variation_Selector, c) ||
		c == '\u034f' || c == '\u115f' || c == '\u1160' || c == '\u3164' || c == '\uffa0'
}

// hasLoneSurrogate reports whether a JSON string holds a \u escape of a
// surrogate that is not part of a high-low pair. It reads the raw text because
// encoding/json replaces such escapes with U+FFFD instead of failing.
func hasLoneSurrogate(raw []byte) bool {
	s := string(raw)
	for {
		i := strings.Index(s, `\`)
		if i < 0 || i+1 >= len(s) {
			return false
		}
		if s[i+1] != 'u' {
			s = s[i+2:] // an escape of one character, such as \\ or \"
			continue
		}
		c, ok := hexEscape(s[i:])
		if !ok {
			return false // not valid JSON; the decoder has rejected it already
		}
		s = s[i+6:]
		switch {
		case c >= 0xdc00 && c <= 0xdfff:
			return true // a low surrogate with no high one before it
		case c >= 0xd800 && c <= 0xdbff:
			low, ok := hexEscape(s)
			if !ok || low < 0xdc00 || low > 0xdfff {
				return true
			}
			s = s[6:]
		}
	}
}

// hexEscape reads the code unit of a \uXXXX escape at the start of s.
func hexEscape(s string) (rune, bool) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return 0, false
	}
	var c rune
	for _, h := range s[2:6] {
		switch {
		case h >= '0' && h <= '9':
			c = c<<4 | (h - '0')
		case h >= 'a' && h <= 'f':
			c = c<<4 | (h - 'a' + 10)
		case h >= 'A' && h <= 'F':
			c = c<<4 | (h - 'A' + 10)
		default:
			return 0, false
		}
	}
	return c, true
}
