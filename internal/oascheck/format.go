package oascheck

import (
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// dateTimeRE is RFC 3339 section 5.6 "date-time" (T and Z in either case).
var dateTimeRE = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$`)

// isDateTime reports whether s is an RFC 3339 date-time, with field ranges checked
// (days per month, leap years, and a leap second only at 23:59:60 UTC).
func isDateTime(s string) bool {
	m := dateTimeRE.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	year, month, day, hour, minute, sec := n(1), n(2), n(3), n(4), n(5), n(6)
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 60 {
		return false
	}
	if day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return false
	}
	offset := 0
	if m[7] != "" {
		oh, om := n(8), n(9)
		if oh > 23 || om > 59 {
			return false
		}
		offset = oh*60 + om
		if m[7] == "-" {
			offset = -offset
		}
	}
	if sec == 60 {
		utc := ((hour*60+minute-offset)%(24*60) + 24*60) % (24 * 60)
		if utc != 23*60+59 {
			return false
		}
	}
	return true
}

// isAbsoluteURI reports whether s is an RFC 3986 URI (with a scheme; a fragment is
// allowed): only characters the RFC permits, well-formed percent-escapes, and a
// scheme that starts with a letter.
func isAbsoluteURI(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
			continue
		}
		if !isURIChar(c) {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return false
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isURIChar reports whether c is an RFC 3986 unreserved or reserved character.
func isURIChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', // unreserved
		':', '/', '?', '#', '[', ']', '@', // gen-delims
		'!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=': // sub-delims
		return true
	}
	return false
}
