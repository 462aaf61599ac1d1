package main

import (
	"context"
	"strings"
	"testing"
)

func TestRefusesNonLoopbackHosts(t *testing.T) {
	for _, host := range []string{"0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "example.com", "localhost.example.com", ""} {
		if err := run(context.Background(), config{host: host, requests: 1, connections: 1, rounds: 1}, nil); err == nil ||
			!strings.Contains(err.Error(), "loopback") {
			t.Errorf("host %q: %v", host, err)
		}
	}
	for _, host := range []string{"127.0.0.1", "127.1.2.3", "::1", "localhost"} {
		if err := checkConfig(config{host: host, requests: 1, connections: 1, rounds: 1}); err != nil {
			t.Errorf("host %q: %v", host, err)
		}
	}
	if err := checkConfig(config{host: "127.0.0.1", requests: maxRequests + 1, connections: 1, rounds: 1}); err == nil {
		t.Error("an unbounded run was accepted")
	}
}

func TestRunSmallLoad(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), config{host: "127.0.0.1", requests: 20, connections: 2, rounds: 1, passkeys: 2}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"token cache on", "token cache off", "bare net/http", "no-auth", "vs no-auth", "req/s", "cpu/req"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestOnlyPicksServers(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), config{host: "127.0.0.1", requests: 20, connections: 2, rounds: 1, passkeys: 1, only: "no-auth"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no-auth") || strings.Contains(out.String(), "token cache") {
		t.Errorf("-only no-auth loaded other servers:\n%s", out.String())
	}
	if err := run(t.Context(), config{host: "127.0.0.1", requests: 20, connections: 2, rounds: 1, only: "nothing"}, &out); err == nil {
		t.Error("-only matching no server was accepted")
	}
}

func TestRunVerifyScenarios(t *testing.T) {
	for _, scenario := range []string{"verify-totp", "verify-email"} {
		var out strings.Builder
		if err := run(t.Context(), config{host: "127.0.0.1", requests: 20, connections: 2, rounds: 2, scenario: scenario}, &out); err != nil {
			t.Fatalf("%s: %v", scenario, err)
		}
		for _, want := range []string{"myaccount API", "fair floor", "vs floor", "cpu/req", strings.TrimPrefix(scenario, "verify-") + " enrollments"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: output lacks %q:\n%s", scenario, want, out.String())
			}
		}
	}
	if err := run(t.Context(), config{host: "127.0.0.1", requests: maxVerifyUsers, connections: 1, rounds: 1, scenario: "verify-totp"}, nil); err == nil {
		t.Error("a verify round over the token cache's size was accepted")
	}
	if err := run(t.Context(), config{host: "127.0.0.1", requests: 1, connections: 1, rounds: 1, scenario: "verify-sms"}, nil); err == nil {
		t.Error("an unknown scenario was accepted")
	}
}
