// Package testenv is how the tests of every module in this repository find the
// services and tools that make test provides (scripts/with-services.sh), with one
// rule for their absence: skip with a message, except under CI=true, where a
// missing service is a broken setup and fails the test.
package testenv

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Missing skips tb with msg, or fails it when the environment has CI=true.
func Missing(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg + " (CI=true requires it)")
	}
	tb.Skip(msg)
}

// Need returns the environment variable name, which make test sets for the
// service it started, or reports it [Missing].
func Need(tb testing.TB, name, service string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		Missing(tb, "this test needs "+service+": set "+name+
			" (scripts/with-services.sh go test ./... starts a throwaway server; make test does)")
	}
	return v
}

// PGCtl runs "pg_ctl action" (start, stop, restart or status) as the test
// PostgreSQL's OS user against its data directory, waiting for the action to
// complete, and returns pg_ctl's exit code. Any failure fails tb, except status
// 3 (not running). The action "crash" is an immediate stop, which leaves the
// server to recover from its WAL at the next start, as after a crash.
func PGCtl(tb testing.TB, action string) int {
	tb.Helper()
	data := Need(tb, "MYACCOUNT_PG_DATA", "PostgreSQL")
	prefix := strings.Fields(Need(tb, "MYACCOUNT_PG_CTL", "PostgreSQL"))
	pgAction := action
	if action == "crash" {
		pgAction = "stop"
	}
	args := append(prefix[1:], pgAction, "-D", data)
	switch action {
	case "crash":
		args = append(args, "-w", "-m", "immediate")
	case "stop":
		args = append(args, "-w", "-m", "fast")
	case "start":
		args = append(args, "-w", "-t", "60", "-l", data+"/server.log")
	case "restart":
		args = append(args, "-w", "-t", "60", "-m", "fast", "-l", data+"/server.log")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, prefix[0], args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	if err != nil && !(action == "status" && code == 3) {
		tb.Fatalf("pg_ctl %s: %v\n%s", action, err, out)
	}
	return code
}
