package myaccount

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParseName checks parseName on raw JSON strings, seeded from
// testdata/names.txt: a name it accepts is what encoding/json decodes, valid
// UTF-8 without the characters it refuses and not blank; anything else is a
// 400 pointing at /name.
func FuzzParseName(f *testing.F) {
	file, err := os.Open("testdata/names.txt")
	if err != nil {
		f.Fatal(err)
	}
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		if line := scanner.Text(); !strings.HasPrefix(line, "#") {
			f.Add([]byte(line))
		}
	}
	file.Close()
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) || kindOf(raw) != kindString {
			return // the body checks refuse it before parseName
		}
		name, err := parseName(raw)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || len(e.ValidationErrors) != 1 || e.ValidationErrors[0].Pointer != "/name" {
				t.Fatalf("parseName(%q): %v", raw, err)
			}
			return
		}
		var decoded string
		if err := json.Unmarshal(raw, &decoded); err != nil || decoded != name {
			t.Fatalf("parseName(%q) = %q, encoding/json gives %q", raw, name, decoded)
		}
		if !utf8.ValidString(name) || strings.ContainsRune(name, utf8.RuneError) && !strings.Contains(string(raw), "\uFFFD") && !strings.Contains(strings.ToLower(string(raw)), `\ufffd`) {
			t.Fatalf("parseName(%q) = %q: not the text sent", raw, name)
		}
		n := utf8.RuneCountInString(name)
		visible := false
		for _, c := range name {
			if unicode.IsControl(c) || unicode.Is(unicode.Bidi_Control, c) || c == '\u2028' || c == '\u2029' {
				t.Fatalf("parseName(%q) accepted %U", raw, c)
			}
			visible = visible || !invisible(c)
		}
		if n < 1 || n > maxNameLength || !visible {
			t.Fatalf("parseName(%q) accepted %q", raw, name)
		}
	})
}
