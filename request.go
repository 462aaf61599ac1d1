// Request plumbing shared by every handler: reading a JSON body into its
// members and checking their kinds, the method id of a path, and writing
// JSON bodies (a method's wire form included) and headers.

package myaccount

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// readObject reads a JSON object body, enforcing the content type and size limit.
func (a *API) readObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" { // the spelling clients send, parsed no further
		if mediaType, _, err := mime.ParseMediaType(ct); err != nil || mediaType != "application/json" {
			return nil, newError(http.StatusUnsupportedMediaType, "A0E-415-0001", "The request body must be application/json.", errUnsupportedMediaType)
		}
	}
	data, err := readBody(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes), r.ContentLength, a.cfg.MaxBodyBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, newError(http.StatusRequestEntityTooLarge, "A0E-413-0001",
				"The request body is larger than "+strconv.FormatInt(a.cfg.MaxBodyBytes, 10)+" bytes.", errBodyTooLarge)
		}
		return nil, bodyError("", "The request body could not be read.")
	}
	if !json.Valid(data) || data[skipSpace(data, 0)] != '{' {
		return nil, bodyError("", "The request body must be a JSON object.")
	}
	obj, repeated := members(data)
	if repeated != "" {
		// One spelling: a proxy or log that reads the first of two members
		// named alike must not see another request than the one served.
		return nil, bodyError("/"+repeated, "must appear once")
	}
	return obj, nil
}

// readBody reads body to its end. A body that announced its length within
// limit is read into a slice of that length, which is all a server lets
// through; one that did not, or sends more than it announced (a handler
// called directly), is read the ordinary way, the limit still applying.
func readBody(body io.Reader, length, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if length > 0 && length <= limit {
		data := make([]byte, length)
		if _, err := io.ReadFull(body, data); err != nil {
			return nil, err
		}
		var more [1]byte
		n, err := io.ReadAtLeast(body, more[:], 1)
		if n == 0 {
			if err == io.EOF {
				err = nil
			}
			return data, err
		}
		buf.Write(data)
		buf.Write(more[:n])
	}
	_, err := buf.ReadFrom(body)
	return buf.Bytes(), err
}

