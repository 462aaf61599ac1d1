package oascheck

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// Spec checks traffic against the contract file through the validator, the command
// in ./validator: a module of its own, so that the JSON Schema library it uses never
// enters the core module's requirements. It is safe for concurrent use.
type Spec struct {
	mu  sync.Mutex // one request and its answer at a time
	in  io.Writer
	out *bufio.Reader
}

// request and answer are the validator's protocol (see its package documentation).
type request struct {
	Op     string      `json:"op"`
	Method string      `json:"method,omitempty"`
	Path   string      `json:"path,omitempty"`
	Status int         `json:"status,omitempty"`
	Header http.Header `json:"header,omitempty"`
	Body   []byte      `json:"body,omitempty"`
	Ref    string      `json:"ref,omitempty"`
}

type answer struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

// start runs the validator on the contract file at path with "go run", which
// builds it once and then reuses the build cache. The process reads requests until
// its standard input closes, which happens when the test binary exits; it starts
// no goroutine in this process.
func start(path string) (*Spec, error) {
	dir, err := validatorDir()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "run", ".", path)
	cmd.Dir = dir
	// The validator's own go.mod and go.sum decide its build, whatever workspace
	// the tests run in.
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("oascheck: start the validator in %s: %w", dir, err)
	}
	s := &Spec{in: stdin, out: bufio.NewReader(stdout)}
	var loaded answer
	if err := s.read(&loaded); err != nil {
		return nil, err
	}
	if !loaded.OK {
		return nil, errors.New(loaded.Error)
	}
	return s, nil
}

// validatorDir finds ./validator beside this file, or under internal/oascheck of an
// ancestor of the working directory when the build trimmed source paths.
func validatorDir() (string, error) {
	var candidates []string
	if _, file, _, ok := runtime.Caller(0); ok {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "validator"))
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			candidates = append(candidates, filepath.Join(dir, "internal", "oascheck", "validator"))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "go.mod")); err == nil {
			return c, nil
		}
	}
	return "", errors.New("oascheck: the validator's module (internal/oascheck/validator) is not found")
}

func (s *Spec) read(a *answer) error {
	line, err := s.out.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("oascheck: the validator stopped answering: %w", err)
	}
	if err := json.Unmarshal(line, a); err != nil {
		return fmt.Errorf("oascheck: the validator answered %q: %w", line, err)
	}
	return nil
}

// ask sends one request and returns its answer.
func (s *Spec) ask(req request) (answer, error) {
	line, err := json.Marshal(req)
	if err != nil {
		return answer{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		return answer{}, fmt.Errorf("oascheck: the validator stopped reading: %w", err)
	}
	var a answer
	err = s.read(&a)
	return a, err
}

// check asks for a check and turns its answer into an error, nil when it passed.
func (s *Spec) check(req request) error {
	a, err := s.ask(req)
	if err != nil {
		return err
	}
	if !a.OK {
		return errors.New(a.Error)
	}
	return nil
}

// ValidateResponse checks one response against the contract.
//
// requestPath is the concrete path the client requested, such as
// "/me/v1/authentication-methods/passkey%7Cdev_abc/verify" or
// "/me/authentication-methods"; the prefix "/me/v1" or "/me" is stripped and the rest
// matched against the document's path templates, where {x} matches one escaped
// segment. It finds the operation for method and the response for status (the exact
// code, else a range such as "4XX", else "default"; an undocumented status is an
// error), then checks that
//   - every header the response marks required is present (names are
//     case-insensitive), and every documented header that is present has a valid
//     value (a number where the header's schema says number or integer);
//   - if the response declares content, the Content-Type is one of its media types
//     ("application/problem+json" is accepted where "application/json" is declared),
//     and the body is one JSON value valid against that media type's schema;
//   - if it declares no content (e.g. 204), the body is empty.
//
// The error lists every failure with the JSON pointer into the body (or the header),
// what failed and the contract location that requires it.
func (s *Spec) ValidateResponse(method, requestPath string, status int, header http.Header, body []byte) error {
	return s.check(request{Op: "response", Method: method, Path: requestPath, Status: status, Header: header, Body: body})
}

// ValidateRequestBody validates a JSON request body against the requestBody schema of
// the operation for method and requestPath (matched as in [Spec.ValidateResponse]).
// An empty body is accepted only when the request body is not required.
func (s *Spec) ValidateRequestBody(method, requestPath string, body []byte) error {
	return s.check(request{Op: "request", Method: method, Path: requestPath, Body: body})
}

// ValidateSchema validates a JSON document against the schema at a local
// reference such as "#/components/schemas/ErrorResponse": for responses whose
// status the contract does not list for their operation.
func (s *Spec) ValidateSchema(schemaRef string, body []byte) error {
	return s.check(request{Op: "schema", Ref: schemaRef, Body: body})
}

// Documents reports whether the contract lists status (or a range or default
// covering it) for the operation that serves method and requestPath. A validator
// that stopped answering counts as not documented, so the check that follows fails.
func (s *Spec) Documents(method, requestPath string, status int) bool {
	a, err := s.ask(request{Op: "documents", Method: method, Path: requestPath, Status: status})
	return err == nil && a.OK
}
