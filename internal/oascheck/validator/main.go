// Command validator checks HTTP traffic of the tests against Auth0's OpenAPI 3.1
// description of the My Account API, with a JSON Schema 2020-12 library.
//
// It is a module of its own so that the library never enters the requirements of
// the core module, whose tests run it as a child process (package oascheck starts it
// with "go run"): it loads the contract file named by its one argument, writes one
// line, {"ok":true} or {"error":"..."}, then answers requests, one JSON object per
// line on standard input, with one JSON object per line on standard output, until
// standard input ends.
//
// A request is {"op", "method", "path", "status", "header", "body", "ref"}, where op is
// "response" ([Spec.ValidateResponse]), "request" ([Spec.ValidateRequestBody]),
// "schema" ([Spec.ValidateSchema] of body against ref) or "documents"
// ([Spec.Documents]); the answer is {"ok": bool, "error": "..."}, where error
// describes every failed check.
//
// What is checked: $ref (local JSON pointers only), every assertion and applicator
// of JSON Schema 2020-12 as the library evaluates them, and the formats, which are
// asserted: "date-time" (RFC 3339) by the library, "uri" as an absolute RFC 3986 URI
// with only the characters the RFC permits. Annotations (description, title,
// default, examples, discriminator, x-* extensions and the like) do not affect the
// outcome; a keyword that is neither one the library evaluates nor a known annotation
// is reported as an error rather than silently ignored, so the checker never passes
// an instance it did not really check. Patterns are ECMA-262 regular expressions;
// they are compiled with Go's regexp package (RE2) after translating the \uXXXX
// escape, and a pattern RE2 cannot express is reported where it is used.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: validator CONTRACT.json")
		os.Exit(2)
	}
	if err := serve(os.Args[1], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "validator:", err)
		os.Exit(1)
	}
}

// request is one check asked for; see the package documentation.
type request struct {
	Op     string      `json:"op"`
	Method string      `json:"method"`
	Path   string      `json:"path"`
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
	Ref    string      `json:"ref"`
}

// answer is the outcome of a request, or of loading the contract.
type answer struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// serve loads the contract at path, reports whether that worked, then answers the
// requests read from in until it ends.
func serve(path string, in io.Reader, out io.Writer) error {
	enc := json.NewEncoder(out)
	spec, err := Load(path)
	if err != nil {
		return enc.Encode(answer{Error: err.Error()})
	}
	if err := enc.Encode(answer{OK: true}); err != nil {
		return err
	}
	lines := bufio.NewScanner(in)
	lines.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for lines.Scan() {
		var req request
		if err := json.Unmarshal(lines.Bytes(), &req); err != nil {
			return fmt.Errorf("bad request: %v", err)
		}
		if err := enc.Encode(spec.answer(req)); err != nil {
			return err
		}
	}
	return lines.Err()
}

func (s *Spec) answer(req request) answer {
	var err error
	switch req.Op {
	case "response":
		err = s.ValidateResponse(req.Method, req.Path, req.Status, req.Header, req.Body)
	case "request":
		err = s.ValidateRequestBody(req.Method, req.Path, req.Body)
	case "schema":
		err = s.ValidateSchema(req.Ref, req.Body)
	case "documents":
		return answer{OK: s.Documents(req.Method, req.Path, req.Status)}
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	if err != nil {
		return answer{Error: err.Error()}
	}
	return answer{OK: true}
}
