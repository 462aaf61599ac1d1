package testenv

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// RunCheckingLeaks runs the tests of m and then fails the package if any
// goroutine it started is still running, as go.uber.org/goleak's
// VerifyTestMain does, for the core module, whose published go.mod must not
// require a test-only module. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.RunCheckingLeaks(m)) }
//
// Goroutines get a few seconds to end (a server's connections close after
// Close returns); idle keep-alive connections of http.DefaultTransport are
// closed first, since a test cannot own those.
func RunCheckingLeaks(m *testing.M) int {
	before := goroutineIDs()
	code := m.Run()
	if code != 0 {
		return code
	}
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
	var leaked []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		leaked = nil
		for id, stack := range goroutines() {
			if !before[id] && !runtimeOwned(stack) {
				leaked = append(leaked, stack)
			}
		}
		if len(leaked) == 0 {
			return 0
		}
		if time.Now().After(deadline) {
			break
		}
	}
	fmt.Fprintf(os.Stderr, "testenv: %d goroutines outlived the tests:\n\n%s\n", len(leaked), strings.Join(leaked, "\n\n"))
	return 1
}

// runtimeOwned reports whether stack is a goroutine the Go runtime or the
// testing package starts for itself and keeps for the process's life: the
// signal loop that fuzzing starts with signal.Notify.
func runtimeOwned(stack string) bool {
	return strings.Contains(stack, "os/signal.loop()")
}

// goroutines maps the id of every goroutine but the caller's to its stack.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := map[string]string{}
	for i, stack := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // the caller's own goroutine comes first
		}
		// "goroutine 7 [chan receive]:"
		if fields := strings.Fields(stack); len(fields) > 1 && fields[0] == "goroutine" {
			all[fields[1]] = stack
		}
	}
	return all
}

func goroutineIDs() map[string]bool {
	ids := map[string]bool{}
	for id := range goroutines() {
		ids[id] = true
	}
	return ids
}
