package myaccount

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

var connectionPattern = regexp.MustCompile(`^[a-zA-Z0-9-]{1,128}$`)

// GET /factors
func (a *API) listFactors(w http.ResponseWriter, r *http.Request) {
	type factor struct {
		Type  string   `json:"type"`
		Usage []string `json:"usage"`
	}
	factors := make([]factor, 0, len(a.offeredTypes))
	for _, t := range a.offeredTypes {
		factors = append(factors, factor{Type: t, Usage: []string{families[t].usage(t)}})
	}
	writeJSON(w, r, http.StatusOK, struct {
		Factors []factor `json:"factors"`
	}{factors})
}

// GET /authentication-methods[?type=]
func (a *API) listMethods(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	var typ string
	if r.URL.RawQuery != "" {
		typ = r.URL.Query().Get("type")
	}
	if typ != "" && !isType(typ) {
		a.errs.write(w, r, validationError("The query is invalid.", ValidationError{
			Detail: "must be one of: " + strings.Join(factorTypes, ", "), Field: "type", Source: "query",
		}))
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	body, err := a.appendMethodList(r.Context(), append(*buf, `{"authentication_methods":[`...), claims, typ)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	*buf = append(body, "]}"...)
	writeBody(w, r, http.StatusOK, *buf)
}

// appendMethodList appends the JSON of the user's methods (of typ, unless
// empty), comma-separated: written by the store itself when it can, without
// copies of the methods.
func (a *API) appendMethodList(ctx context.Context, b []byte, claims *Claims, typ string) ([]byte, error) {
	if store, ok := a.cfg.Store.(methodListAppender); ok {
		return store.appendMethodList(ctx, b, claims.Issuer, claims.Subject, typ)
	}
	methods, err := a.cfg.Store.ListMethods(ctx, claims.Issuer, claims.Subject, typ)
	if err != nil {
		return b, err
	}
	for i, m := range methods {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendMethod(b, m)
	}
	return b, nil
}

// GET /authentication-methods/{id}
func (a *API) getMethod(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	id, ok := a.pathID(w, r)
	if !ok {
		return
	}
	m, err := a.cfg.Store.GetMethod(r.Context(), claims.Issuer, claims.Subject, id.String())
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	a.writeMethod(w, r, http.StatusOK, m)
}

// PATCH /authentication-methods/{id}
func (a *API) updateMethod(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	pid, ok := a.pathID(w, r)
	if !ok {
		return
	}
	body, err := a.readObject(w, r)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	if err := checkMembers(body, "", []member{
		{name: "name", kind: kindString}, {name: "preferred_authentication_method", kind: kindString},
	}); err != nil {
		a.errs.write(w, r, err)
		return
	}
	if len(body) == 0 {
		a.errs.write(w, r, bodyError("", "Send at least one of: name, preferred_authentication_method."))
		return
	}
	var update MethodUpdate
	if raw, ok := body["name"]; ok {
		name, err := parseName(raw)
		if err != nil {
			a.errs.write(w, r, err)
			return
		}
		update.Name = &name
	}
	id := pid.String()
	m, err := a.cfg.Store.GetMethod(r.Context(), claims.Issuer, claims.Subject, id)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	if raw, ok := body["preferred_authentication_method"]; ok {
		if m.Type != typePhone {
			a.errs.write(w, r, bodyError("/preferred_authentication_method", "Only phone methods have a preferred authentication method; this is a "+m.Type+"."))
			return
		}
		channel, err := checkChannel(true, unquote(raw))
		if err != nil {
			a.errs.write(w, r, err)
			return
		}
		update.PreferredChannel = &channel
	}
	m, err = a.cfg.Store.UpdateMethod(r.Context(), claims.Issuer, claims.Subject, id, update)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	a.audit(r, AuditEvent{Type: AuditMethodRenamed, MethodID: m.ID, MethodType: m.Type})
	a.writeMethod(w, r, http.StatusOK, m)
}

// DELETE /authentication-methods/{id}
func (a *API) deleteMethod(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	pid, ok := a.pathID(w, r)
	if !ok {
		return
	}
	id := pid.String()
	check := a.deleteCheck(r.Context(), claims)
	if err := a.removePushDevice(r.Context(), claims, id, check); err != nil {
		a.errs.write(w, r, err)
		return
	}
	if err := a.cfg.Store.DeleteMethod(r.Context(), claims.Issuer, claims.Subject, id, check); err != nil {
		a.errs.write(w, r, err)
		return
	}
	a.audit(r, AuditEvent{Type: AuditMethodDeleted, MethodID: id})
	w.WriteHeader(http.StatusNoContent)
}

// enrollIdentity validates identity_user_id (or its alias identity) and
// connection, and returns the identity the method belongs to.
func (a *API) enrollIdentity(r *http.Request, claims *Claims, body map[string]json.RawMessage) (string, error) {
	own := ownIdentity(claims.Subject)
	identity, pointer := unquote(body["identity_user_id"]), "/identity_user_id"
	if alias := unquote(body["identity"]); alias != "" {
		if identity != "" && identity != alias {
			return "", bodyError("/identity", "must equal identity_user_id when both are sent")
		}
		identity, pointer = alias, "/identity"
	}
	connection := unquote(body["connection"])
	if _, sent := body["connection"]; sent && !connectionPattern.MatchString(connection) {
		return "", bodyError("/connection", "must be 1 to 128 letters, digits or hyphens")
	}
	if _, sentID := body["identity_user_id"]; sentID || body["identity"] != nil {
		if identity == "" || len(identity) > 255 || strings.IndexFunc(identity, unicode.IsSpace) >= 0 {
			return "", bodyError(pointer, "must be 1 to 255 characters without spaces")
		}
	}
	if identity == "" || identity == claims.Subject || identity == own {
		return own, nil
	}
	if a.cfg.Users.AllowIdentity == nil || !a.cfg.Users.AllowIdentity(r.Context(), claims, identity, connection) {
		return "", bodyError(pointer, "is not an identity of the signed-in user")
	}
	return identity, nil
}

// ownIdentity is the identity part of an Auth0 subject: "auth0|abc" gives "abc".
func ownIdentity(subject string) string {
	if _, id, ok := strings.Cut(subject, "|"); ok && id != "" {
		return id
	}
	return subject
}

func defaultUserNames(c *Claims) (name, displayName string) {
	name = orDefault(c.Email, orDefault(c.Nickname, orDefault(c.Name, c.Subject)))
	return name, orDefault(c.Name, name)
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

func (a *API) writeMethod(w http.ResponseWriter, r *http.Request, status int, m *Method) {
	buf := getBuffer()
	defer putBuffer(buf)
	*buf = appendMethod(*buf, m)
	writeBody(w, r, status, *buf)
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

// readObject reads a JSON object body, enforcing the content type and size limit.
func (a *API) readObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return nil, newError(http.StatusUnsupportedMediaType, "A0E-415-0001", "The request body must be application/json.", errUnsupportedMediaType)
	}
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= a.cfg.MaxBodyBytes {
		buf.Grow(int(n) + bytes.MinRead) // room to read it all and then see EOF
	}
	_, err = buf.ReadFrom(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	data := buf.Bytes()
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
	return members(data), nil
}

// members splits a JSON object, already known to be valid JSON (a body
// readObject read, or an object member of one), into its members as
// json.Unmarshal into a map[string]json.RawMessage does (the last of
// duplicate names wins), without checking it again. Values alias data.
//
// It pays for itself where a body nests objects: encoding/json checks and
// then decodes every level again, so a WebAuthn verify body's attestation
// was scanned six times; split, it is scanned once (bench/README.md,
// "The hot path near its ceiling (issue 22)").
func members(data []byte) map[string]json.RawMessage {
	obj := make(map[string]json.RawMessage)
	i := skipSpace(data, 0) + 1 // past '{'
	for {
		i = skipSpace(data, i)
		if data[i] == '}' {
			return obj
		}
		end := valueEnd(data, i)
		name := unquote(data[i:end])
		i = skipSpace(data, skipSpace(data, end)+1) // past ':'
		end = valueEnd(data, i)
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
			for i++; data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
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
	add := func(name, detail string) {
		ptr := base + "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
		errs = append(errs, ValidationError{Detail: detail, Field: fieldName(ptr), Pointer: ptr, Source: "body"})
	}
	for _, m := range members {
		raw, ok := obj[m.name]
		switch {
		case !ok && m.required:
			add(m.name, "is required")
		case ok && kindOf(raw) != m.kind:
			add(m.name, "must be "+kindNames[m.kind])
		}
	}
	for name := range obj {
		known := false
		for _, m := range members {
			known = known || m.name == name
		}
		if !known {
			add(name, "is not a known member")
		}
	}
	if errs == nil {
		return nil
	}
	return validationError("The request body is invalid.", errs...)
}

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

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

const alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomAlphanumeric draws n letters and digits uniformly.
func randomAlphanumeric(n int) string { return randomString(alphanumerics, n) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
