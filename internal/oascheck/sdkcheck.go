package oascheck

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Decoders checks responses against what Auth0's SDK decoders require (the tables
// decoderRules and responseRules), beside the OpenAPI check: a response the contract
// allows can still be one an SDK fails to decode.
type Decoders struct {
	// ProblemJSON accepts errors served as application/problem+json, a deployment's
	// own choice that hides their bodies from Auth0.Android.
	ProblemJSON bool
}

// Check reports every way the response to method and requestPath (as in
// [Spec.ValidateResponse]) would fail an SDK's decoder, naming the SDK file each
// failed rule comes from; nil when every SDK decodes it. The object checked depends
// on the operation and status: the error body for any 4xx or 5xx, the factors, the
// method list, a method (GET or PATCH of one, and the 201 of verify), and the
// enrollment challenge of the 202 of POST /authentication-methods, whose type is read
// from its Location.
func (d Decoders) Check(method, requestPath string, status int, header http.Header, body []byte) error {
	x := &exchange{method: strings.ToUpper(method), route: routeOf(requestPath), status: status, header: header, body: body}
	var fails []string
	for _, r := range responseRules {
		if d.ProblemJSON && r.name == errorContentType {
			continue
		}
		if r.applies(x) {
			if err := r.check(x); err != nil {
				fails = append(fails, fmt.Sprintf("%s: %v (%s)", r.name, err, r.sdk))
			}
		}
	}
	if objects := x.objects(); len(objects) > 0 && len(body) > 0 {
		doc, err := decodeJSON(body)
		if err != nil {
			fails = append(fails, "body: "+err.Error())
		} else {
			c := &objectChecker{}
			c.check(objects, doc, "")
			fails = append(fails, c.fails...)
		}
	}
	if len(fails) == 0 {
		return nil
	}
	return fmt.Errorf("oascheck: %s %s -> %d would not decode in Auth0's SDKs:\n\t%s",
		x.method, requestPath, status, strings.Join(fails, "\n\t"))
}

// exchange is one response with what the rules need to know of its request.
type exchange struct {
	method string
	route  string // "factors", "authentication-methods", ".../{id}", ".../{id}/verify", or ""
	status int
	header http.Header
	body   []byte
}

// routeOf names the API operation path of a request path served under /me/v1 or /me.
func routeOf(requestPath string) string {
	p, _, _ := strings.Cut(requestPath, "?")
	rest, ok := strings.CutPrefix(p, "/me/v1/")
	if !ok {
		if rest, ok = strings.CutPrefix(p, "/me/"); !ok {
			return ""
		}
	}
	segs := strings.Split(rest, "/")
	switch {
	case len(segs) == 1 && (segs[0] == "factors" || segs[0] == "authentication-methods"):
		return segs[0]
	case len(segs) == 2 && segs[0] == "authentication-methods" && segs[1] != "":
		return "authentication-methods/{id}"
	case len(segs) == 3 && segs[0] == "authentication-methods" && segs[1] != "" && segs[2] == "verify":
		return "authentication-methods/{id}/verify"
	}
	return ""
}

// objects names the decoder objects the response body is read as.
func (x *exchange) objects() []string {
	switch {
	case x.status >= 400:
		return []string{"error"}
	case x.route == "factors" && x.method == http.MethodGet && x.status == 200:
		return []string{"factors"}
	case x.route == "authentication-methods" && x.method == http.MethodGet && x.status == 200:
		return []string{"list"}
	case x.route == "authentication-methods/{id}" && (x.method == http.MethodGet || x.method == http.MethodPatch) && x.status == 200,
		x.route == "authentication-methods/{id}/verify" && x.method == http.MethodPost && x.status == 201:
		return []string{"method"}
	case x.route == "authentication-methods" && x.method == http.MethodPost && x.status == 202:
		id, _ := x.locationID()
		typ, _, _ := strings.Cut(id, "|")
		if typ == "passkey" {
			return []string{"challenge passkey"} // read by its own decoder, not the generic one
		}
		return []string{"challenge", "challenge " + typ}
	}
	return nil
}

