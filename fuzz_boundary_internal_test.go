package myaccount

import (
	"bufio"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// addSeeds adds each Go-quoted line of a testdata/boundary file to f;
// lines starting with # are comments.
func addSeeds(f *testing.F, name string) {
	file, err := os.Open("testdata/boundary/" + name)
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := strconv.Unquote(line)
		if err != nil {
			f.Fatalf("%s: %q: %v", name, line, err)
		}
		f.Add(s)
	}
	if err := scanner.Err(); err != nil {
		f.Fatal(err)
	}
}

// FuzzAuthSession: an auth_session that decodes is the one spelling of its
// bytes, so no two strings name one session.
func FuzzAuthSession(f *testing.F) {
	addSeeds(f, "auth-sessions.txt")
	f.Fuzz(func(t *testing.T, s string) {
		b, ok := decodeAuthSession(s)
		if !ok {
			return
		}
		if again := strictB64URL.EncodeToString(b); again != s {
			t.Fatalf("%q decodes to bytes whose spelling is %q", s, again)
		}
		if sessionID(b) != sessionID([]byte(string(b))) || len(sessionID(b)) != 64 {
			t.Fatalf("session id of %q", s)
		}
	})
}

var methodIDGrammar = regexp.MustCompile(`^(` + strings.Join(factorTypes, "|") + `)\|dev_[A-Za-z0-9]{16}$`)

// FuzzMethodID: a path segment gives a method id only when the grammar
// produces it, whatever its escapes.
func FuzzMethodID(f *testing.F) {
	addSeeds(f, "method-ids.txt")
	f.Fuzz(func(t *testing.T, segment string) {
		name, raw, ok := matchPath("/me/v1/authentication-methods/" + segment + "/verify")
		if !ok || name != "authentication-methods/{id}/verify" {
			return
		}
		id, ok := parseMethodID(raw)
		if !ok {
			if raw == passkeyVerifyID || methodIDGrammar.MatchString(raw) {
				t.Fatalf("%q refused", raw)
			}
			return
		}
		if id.String() != raw || (raw != passkeyVerifyID && !methodIDGrammar.MatchString(raw)) {
			t.Fatalf("%q (from %q) parsed as %q", raw, segment, id.String())
		}
		if !isType(id.typ()) {
			t.Fatalf("%q has type %q", raw, id.typ())
		}
	})
}

// forbidden is the text rule, written out with the unicode package.
func forbidden(c rune) bool {
	return unicode.In(c, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// FuzzText: isText accepts exactly valid UTF-8 without Cc, Cf, Zl or Zp;
// cleanText always gives such text, and leaves such text alone.
func FuzzText(f *testing.F) {
	addSeeds(f, "text.txt")
	f.Fuzz(func(t *testing.T, s string) {
		want := utf8.ValidString(s) && strings.IndexFunc(s, forbidden) < 0
		if isText(s) != want {
			t.Fatalf("isText(%q) = %v", s, !want)
		}
		clean := cleanText(s)
		if !isText(clean) || cleanText(clean) != clean || (want && clean != s) {
			t.Fatalf("cleanText(%q) = %q", s, clean)
		}
		if len(clean) > 3*len(s) { // at worst each byte becomes a 3-byte U+FFFD
			t.Fatalf("cleanText(%q) grew to %q", s, clean)
		}
	})
}

// FuzzEmail: an accepted address is the text sent, passes the text rule and
// has one "@" part of each side; a refused one is a 400 at /email.
func FuzzEmail(f *testing.F) {
	addSeeds(f, "text.txt")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := checkEmail(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || len(e.ValidationErrors) != 1 || e.ValidationErrors[0].Pointer != "/email" {
				t.Fatalf("checkEmail(%q): %v", s, err)
			}
			return
		}
		local, domain, ok := strings.Cut(got, "@")
		if got != s || !isText(got) || len(got) > maxEmailLength || !ok || local == "" || !strings.Contains(domain, ".") {
			t.Fatalf("checkEmail(%q) = %q", s, got)
		}
	})
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// FuzzPhoneNumber: an accepted number is E.164 as sent; a refused one is a
// 400 at /phone_number.
func FuzzPhoneNumber(f *testing.F) {
	addSeeds(f, "phones.txt")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := checkPhoneNumber(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || e.ValidationErrors[0].Pointer != "/phone_number" {
				t.Fatalf("checkPhoneNumber(%q): %v", s, err)
			}
			return
		}
		if got != s || !e164.MatchString(got) {
			t.Fatalf("checkPhoneNumber(%q) = %q", s, got)
		}
	})
}

// FuzzNormalizePassword: a password has one form for the rules and the hash,
// whichever Unicode normal form the client sent it in.
func FuzzNormalizePassword(f *testing.F) {
	addSeeds(f, "passwords.txt")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // the body checks refuse it first
		}
		n := normalizePassword(s)
		if !norm.NFKC.IsNormalString(n) || normalizePassword(n) != n {
			t.Fatalf("normalizePassword(%q) = %q: not stable", s, n)
		}
		for _, form := range []norm.Form{norm.NFC, norm.NFD, norm.NFKD} {
			if other := normalizePassword(form.String(s)); other != n {
				t.Fatalf("%q and its %v form %q normalise apart: %q, %q", s, form, form.String(s), n, other)
			}
		}
	})
}
