package main

import (
	"strings"
	"testing"
)

func TestReportPrintsFailuresAndRecordsSkips(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestOK"}`,
		`{"Action":"output","Package":"p","Test":"TestOK","Output":"=== RUN   TestOK\n"}`,
		`{"Action":"output","Package":"p","Test":"TestOK","Output":"    ok_test.go:1: chatter\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestOK"}`,
		`{"Action":"output","Package":"p","Test":"TestRedis","Output":"=== RUN   TestRedis\n"}`,
		`{"Action":"output","Package":"p","Test":"TestRedis","Output":"    r_test.go:9: this test needs Redis\n"}`,
		`{"Action":"output","Package":"p","Test":"TestRedis","Output":"--- SKIP: TestRedis (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestRedis"}`,
		`{"Action":"output","Package":"p","Test":"TestBad","Output":"    bad_test.go:3: want 1\n"}`,
		`{"Action":"output","Package":"p","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestBad"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}`,
		`{"Action":"output","Package":"q","Output":"?   \tq\t[no test files]\n"}`,
		`{"Action":"skip","Package":"q"}`,
		`vet: not json`,
	}, "\n")
	var out, skips strings.Builder
	if err := report(strings.NewReader(in), &out, &skips); err != nil {
		t.Fatal(err)
	}
	wantOut := "    bad_test.go:3: want 1\n--- FAIL: TestBad (0.00s)\nFAIL\tp\t0.1s\n?   \tq\t[no test files]\nvet: not json\n"
	if out.String() != wantOut {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), wantOut)
	}
	if want := "p TestRedis: r_test.go:9: this test needs Redis\n"; skips.String() != want {
		t.Errorf("skips %q, want %q", skips.String(), want)
	}
}
