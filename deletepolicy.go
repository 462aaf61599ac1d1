package myaccount

import (
	"context"
	"errors"
	"net/http"
)

// errDeleteRefused means a [Config.DeletePolicy] refused a delete.
var errDeleteRefused = errors.New("myaccount: delete refused by policy")

// KeepLastPrimary is a [Config.DeletePolicy] that refuses to delete a user's last
// primary method (passkey or password), so a user of an app that signs in only
// through this API's methods cannot lock themselves out. Off unless set: the
// library cannot see the logins an identity provider handles itself (a social
// connection, a passwordless email link).
func KeepLastPrimary(_ context.Context, _ *Claims, m *Method, others []*Method) error {
	if families[m.Type] == nil || families[m.Type].usage(m.Type) != "primary" {
		return nil
	}
	for _, o := range others {
		if f := families[o.Type]; f != nil && f.usage(o.Type) == "primary" {
			return nil
		}
	}
	return newError(http.StatusConflict, "A0E-409-0003", "This is the last method you can sign in with; add another before deleting it.", errDeleteRefused)
}

// checkDeletePolicy runs the configured policy on the method with this id.
func (a *API) checkDeletePolicy(ctx context.Context, claims *Claims, id string) error {
	all, err := a.cfg.Store.ListMethods(ctx, claims.Issuer, claims.Subject, "")
	if err != nil {
		return err
	}
	var target *Method
	others := make([]*Method, 0, len(all))
	for _, m := range all {
		if m.ID == id {
			target = m
		} else {
			others = append(others, m)
		}
	}
	if target == nil {
		return ErrNotFound
	}
	err = a.cfg.DeletePolicy(ctx, claims, target, others)
	var e *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return err
	}
	return newError(http.StatusConflict, "A0E-409-0003", "This authentication method cannot be deleted.", errors.Join(errDeleteRefused, err))
}
