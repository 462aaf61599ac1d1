package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
)

// enrollment is a 202 body of the demo's API.
type enrollment struct {
	ID           string `json:"id"`
	AuthSession  string `json:"auth_session"`
	BarcodeURI   string `json:"barcode_uri"`
	ManualCode   string `json:"manual_input_code"`
	RecoveryCode string `json:"recovery_code"`
}

// begin starts an enrollment and returns its 202 body.
func begin(t *testing.T, base, token, body string) enrollment {
	t.Helper()
	status, _, data := call(t, "POST", base+"/me/v1/authentication-methods", token, body)
	var e enrollment
	if err := json.Unmarshal(data, &e); status != 202 || err != nil || e.ID == "" {
		t.Fatalf("enrolling %s: %d %s", body, status, data)
	}
	return e
}

// verifyStatus finishes an enrollment and returns the status.
func verifyStatus(t *testing.T, base, token string, e enrollment, members string) int {
	t.Helper()
	status, _, _ := call(t, "POST", base+"/me/v1/authentication-methods/"+url.PathEscape(e.ID)+"/verify", token,
		`{"auth_session":"`+e.AuthSession+`"`+members+`}`)
	return status
}

// outboxLines reads the outbox file's lines, each as its members.
func outboxLines(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for line := range strings.SplitSeq(strings.TrimSuffix(string(data), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("outbox line %q: %v", line, err)
		}
		lines = append(lines, m)
	}
	return lines
}

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

func TestOutboxFileHasALinePerMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	earlier := `{"channel":"email","to":"earlier@example.com","code":"123456","sent_at":"2026-01-01T00:00:00.000Z"}` + "\n"
	if err := os.WriteFile(path, []byte(earlier), 0o600); err != nil {
		t.Fatal(err)
	}
	base, out := startDemo(t, "-tenant-rate", "0", "-user-rate", "0", "-outbox", path)
	if !strings.Contains(out.String(), "appended to "+path) {
		t.Errorf("the demo does not say where the codes go:\n%s", out)
	}
	token := devToken(t, base)
	start := time.Now().Add(-time.Second)
	email := begin(t, base, token, `{"type":"email","email":"carol@example.com"}`)
	phone := begin(t, base, token, `{"type":"phone","phone_number":"+442071838750","preferred_authentication_method":"voice"}`)
	sms := begin(t, base, token, `{"type":"phone","phone_number":"+14155550123"}`)

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), earlier) {
		t.Fatalf("the outbox lost what it held:\n%s", data)
	}
	lines := outboxLines(t, data)[1:]
	want := []struct{ channel, to string }{{"email", "carol@example.com"}, {"voice", "+442071838750"}, {"sms", "+14155550123"}}
	if len(lines) != len(want) {
		t.Fatalf("%d new lines, want %d:\n%s", len(lines), len(want), data)
	}
	for i, line := range lines {
		keys := make([]string, 0, len(line))
		for k := range line {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		code, _ := line["code"].(string)
		sentAt, err := time.Parse(time.RFC3339Nano, line["sent_at"].(string))
		if !slices.Equal(keys, []string{"channel", "code", "sent_at", "to"}) || line["channel"] != want[i].channel ||
			line["to"] != want[i].to || !sixDigits.MatchString(code) || err != nil ||
			sentAt.Before(start) || sentAt.After(time.Now()) || !strings.HasSuffix(line["sent_at"].(string), "Z") {
			t.Errorf("line %d: %v", i, line)
		}
	}
	// The codes of the file finish the enrollments.
	for i, e := range []enrollment{email, phone, sms} {
		if status := verifyStatus(t, base, token, e, `,"otp_code":"`+lines[i]["code"].(string)+`"`); status != 201 {
			t.Errorf("verifying %s with the outbox's code: %d", e.ID, status)
		}
	}
	// The page's view of the outbox: the same lines.
	status, h, body := call(t, "GET", base+"/dev/outbox", "", "")
	var view struct {
		Messages []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal(body, &view); status != 200 || err != nil || h.Get("Cache-Control") != "no-store" || len(view.Messages) != 3 {
		t.Fatalf("GET /dev/outbox: %d %v %s", status, h, body)
	}
	for i := range lines {
		if view.Messages[i]["code"] != lines[i]["code"] || view.Messages[i]["to"] != lines[i]["to"] {
			t.Errorf("the page's outbox %v, the file %v", view.Messages[i], lines[i])
		}
	}
}

func TestOutboxFileIsCreatedPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new-outbox.jsonl")
	base, _ := startDemo(t, "-outbox", path)
	begin(t, base, devToken(t, base), `{"type":"email","email":"carol@example.com"}`)
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the outbox file: %v %v", info, err)
	}
	if err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-outbox", filepath.Join(path, "not-a-dir", "x")}, &bytes.Buffer{}, nil); err == nil || !strings.Contains(err.Error(), "-outbox") {
		t.Errorf("an outbox that cannot be opened: %v", err)
	}
}

