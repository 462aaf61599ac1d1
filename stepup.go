package myaccount

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// errInsufficientAuthentication means the token's login is too old or too weak
// for the operation (RFC 9470): the user must log in again.
var errInsufficientAuthentication = errors.New("myaccount: insufficient user authentication")

// StepUp is the authentication a scope demands on top of the scope itself
// (RFC 9470). Zero values demand nothing.
type StepUp struct {
	// MaxAge is how long ago the user may have logged in, by the token's
	// "auth_time" (a token without one falls short). Default: 0, any age.
	MaxAge time.Duration
	// ACRValues are the accepted "acr" values of the token. Default: none,
	// any acr.
	ACRValues []string
}

// resolveStepUp checks cfg and keys it by scope with underscores only.
func resolveStepUp(cfg map[string]StepUp) (map[string]StepUp, error) {
	if len(cfg) == 0 {
		return nil, nil
	}
	out := make(map[string]StepUp, len(cfg))
	for scope, s := range cfg {
		if s.MaxAge < 0 {
			return nil, fmt.Errorf("%w: StepUp[%q].MaxAge must not be negative", ErrConfig, scope)
		}
		for _, acr := range s.ACRValues {
			if acr == "" || strings.ContainsAny(acr, "\" \\") {
				return nil, fmt.Errorf("%w: StepUp[%q] has an empty acr value or one with a space or a quote", ErrConfig, scope)
			}
		}
		out[strings.ReplaceAll(scope, "-", "_")] = StepUp{MaxAge: s.MaxAge, ACRValues: slices.Clone(s.ACRValues)}
	}
	return out, nil
}

// checkStepUp refuses a token that falls short of the step-up of any of scopes.
func (v *TokenValidator) checkStepUp(st *authState, scopes []string) error {
	for _, scope := range scopes {
		s, ok := v.stepUp[strings.ReplaceAll(scope, "-", "_")]
		if !ok {
			continue
		}
		c := &st.claims
		tooOld := s.MaxAge > 0 && (c.AuthTime == nil || v.now().Sub(c.AuthTime.Time) > s.MaxAge+v.leeway)
		wrongACR := len(s.ACRValues) > 0 && !slices.Contains(s.ACRValues, c.ACR)
		if tooOld || wrongACR {
			return insufficientAuthenticationError(st, s)
		}
	}
	return nil
}

func insufficientAuthenticationError(st *authState, s StepUp) *Error {
	detail := "This operation needs a more recent or stronger login."
	params := `error="insufficient_user_authentication", error_description="` + detail + `"`
	if s.MaxAge > 0 {
		params += `, max_age="` + strconv.FormatInt(int64(s.MaxAge/time.Second), 10) + `"`
	}
	if len(s.ACRValues) > 0 {
		params += `, acr_values="` + strings.Join(s.ACRValues, " ") + `"`
	}
	e := newError(http.StatusUnauthorized, "A0E-401-0001", detail, errInsufficientAuthentication)
	e.Header = http.Header{"Www-Authenticate": st.v.challenges(st.realm, st.scheme, params)}
	return e
}
