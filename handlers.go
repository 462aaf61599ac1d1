package myaccount

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"unicode"
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
