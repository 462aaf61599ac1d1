package myaccount

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the verified claims of an access token.
//
// What [ClaimsFromContext] and [TokenValidator.Validate] return is the caller's
// own copy, slices included: changing it changes nothing for later requests,
// even when the token came from the verified-token cache.
type Claims struct {
	jwt.RegisteredClaims
	// Scope is the space-separated scope claim.
	Scope string `json:"scope,omitempty"`
	// Permissions is Auth0's RBAC permissions claim, treated as more scopes.
	Permissions []string `json:"permissions,omitempty"`
	// GrantType is Auth0's "gty" claim; "client-credentials" marks a machine token.
	GrantType string `json:"gty,omitempty"`
	Name      string `json:"name,omitempty"`
	Nickname  string `json:"nickname,omitempty"`
	Email     string `json:"email,omitempty"`
	// AuthTime is when the user last authenticated ("auth_time"), which step-up
	// ([TokenConfig.StepUp]) compares with a maximum age.
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
	// ACR is the authentication context class reference ("acr") of that login.
	ACR string `json:"acr,omitempty"`
	// Confirmation is the "cnf" claim of a proof-of-possession token (RFC
	// 7800): a DPoP-bound token names its key here.
	Confirmation struct {
		// JKT is the RFC 7638 SHA-256 thumbprint of the key a DPoP-bound
		// token is bound to (RFC 9449 section 6.1), base64url without padding.
		JKT string `json:"jkt,omitempty"`
	} `json:"cnf,omitzero"`

	payload []byte // the token's JSON payload, read by Decode; never written
}

// ClaimsFromJSON decodes a token's JSON payload into Claims as the validator
// does, keeping it for [Claims.Decode]: for tests, and for middleware that
// verified a token its own way, with [ContextWithClaims]. It refuses exp, nbf,
// iat and auth_time given as anything but JSON numbers.
func ClaimsFromJSON(payload []byte) (*Claims, error) {
	c := new(tokenClaims)
	if err := json.Unmarshal(payload, c); err != nil {
		return nil, err
	}
	return &c.Claims, nil
}

// tokenClaims is what a token's payload is decoded into. Its UnmarshalJSON is
// not Claims' own, so an app type that embeds Claims still decodes its fields.
type tokenClaims struct{ Claims }

// UnmarshalJSON decodes a payload into Claims, refusing exp, nbf, iat and
// auth_time given as anything but a JSON number (RFC 7519 section 2 makes them
// NumericDates; a quoted "9999999999" is not one), and keeps the payload.
func (c *tokenClaims) UnmarshalJSON(data []byte) error {
	var s struct {
		*Claims
		ExpiresAt strictDate `json:"exp"`
		NotBefore strictDate `json:"nbf"`
		IssuedAt  strictDate `json:"iat"`
		AuthTime  strictDate `json:"auth_time"`
	}
	c.Claims = Claims{}
	s.Claims = &c.Claims
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	c.ExpiresAt, c.NotBefore, c.IssuedAt, c.AuthTime = s.ExpiresAt.ptr(), s.NotBefore.ptr(), s.IssuedAt.ptr(), s.AuthTime.ptr()
	c.payload = bytes.Clone(data) // json.Unmarshaler must not keep data itself
	return nil
}

// Decode decodes the token's payload, every claim including namespaced ones
// such as "https://example.com/roles", into v as json.Unmarshal does. The token
// is not parsed or verified again, and v is the caller's own. Claims built by
// hand rather than by a validator or [ClaimsFromJSON] have no payload: Decode
// then decodes the JSON of c itself.
func (c *Claims) Decode(v any) error {
	if c.payload == nil {
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return json.Unmarshal(data, v)
	}
	return json.Unmarshal(c.payload, v)
}

// strictDate is a NumericDate that must be a JSON number; null means absent.
type strictDate struct {
	set  bool
	date jwt.NumericDate
}

var errDateNotNumber = errors.New("a NumericDate must be a JSON number")

func (d *strictDate) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	if len(data) == 0 || (data[0] != '-' && (data[0] < '0' || data[0] > '9')) {
		return errDateNotNumber
	}
	d.set = true
	return d.date.UnmarshalJSON(data)
}

func (d *strictDate) ptr() *jwt.NumericDate {
	if !d.set {
		return nil
	}
	return &d.date
}

// copyTo makes dst a copy of c that shares nothing a caller can write: the
// slices get one new backing array between them, and the dates point into
// dates, which the caller provides so that a copy costs one allocation at most.
// The payload is shared: it is unexported and only ever read.
func (c *Claims) copyTo(dst *Claims, dates *[4]jwt.NumericDate) {
	*dst = *c
	for i, p := range []**jwt.NumericDate{&dst.ExpiresAt, &dst.NotBefore, &dst.IssuedAt, &dst.AuthTime} {
		if *p != nil {
			dates[i] = **p
			*p = &dates[i]
		}
	}
	na, np := len(c.Audience), len(c.Permissions)
	if na+np == 0 {
		return
	}
	buf := make([]string, na+np)
	if c.Audience != nil {
		copy(buf, c.Audience)
		dst.Audience = buf[:na:na]
	}
	if c.Permissions != nil {
		copy(buf[na:], c.Permissions)
		dst.Permissions = buf[na : na+np : na+np]
	}
}

// clone returns a copy of c of the caller's own.
func (c *Claims) clone() *Claims {
	type cloned struct {
		claims Claims
		dates  [4]jwt.NumericDate
	}
	out := new(cloned)
	c.copyTo(&out.claims, &out.dates)
	return &out.claims
}

// HasScope reports whether the token grants scope, through its scope claim or its
// permissions. A hyphen and an underscore are the same character here, so a
// token granting "create:me:authentication-methods" has
// "create:me:authentication_methods".
func (c *Claims) HasScope(scope string) bool {
	for granted := range strings.FieldsSeq(c.Scope) {
		if sameScope(granted, scope) {
			return true
		}
	}
	for _, granted := range c.Permissions {
		if sameScope(granted, scope) {
			return true
		}
	}
	return false
}

func sameScope(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == '-' {
			x = '_'
		}
		if y == '-' {
			y = '_'
		}
		if x != y {
			return false
		}
	}
	return true
}

// isMachine reports whether the token was issued to a client rather than a user.
func (c *Claims) isMachine() bool {
	return c.Subject == "" || c.GrantType == "client-credentials" || strings.HasSuffix(c.Subject, "@clients")
}