// locationID is the last path segment of Location, percent-decoded.
func (x *exchange) locationID() (string, error) {
	loc := x.header.Get("Location")
	if loc == "" {
		return "", errors.New("no Location header")
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("Location %q does not parse: %v", loc, err)
	}
	if !u.IsAbs() || u.Host == "" {
		return "", fmt.Errorf("Location %q is not an absolute URL", loc)
	}
	raw := u.EscapedPath()
	raw = raw[strings.LastIndexByte(raw, '/')+1:]
	id, err := url.PathUnescape(raw)
	if err != nil || id == "" {
		return "", fmt.Errorf("Location %q does not end in a percent-encoded id", loc)
	}
	return id, nil
}

// responseRule is one thing an SDK needs of a whole response.
type responseRule struct {
	name    string
	applies func(*exchange) bool
	check   func(*exchange) error
	sdk     string
}

func is202(x *exchange) bool   { return x.status == http.StatusAccepted }
func isError(x *exchange) bool { return x.status >= 400 }

func hasBody(x *exchange) error {
	if len(strings.TrimSpace(string(x.body))) == 0 {
		return errors.New("the body is empty")
	}
	return nil
}

// locationNamesID checks that Location's last segment decodes to the same id under
// percent-decoding (Swift) and form decoding (Android's URLDecoder, where "+" is a
// space), that the id is of a known type, and that a body id agrees with it.
func locationNamesID(x *exchange) error {
	id, err := x.locationID()
	if err != nil {
		return err
	}
	loc := x.header.Get("Location")
	raw := loc[strings.LastIndexByte(loc, '/')+1:]
	if form, err := url.QueryUnescape(raw); err != nil || form != id {
		return fmt.Errorf("Location's last segment %q decodes to %q, but to %q as a form value", raw, id, form)
	}
	typ, _, _ := strings.Cut(id, "|")
	if !slices.Contains(methodTypes, typ) {
		return fmt.Errorf("Location's id %q is not of a method type", id)
	}
	doc, _ := decodeJSON(x.body)
	if m, ok := doc.(map[string]any); ok {
		if bodyID, ok := m["id"].(string); ok && bodyID != id {
			return fmt.Errorf("the body's id %q is not Location's %q", bodyID, id)
		}
	}
	return nil
}

// errorContentType names the rule that [Decoders.ProblemJSON] waives.
const errorContentType = "error Content-Type"

// errorIsJSON is Auth0.Android's ServerResponse.isJson: any Content-Type value
// containing "application/json", in any case.
func errorIsJSON(x *exchange) error {
	for _, ct := range x.header.Values("Content-Type") {
		if strings.Contains(strings.ToLower(ct), "application/json") {
			return nil
		}
	}
	return fmt.Errorf("Content-Type %q does not contain application/json", x.header.Get("Content-Type"))
}

// rule is one row of decoderRules: a member (key) of an object that one SDK reads.
// A rule with whole set checks the object as a whole instead.
type rule struct {
	object   string
	key      string
	kind     kind
	required bool // present and not null
	format   *format
	whole    func(obj map[string]any) error
	sdk      string
}

// kind is the JSON type a decoder reads a member as; child names the object rules
// applied to an object member or to each element of an array of objects.
type kind struct {
	name  string
	child string
}

var (
	str     = kind{name: "string"}
	boolean = kind{name: "boolean"}
	integer = kind{name: "integer"}
	strs    = kind{name: "array of strings"}
)

func object(name string) kind  { return kind{name: "object", child: name} }
func objects(name string) kind { return kind{name: "array of objects", child: name} }

// format is a parse an SDK applies to a string member.
type format struct {
	name string
	ok   func(string) bool
}

func oneOf(values ...string) *format {
	return &format{name: "one of " + strings.Join(values, ", "), ok: func(s string) bool { return slices.Contains(values, s) }}
}

// dateTime is what Dart's DateTime.parse and Go's RFC 3339 both accept.
var dateTime = &format{name: "an RFC 3339 date-time", ok: isDateTime}

// dateTimeWithFraction is what Apple's ISO8601DateFormatter parses with the options
// [.withInternetDateTime, .withFractionalSeconds]: seconds must have a fraction.
var dateTimeWithFraction = &format{
	name: "an RFC 3339 date-time with fractional seconds",
	ok:   func(s string) bool { return fractionRE.MatchString(s) && isDateTime(s) },
}

var fractionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+(Z|[+-]\d{2}:\d{2})$`)

// base64Std is Foundation's Data(base64Encoded:): the standard alphabet with padding.
var base64Std = &format{name: "standard base64 with padding", ok: func(s string) bool {
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}}

// base64URL is Auth0.swift's a0_decodeBase64URLSafe: "-" and "_" become "+" and "/",
// padding is added up to a multiple of 4, then Data(base64Encoded:).
var base64URL = &format{name: "base64url", ok: func(s string) bool {
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	if n := len(s) % 4; n != 0 {
		s += strings.Repeat("=", 4-n)
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}}

// androidKeys are the members Auth0.Android's EnrollmentChallenge.Deserializer looks
// for, in its order, to pick a challenge's class.
var androidKeys = []string{"barcode_uri", "recovery_code", "authn_params_public_key", "oob_code"}

// androidSelects requires Android to pick the class that key selects ("" for
// MfaEnrollmentChallenge, chosen when none of androidKeys is present).
func androidSelects(key string) func(map[string]any) error {
	return func(obj map[string]any) error {
		got := ""
		for _, k := range androidKeys {
			if _, ok := obj[k]; ok {
				got = k
				break
			}
		}
		if got != key {
			return fmt.Errorf("Android picks its challenge class by %s, want %s", orNone(got), orNone(key))
		}
		return nil
	}
}

func orNone(key string) string {
	if key == "" {
		return "none of " + strings.Join(androidKeys, ", ")
	}
	return key
}

// onlyKeys requires the object to have no members but keys.
func onlyKeys(keys ...string) func(map[string]any) error {
	return func(obj map[string]any) error {
		var extra []string
		for _, k := range sortedKeys(obj) {
			if !slices.Contains(keys, k) {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			return fmt.Errorf("members %s beyond %s", strings.Join(extra, ", "), strings.Join(keys, ", "))
		}
		return nil
	}
}

// objectChecker applies decoderRules to a decoded body, collecting failures.
type objectChecker struct {
	fails []string
}

func (c *objectChecker) fail(ptr, msg string, r rule) {
	c.fails = append(c.fails, fmt.Sprintf("%s: %s (%s: %s)", displayPointer(ptr), msg, r.object, r.sdk))
}

// check applies the rules of every named object to v.
func (c *objectChecker) check(names []string, v any, ptr string) {
	obj, ok := v.(map[string]any)
	if !ok {
		c.fails = append(c.fails, fmt.Sprintf("%s: is %s, want the object %s", displayPointer(ptr), jsonType(v), strings.Join(names, ", ")))
		return
	}
	if slices.Contains(names, "method") {
		if typ, ok := obj["type"].(string); ok {
			names = append(slices.Clip(names), "method "+typ)
		}
	}
	descended := map[string]bool{} // a member's child objects are checked once, whichever rows name them
	for _, r := range decoderRules {
		if !slices.Contains(names, r.object) {
			continue
		}
		if r.whole != nil {
			if err := r.whole(obj); err != nil {
				c.fail(ptr, err.Error(), r)
			}
			continue
		}
		c.member(obj, ptr, r, descended)
	}
}

func (c *objectChecker) member(obj map[string]any, ptr string, r rule, descended map[string]bool) {
	at := ptr + "/" + escapePointerToken(r.key)
	v, present := obj[r.key]
	if !present || v == nil {
		if r.required {
			c.fail(at, "missing, want "+r.kind.name, r)
		}
		return
	}
	if !kindMatches(v, r.kind) {
		c.fail(at, fmt.Sprintf("is %s, want %s", brief(v), r.kind.name), r)
		return
	}
	if s, ok := v.(string); ok && r.format != nil && !r.format.ok(s) {
		c.fail(at, fmt.Sprintf("%s is not %s", brief(s), r.format.name), r)
	}
	if r.kind.child == "" || descended[r.key+" "+r.kind.child] {
		return
	}
	descended[r.key+" "+r.kind.child] = true
	switch x := v.(type) {
	case map[string]any:
		c.check([]string{r.kind.child}, x, at)
	case []any:
		for i, e := range x {
			c.check([]string{r.kind.child}, e, fmt.Sprintf("%s/%d", at, i))
		}
	}
}

func kindMatches(v any, k kind) bool {
	switch k.name {
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "integer":
		return jsonType(v) == "integer"
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array of strings", "array of objects":
		list, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range list {
			if _, isString := e.(string); k.name == "array of strings" && !isString {
				return false
			}
		}
		return true
	}
	return false
}
