package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestHelpExitsZero(t *testing.T) {
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"-h"}, &stdout, nil)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stdout.String(), "-user-rate") {
		t.Fatalf("run -h: %v, printed:\n%s", err, stdout.String())
	}
	if code := exitCode(err, &stderr); code != 0 || stderr.Len() != 0 {
		t.Errorf("-h exits %d with %q", code, stderr.String())
	}
	if code := exitCode(errors.New("listen: address in use"), &stderr); code != 2 || !strings.Contains(stderr.String(), "address in use") {
		t.Errorf("an error exits %d with %q", code, stderr.String())
	}
}

// A person clicking through the demo page sends a few requests per click; the
// default limits let a quick series of them through.
func TestDefaultLimitsLetOnePersonClickThrough(t *testing.T) {
	base, _ := startDemo(t)
	status, _, token := call(t, "POST", base+"/dev/token?sub=auth0%7Calice", "", "")
	if status != 200 {
		t.Fatalf("token: %d", status)
	}
	tok := devAccessToken(t, token)
	for i := range 20 {
		if status, h, body := call(t, "GET", base+"/me/v1/authentication-methods", tok, ""); status != 200 {
			t.Fatalf("request %d: %d %s (limit %s)", i+1, status, body, h.Get("X-Ratelimit-Limit"))
		}
	}
}

// devAccessToken takes the access token out of a /dev/token answer.
func devAccessToken(t *testing.T, body []byte) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("no access_token in %s", body)
	}
	return tok.AccessToken
}