// members splits a JSON object, already known to be valid JSON (a body
// readObject read, or an object member of one), into its members as
// json.Unmarshal into a map[string]json.RawMessage does (the last of
// duplicate names wins), without checking it again, and names the first
// member that repeats a name (after unescaping), if any. Values alias data.
//
// It pays for itself where a body nests objects: encoding/json checks and
// then decodes every level again, so a WebAuthn verify body's attestation
// was scanned six times; split, it is scanned once (bench/README.md,
// "The hot path near its ceiling (issue 22)").
func members(data []byte) (obj map[string]json.RawMessage, repeated string) {
	obj = make(map[string]json.RawMessage)
	i := skipSpace(data, 0) + 1 // past '{'
	for {
		i = skipSpace(data, i)
		if data[i] == '}' {
			return obj, repeated
		}
		end := valueEnd(data, i)
		name := unquote(data[i:end])
		i = skipSpace(data, skipSpace(data, end)+1) // past ':'
		end = valueEnd(data, i)
		if _, seen := obj[name]; seen && repeated == "" {
			repeated = name
		}
		obj[name] = data[i:end:end]
		if i = skipSpace(data, end); data[i] == ',' {
			i++
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n') {
		i++
	}
	return i
}

// valueEnd is the end of the valid JSON value that starts at data[i].
func valueEnd(data []byte, i int) int {
	if c := data[i]; c != '"' && c != '{' && c != '[' { // a number, true, false or null
		for i < len(data) && !strings.ContainsRune(",}] \t\r\n", rune(data[i])) {
			i++
		}
		return i
	}
	depth := 0
	for ; ; i++ {
		switch data[i] {
		case '"':
			i = stringEnd(data, i)
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
		if depth == 0 {
			return i + 1
		}
	}
}

// stringEnd is the index of the quote that closes the valid JSON string
// opened at data[i]. A quote closes it unless an odd number of backslashes
// escapes it; bytes.IndexByte finds the candidates many bytes at a time, which
// matters for the long base64url members of a WebAuthn response.
func stringEnd(data []byte, i int) int {
	for {
		i += 1 + bytes.IndexByte(data[i+1:], '"')
		escapes := 0
		for data[i-1-escapes] == '\\' {
			escapes++
		}
		if escapes%2 == 0 {
			return i
		}
	}
}

type jsonKind byte

const (
	kindString jsonKind = iota
	kindBoolean
	kindNumber
	kindObject
	kindArray
)

var kindNames = [...]string{"a string", "a boolean", "a number", "an object", "an array"}

type member struct {
	name     string
	kind     jsonKind
	required bool
}

// checkMembers reports unknown, missing and wrongly typed members of obj, whose
// JSON pointer is base.
func checkMembers(obj map[string]json.RawMessage, base string, members []member) error {
	var errs []ValidationError
	add := func(pointer, detail string) {
		if len(errs) < maxValidationErrors {
			errs = append(errs, ValidationError{Detail: detail, Field: fieldName(pointer), Pointer: pointer, Source: "body"})
		}
	}
	for _, m := range members {
		raw, ok := obj[m.name]
		switch {
		case !ok && m.required:
			add(base+"/"+pointerEscaper.Replace(m.name), "is required")
		case ok && kindOf(raw) != m.kind:
			add(base+"/"+pointerEscaper.Replace(m.name), "must be "+kindNames[m.kind])
		}
	}
	var unknown []string
	for name := range obj {
		if !slices.ContainsFunc(members, func(m member) bool { return m.name == name }) {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown) // one answer for one body, whatever the map's order
	for _, name := range unknown {
		if len(name) > maxNameShown {
			add(base, "has a member whose name is not known ("+strconv.Itoa(len(name))+" bytes)")
		} else {
			add(base+"/"+pointerEscaper.Replace(name), "is not a known member")
		}
	}
	if errs == nil {
		return nil
	}
	return validationError("The request body is invalid.", errs...)
}

// pointerEscaper writes a member name as a JSON pointer token (RFC 6901).
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// maxValidationErrors bounds the validation_errors of one answer: a body of
// thousands of unknown members is told of the first few, in name order, not
// answered at ten times its size.
const maxValidationErrors = 10

// maxNameShown bounds a member name echoed back in a pointer. No known member
// has a longer one; it is reported at its object instead.
const maxNameShown = 64

func kindOf(raw json.RawMessage) jsonKind {
	if len(raw) == 0 {
		return 255
	}
	switch raw[0] {
	case '"':
		return kindString
	case 't', 'f':
		return kindBoolean
	case '{':
		return kindObject
	case '[':
		return kindArray
	case 'n':
		return 255 // null is never an accepted value
	}
	return kindNumber
}

// unquote decodes a JSON string member; anything else gives "".
func unquote(raw json.RawMessage) string {
	if len(raw) == 0 { // an absent member; json.Unmarshal would make an error to say so
		return ""
	}
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && plain(raw[1:n-1]) {
		return string(raw[1 : n-1])
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// plain reports whether the inside of a JSON string needs no decoding: no
// escapes, control characters or invalid UTF-8.
func plain(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(s)
}

// pathID is the method id in the request path; ok is false, and the request
// answered 404, when the path holds no id of the grammar. The route matched
// the path already; matching it again is cheaper than a context value.
func (a *API) pathID(w http.ResponseWriter, r *http.Request) (id methodID, ok bool) {
	_, raw, _ := matchPath(r.URL.EscapedPath())
	if id, ok = parseMethodID(raw); !ok {
		a.errs.write(w, r, ErrNotFound)
	}
	return id, ok
}

// rawPathID is the unescaped id of a route whose ids are not method ids
// (connected accounts, consents): their routes' matchers checked its grammar.
func rawPathID(r *http.Request) string {
	_, id, _ := matchPath(r.URL.EscapedPath())
	return id
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	writeBody(w, r, status, body)
}

func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	setHeaders(w.Header(), "Content-Type", "application/json", "Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func (a *API) writeMethod(w http.ResponseWriter, r *http.Request, status int, m *Method) {
	buf := getBuffer()
	defer putBuffer(buf)
	*buf = appendMethod(*buf, m)
	writeBody(w, r, status, *buf)
}

// appendMethod appends the wire form of a method: the JSON that encoding/json
// gives for the struct of the contract's fields, in that order, written
// without reflection or a string per field. A method of a type this package
// does not know (a store shared with newer code) shows its common fields.
//
// It pays for itself on the list, the API's hottest read: encoding/json with
// struct tags (a struct per method, strings for the encoded keys) took GET
// /authentication-methods of 20 passkeys from 21 to 304 allocations and from
// 26 to 58 KiB per request, end to end through the handler (bench/README.md,
// "Hand-written codecs").
func appendMethod(b []byte, m *Method) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, m.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, m.Type)
	if m.Name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, m.Name)
	}
	usage := "secondary"
	if family := families[m.Type]; family != nil {
		b = family.appendFields(b, m)
		usage = family.usage(m.Type)
	}
	b = append(b, `,"usage":["`...)
	b = append(b, usage...)
	b = append(b, `"],"created_at":"`...)
	b = m.CreatedAt.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, `"}`...)
}

// appendString appends s as a JSON string. Plain printable ASCII is copied;
// anything else goes through encoding/json, so the escaping is exactly its own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			quoted, _ := json.Marshal(s)
			return append(b, quoted...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// buffers recycles response bodies that are built by hand.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

func getBuffer() *[]byte { return buffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		buffers.Put(b)
	}
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// setHeaders sets headers from name, value pairs, as Header.Set does, but with
// one allocation for all the values. Names must be in canonical form.
func setHeaders(h http.Header, pairs ...string) {
	values := make([]string, len(pairs)/2)
	for i := range values {
		values[i] = pairs[2*i+1]
		h[pairs[2*i]] = values[i : i+1 : i+1]
	}
}
