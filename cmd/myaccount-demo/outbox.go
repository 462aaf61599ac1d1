package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/go-myaccount/myaccount"
)

// outbox is the demo's development [myaccount.Sender]: instead of sending an
// email, a text message or a call, it appends each message as one JSON line
// {"channel","to","code","sent_at"} to a file (by default the demo's log),
// where the person trying the demo reads the code. It keeps its last few lines
// for the page's outbox view too. Codes are secrets: this is for development
// only, and the file is created readable by its owner alone.
type outbox struct {
	mu     sync.Mutex
	w      io.Writer
	recent []outboxLine // the last outboxRecent messages, oldest first
}

// outboxLine is one message as the outbox writes it.
type outboxLine struct {
	Channel string `json:"channel"`
	To      string `json:"to"`
	Code    string `json:"code"`
	SentAt  string `json:"sent_at"` // RFC 3339, UTC, milliseconds
}

// outboxRecent is how many messages the page's outbox view shows.
const outboxRecent = 10

// openOutbox returns the outbox writing to the file at path, appending to what
// it holds, or to log when path is empty; close closes the file.
func openOutbox(path string, log io.Writer) (box *outbox, closeFile func() error, err error) {
	if path == "" {
		return &outbox{w: log}, func() error { return nil }, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("-outbox: %w", err)
	}
	return &outbox{w: f}, f.Close, nil
}

// printOutboxNote tells where the codes go.
func printOutboxNote(w io.Writer, path string) {
	where := "this log"
	if path != "" {
		where = path
	}
	fmt.Fprintf(w, "Email and phone codes are not sent: each is appended to %s as a JSON line.\n", where)
}

// Send implements [myaccount.Sender]: it writes the message as one line.
func (o *outbox) Send(_ context.Context, msg myaccount.Message) error {
	line := outboxLine{
		Channel: msg.Channel, To: msg.To, Code: msg.Code,
		SentAt: time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00"),
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	o.mu.Lock()
	defer o.mu.Unlock()
	// One Write per line: with O_APPEND, lines of several demos sharing the
	// file do not interleave.
	if _, err := o.w.Write(b); err != nil {
		return fmt.Errorf("writing the outbox: %w", err)
	}
	if len(o.recent) == outboxRecent {
		o.recent = append(o.recent[:0], o.recent[1:]...)
	}
	o.recent = append(o.recent, line)
	return nil
}

// handler serves GET /dev/outbox: {"messages": [...]}, the last few messages,
// oldest first. It answers loopback clients only, since the codes let anyone
// who reads them finish the enrollments.
func (o *outbox) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fromLoopback(r) {
			http.Error(w, "the development outbox is shown on loopback only", http.StatusForbidden)
			return
		}
		o.mu.Lock()
		body, err := json.Marshal(struct {
			Messages []outboxLine `json:"messages"`
		}{append([]outboxLine{}, o.recent...)})
		o.mu.Unlock()
		if err != nil {
			http.Error(w, "could not encode the outbox", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	})
}

// fromLoopback reports whether the request's peer is on this machine.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
