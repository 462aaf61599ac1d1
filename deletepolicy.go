package myaccount

import (
	"context"
	"errors"
	"net/http"
)

// errDeleteRefused means a [UserConfig.DeletePolicy] refused a delete.
var errDeleteRefused = errors.New("myaccount: delete refused by policy")

// KeepLastPrimary is a [UserConfig.DeletePolicy] that refuses to delete a user's last
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

// deleteCheck is the configured policy as the store runs it, answering its
// refusals as 409; nil when no policy is configured.
func (a *API) deleteCheck(ctx context.Context, claims *Claims) func(m *Method, others []*Method) error {
	policy := a.cfg.Users.DeletePolicy
	if policy == nil {
		return nil
	}
	return func(m *Method, others []*Method) error {
		err := policy(ctx, claims, m, others)
		var e *Error
		switch {
		case err == nil:
			return nil
		case errors.As(err, &e):
			return err
		}
		return newError(http.StatusConflict, "A0E-409-0003", "This authentication method cannot be deleted.", errors.Join(errDeleteRefused, err))
	}
}
