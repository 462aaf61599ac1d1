package myaccount

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestReadBodyReadsWhatWasSentWhateverTheLengthSays holds readBody to what
// io.ReadAll of a limited body gives, whether the announced length is right,
// short, long, unknown or over the limit.
func TestReadBodyReadsWhatWasSentWhateverTheLengthSays(t *testing.T) {
	const limit = 16
	for _, tc := range []struct {
		name, body string
		length     int64
		want       string
		tooLarge   bool
		fails      bool
	}{
		{name: "as announced", body: `{"a":1}`, length: 7, want: `{"a":1}`},
		{name: "unknown length", body: `{"a":1}`, length: -1, want: `{"a":1}`},
		{name: "more than announced", body: `{"a":12345}`, length: 3, want: `{"a":12345}`},
		{name: "less than announced", body: `{"a":1}`, length: 9, fails: true},
		{name: "at the limit", body: strings.Repeat("x", limit), length: limit, want: strings.Repeat("x", limit)},
		{name: "over the limit, announced", body: strings.Repeat("x", limit+1), length: limit + 1, tooLarge: true},
		{name: "over the limit, announced short", body: strings.Repeat("x", limit+5), length: 4, tooLarge: true},
		{name: "over the limit, unknown length", body: strings.Repeat("x", limit+1), length: -1, tooLarge: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(tc.body)), limit)
			got, err := readBody(body, tc.length, limit)
			var tooLarge *http.MaxBytesError
			switch {
			case tc.tooLarge:
				if !errors.As(err, &tooLarge) {
					t.Fatalf("err = %v, want a MaxBytesError", err)
				}
			case tc.fails:
				if err == nil {
					t.Fatalf("read %q, want an error", got)
				}
			case err != nil || string(got) != tc.want:
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