func TestOutboxDefaultsToTheLog(t *testing.T) {
	base, out := startDemo(t)
	if !strings.Contains(out.String(), "appended to this log") {
		t.Errorf("the demo does not say where the codes go:\n%s", out)
	}
	token := devToken(t, base)
	e := begin(t, base, token, `{"type":"email","email":"carol@example.com"}`)
	var line map[string]any
	for l := range strings.SplitSeq(out.String(), "\n") {
		if strings.HasPrefix(l, "{") {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
		}
	}
	if line["channel"] != "email" || line["to"] != "carol@example.com" || len(line) != 4 {
		t.Fatalf("the log holds no outbox line:\n%s", out)
	}
	if status := verifyStatus(t, base, token, e, `,"otp_code":"`+line["code"].(string)+`"`); status != 201 {
		t.Errorf("verifying with the logged code: %d", status)
	}
}

func TestOutboxIsShownOnLoopbackOnly(t *testing.T) {
	box := &outbox{w: &bytes.Buffer{}}
	if err := box.Send(t.Context(), messageTo("far@example.com")); err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]int{"127.0.0.1:5555": 200, "[::1]:5555": 200, "192.0.2.7:5555": 403, "[2001:db8::1]:5555": 403, "garbage": 403} {
		r := httptest.NewRequest("GET", "/dev/outbox", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		box.handler().ServeHTTP(w, r)
		if w.Code != want || (want == 403 && strings.Contains(w.Body.String(), "far@example.com")) {
			t.Errorf("from %s: %d %s", addr, w.Code, w.Body)
		}
	}
	// It keeps only the last few messages.
	for range outboxRecent + 3 {
		_ = box.Send(t.Context(), messageTo("near@example.com"))
	}
	r := httptest.NewRequest("GET", "/dev/outbox", nil)
	r.RemoteAddr = "127.0.0.1:5555"
	w := httptest.NewRecorder()
	box.handler().ServeHTTP(w, r)
	if n := strings.Count(w.Body.String(), `"to":`); n != outboxRecent || strings.Contains(w.Body.String(), "far@example.com") {
		t.Errorf("%d messages shown: %s", n, w.Body)
	}
	if got := strings.Count(box.w.(*bytes.Buffer).String(), "\n"); got != outboxRecent+4 {
		t.Errorf("%d lines written", got)
	}
}

func TestOutboxRefusesTheCodeWhenItCannotWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	box, closeFile, err := openOutbox(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = closeFile()
	if err := box.Send(t.Context(), messageTo("x@example.com")); err == nil {
		t.Fatal("a write to a closed file succeeded")
	}
	r := httptest.NewRequest("GET", "/dev/outbox", nil)
	r.RemoteAddr = "127.0.0.1:5555"
	w := httptest.NewRecorder()
	box.handler().ServeHTTP(w, r)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "x@example.com") {
		t.Errorf("a message that was not written is shown: %s", w.Body)
	}
}

func messageTo(to string) myaccount.Message {
	return myaccount.Message{Channel: "email", To: to, Code: "123456"}
}
