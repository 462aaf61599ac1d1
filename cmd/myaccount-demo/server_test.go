package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// dial opens a raw connection to the demo, closed when the test ends.
func dial(t *testing.T, base string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// waitClosed reads conn until the server closes it and fails the test if that
// takes longer than within.
func waitClosed(t *testing.T, conn net.Conn, within time.Duration) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(within))
	_, err := io.Copy(io.Discard, conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server kept the connection open for %v", within)
	}
}

// TestTrickledBodyIsCut is issue 11's defect 7: with only ReadHeaderTimeout
// set, a client sending its body one byte every few seconds held a connection
// (and a handler) for as long as it liked. The read timeout cuts it.
func TestTrickledBodyIsCut(t *testing.T) {
	base, _ := startDemo(t, "-read-timeout", "500ms")
	token := devToken(t, base)
	conn := dial(t, base)
	fmt.Fprintf(conn, "POST /me/v1/authentication-methods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n", token)
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() { // one byte every 100ms: 100 seconds for the whole body
		defer close(trickled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	defer func() { close(stop); <-trickled }()
	waitClosed(t, conn, 10*time.Second)
}

// TestIdleKeepAliveIsCut: an idle keep-alive connection was never closed.
func TestIdleKeepAliveIsCut(t *testing.T) {
	base, _ := startDemo(t, "-idle-timeout", "500ms")
	conn := dial(t, base)
	fmt.Fprint(conn, "GET /me/v1/factors HTTP/1.1\r\nHost: localhost\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Close {
		t.Fatal("the server closed the connection after the response; keep-alive is off")
	}
	waitClosed(t, conn, 10*time.Second)
}

func TestTimeoutFlagsMustBePositive(t *testing.T) {
	for _, flag := range []string{"-read-timeout", "-write-timeout", "-idle-timeout"} {
		if _, err := parseFlags([]string{flag, "0s"}, io.Discard); err == nil {
			t.Errorf("%s 0s accepted", flag)
		}
	}
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv := o.timeouts.server(http.NotFoundHandler())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Errorf("default server timeouts: %+v", srv)
	}
}

// TestTrustForwardedFlag: behind a proxy, -trust-forwarded takes Location's
// scheme and host from the proxy's X-Forwarded-* entries; without it they are
// ignored.
func TestTrustForwardedFlag(t *testing.T) {
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprint("trust=", trust), func(t *testing.T) {
			base, _ := startDemo(t, fmt.Sprint("-trust-forwarded=", trust))
			req, _ := http.NewRequest("POST", base+"/me/v1/authentication-methods", strings.NewReader(`{"type":"passkey"}`))
			req.Header.Set("Authorization", "Bearer "+devToken(t, base))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Forwarded-Host", "evil.example, id.example.com")
			req.Header.Set("X-Forwarded-Proto", "https")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := base
			if trust {
				want = "https://id.example.com"
			}
			if got := resp.Header.Get("Location"); got != want+"/me/v1/authentication-methods/passkey%7Cnew" {
				t.Errorf("Location %q, want it under %s", got, want)
			}
		})
	}
}
