package myaccount

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Errors of DPoP proofs, beside the sentinels of errors.go. Both wrap
// [ErrInvalidToken], so a handler matching that sees every 401 of a token.
var (
	// ErrInvalidDPoPProof means a DPoP proof is missing or failed a check of
	// RFC 9449 section 4.3 (401 invalid_dpop_proof).
	ErrInvalidDPoPProof = fmt.Errorf("%w: invalid DPoP proof", ErrInvalidToken)
	// ErrUseDPoPNonce means a DPoP proof lacks the server's current nonce; the
	// response carries it in a DPoP-Nonce header (401 use_dpop_nonce).
	ErrUseDPoPNonce = fmt.Errorf("%w: DPoP proof needs the server's nonce", ErrInvalidDPoPProof)
)

// The authentication schemes of an Authorization header.
const (
	schemeBearer = "Bearer"
	schemeDPoP   = "DPoP"
)

type contextKey struct{}

// authState is what the authenticating middleware leaves for the ones after it.
type authState struct {
	claims  Claims // the request's own copy
	dates   [4]jwt.NumericDate
	v       *TokenValidator // nil for claims put in by ContextWithClaims
	realm   string
	scheme  string // how the token came: schemeBearer or schemeDPoP
	onError func(http.ResponseWriter, *http.Request, error)
	// proof is the request's DPoP proof, checked but not yet recorded in the
	// replay cache, on an API's routes until their rate limits pass; nil
	// otherwise.
	proof *proofUse
}

// authContext is the request context after [TokenValidator.Authenticate]: the
// parent with the authState as its one value, in a single allocation.
type authContext struct {
	context.Context
	state authState
}

func (c *authContext) Value(key any) any {
	if key == (contextKey{}) {
		return &c.state
	}
	return c.Context.Value(key)
}

// ClaimsFromContext returns the verified claims that [TokenValidator.Authenticate]
// put in the request context, the request's own copy. It never panics; ok is
// false when there are none.
func ClaimsFromContext(ctx context.Context) (claims *Claims, ok bool) {
	st, ok := ctx.Value(contextKey{}).(*authState)
	if !ok {
		return nil, false
	}
	return &st.claims, true
}

// ContextWithClaims returns ctx carrying a copy of claims as if
// [TokenValidator.Authenticate] had verified them, for tests of handlers and for
// middleware that finds tokens its own way. [RequireAudience] and
// [RequireScope] accept them; their challenges have realm and the Bearer scheme,
// and no step-up applies.
func ContextWithClaims(ctx context.Context, claims *Claims, realm string) context.Context {
	c := &authContext{Context: ctx, state: authState{realm: realm, scheme: schemeBearer, onError: WriteError}}
	claims.copyTo(&c.state.claims, &c.state.dates)
	return c
}

// AuthOptions adapt [TokenValidator.AuthenticateWith] to a route of an app's
// own. Zero values are the defaults.
type AuthOptions struct {
	// Audience, when set, must be among the token's "aud", as with
	// [RequireAudience]. Default: none checked here.
	Audience string
	// Realm is the realm of the route's challenges. Default: Audience, else the
	// validator's [TokenConfig.Realm].
	Realm string
	// Extractor finds the token elsewhere than the Authorization header; what
	// it finds is a bearer token. Default: the Authorization header, with the
	// Bearer or the DPoP scheme.
	Extractor TokenExtractor
	// CredentialsOptional lets a request without a token through with no
	// claims in its context; a bad token is still refused. Default: false.
	CredentialsOptional bool
	// ErrorHandler writes the route's token errors. Default: the validator's.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// Authenticate is middleware that requires a valid access token in the
// Authorization header and puts a copy of its claims in the request context:
// a bearer token, or a DPoP-bound token with its proof in the DPoP header,
// per [DPoPConfig.Mode]. Tokens in the query string or body are ignored, as if
// absent.
func (v *TokenValidator) Authenticate(next http.Handler) http.Handler {
	return v.AuthenticateWith(AuthOptions{})(next)
}

// AuthenticateWith is [TokenValidator.Authenticate] with options for an app's
// own routes: their audience and realm, another place for the token, and
// optional credentials.
func (v *TokenValidator) AuthenticateWith(o AuthOptions) func(http.Handler) http.Handler {
	return v.authenticateWith(o, false)
}

// authenticateWith is AuthenticateWith; with deferProof, a DPoP proof is left
// in the request's authState for recordProof to record once the API's rate
// limits have passed, instead of being recorded here.
func (v *TokenValidator) authenticateWith(o AuthOptions, deferProof bool) func(http.Handler) http.Handler {
	realm := orDefault(o.Realm, orDefault(o.Audience, v.realm))
	onError := o.ErrorHandler
	if onError == nil {
		onError = v.onError
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, err := v.authenticate(r, o.Extractor, realm)
			if err != nil {
				if o.CredentialsOptional && isMissing(err) {
					next.ServeHTTP(w, r)
					return
				}
				onError(w, r, err)
				return
			}
			if o.Audience != "" && !slices.Contains(a.claims.Audience, o.Audience) {
				onError(w, r, v.challengeError(realm, a.scheme, "invalid_token", "The access token has the wrong audience."))
				return
			}
			if a.proof != nil && !deferProof {
				if err := v.dpop.record(r.Context(), v, *a.proof); err != nil {
					onError(w, r, err)
					return
				}
			}
			if a.nonce != "" {
				w.Header().Set("DPoP-Nonce", a.nonce)
			}
			ctx := &authContext{Context: r.Context(), state: authState{v: v, realm: realm, scheme: a.scheme, onError: onError}}
			if deferProof {
				ctx.state.proof = a.proof
			}
			a.claims.copyTo(&ctx.state.claims, &ctx.state.dates)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// authenticated is a request's verified token.
type authenticated struct {
	claims *Claims // may be the cache's: copy before handing out
	scheme string
	nonce  string    // a DPoP nonce to hand the client, or ""
	proof  *proofUse // the DPoP proof to record as used; nil for a bearer token
}

// recordProof records the DPoP proof that authenticateWith left unrecorded in
// r's context, if any; an error is the response to write.
func recordProof(r *http.Request) error {
	st, ok := r.Context().Value(contextKey{}).(*authState)
	if !ok || st.proof == nil {
		return nil
	}
	use := *st.proof
	st.proof = nil
	return st.v.dpop.record(r.Context(), st.v, use)
}

// authenticate finds and verifies r's token. Errors are *Error values with
// the challenges of realm.
func (v *TokenValidator) authenticate(r *http.Request, extract TokenExtractor, realm string) (authenticated, error) {
	var scheme, token string
	if extract != nil {
		t, err := extract(r)
		if err != nil {
			return authenticated{}, v.challengeError(realm, schemeBearer, "invalid_token", "The access token could not be read.")
		}
		if t == "" {
			return authenticated{}, v.missingError(realm)
		}
		scheme, token = schemeBearer, t
	} else {
		var err error
		if scheme, token, err = v.authorization(r, realm); err != nil {
			return authenticated{}, err
		}
	}
	if scheme == schemeBearer {
		if v.dpop.mode == DPoPRequired {
			return authenticated{}, v.challengeError(realm, schemeDPoP, "invalid_token",
				"This resource needs a DPoP-bound access token, sent with the DPoP scheme and a DPoP proof.")
		}
		claims, err := v.check(token)
		if err != nil {
			return authenticated{}, v.challengeError(realm, schemeBearer, "invalid_token", err.Error())
		}
		if claims.Confirmation.JKT != "" {
			return authenticated{}, v.challengeError(realm, schemeBearer, "invalid_token", boundAsBearer)
		}
		return authenticated{claims: claims, scheme: schemeBearer}, nil
	}
	proofs := r.Header.Values("DPoP")
	if len(proofs) != 1 {
		return authenticated{}, v.challengeError(realm, schemeDPoP, "invalid_dpop_proof", "Send exactly one DPoP proof in the DPoP header.")
	}
	claims, err := v.check(token)
	if err != nil {
		return authenticated{}, v.challengeError(realm, schemeDPoP, "invalid_token", err.Error())
	}
	if claims.Confirmation.JKT == "" {
		return authenticated{}, v.challengeError(realm, schemeDPoP, "invalid_token", "The access token is not DPoP-bound: send it with the Bearer scheme.")
	}
	nonce, use, err := v.dpop.check(v, realm, proofs[0], proofRequest{
		method: r.Method, url: requestURL(v.publicBase(r), r), token: token, jkt: claims.Confirmation.JKT,
	})
	if err != nil {
		return authenticated{}, err
	}
	return authenticated{claims: claims, scheme: schemeDPoP, nonce: nonce, proof: &use}, nil
}

// authorization reads the Authorization header: its scheme, Bearer or DPoP
// (a scheme this validator does not take counts as no token), and its token.
func (v *TokenValidator) authorization(r *http.Request, realm string) (scheme, token string, err error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", "", v.missingError(realm)
	}
	if len(values) > 1 {
		return "", "", v.challengeError(realm, schemeBearer, "invalid_token", "Send exactly one Authorization header.")
	}
	scheme, token, _ = strings.Cut(values[0], " ")
	switch {
	case strings.EqualFold(scheme, schemeBearer):
		scheme = schemeBearer
	case strings.EqualFold(scheme, schemeDPoP) && v.dpop.mode != DPoPDisabled:
		scheme = schemeDPoP
	default:
		return "", "", v.missingError(realm)
	}
	if token = strings.TrimSpace(token); token == "" {
		return "", "", v.challengeError(realm, scheme, "invalid_token", "The access token is malformed.")
	}
	return scheme, token, nil
}

// isMissing reports whether err is the error of a request without a token.
func isMissing(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Err == ErrMissingToken
}

func missingTokenError(realm string) *Error {
	return (*TokenValidator)(nil).missingError(realm)
}

// missingError answers a request without a token: bare challenges.
func (v *TokenValidator) missingError(realm string) *Error {
	e := newError(http.StatusUnauthorized, "A0E-401-0001", "An access token is required in the Authorization header.", ErrMissingToken)
	e.Header = http.Header{"Www-Authenticate": v.challenges(realm, "", "")}
	return e
}

// challengeError is a 401 whose challenge of scheme carries errorCode and
// detail (RFC 6750 section 3, RFC 9449 section 7.1).
func (v *TokenValidator) challengeError(realm, scheme, errorCode, detail string) *Error {
	sentinel := ErrInvalidToken
	switch errorCode {
	case "invalid_dpop_proof":
		sentinel = ErrInvalidDPoPProof
	case "use_dpop_nonce":
		sentinel = ErrUseDPoPNonce
	}
	e := newError(http.StatusUnauthorized, "A0E-401-0001", detail, sentinel)
	e.Header = http.Header{"Www-Authenticate": v.challenges(realm, scheme,
		`error="`+errorCode+`", error_description="`+quote(detail)+`"`)}
	return e
}

// challenges are the WWW-Authenticate values of a response: a Bearer and a
// DPoP challenge, each only when the validator accepts the scheme. The one of
// scheme ends with params; when the validator does not accept scheme, the
// challenge it does accept gets them.
func (v *TokenValidator) challenges(realm, scheme, params string) []string {
	mode := DPoPDisabled
	algs := ""
	if v != nil {
		mode, algs = v.dpop.mode, v.dpop.challenge
	}
	if mode == DPoPRequired {
		scheme = schemeDPoP
	}
	if mode == DPoPDisabled {
		scheme = schemeBearer
	}
	bearer := `Bearer realm="` + quote(realm) + `"`
	dpop := `DPoP realm="` + quote(realm) + `", algs="` + algs + `"`
	if params != "" {
		if scheme == schemeDPoP {
			dpop += ", " + params
		} else {
			bearer += ", " + params
		}
	}
	switch mode {
	case DPoPRequired:
		return []string{dpop}
	case DPoPDisabled:
		return []string{bearer}
	}
	return []string{bearer, dpop}
}

// RequireAudience is middleware, after [TokenValidator.Authenticate], that refuses
// a token whose "aud" does not contain audience with 401 invalid_token.
func RequireAudience(audience string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, ok := r.Context().Value(contextKey{}).(*authState)
			if !ok {
				WriteError(w, r, missingTokenError(""))
				return
			}
			if !slices.Contains(st.claims.Audience, audience) {
				st.onError(w, r, st.v.challengeError(st.realm, st.scheme, "invalid_token", "The access token has the wrong audience."))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequireScope is middleware, after [TokenValidator.Authenticate], that refuses a
// token lacking any of scopes with 403 insufficient_scope, and one whose login
// is older or weaker than [TokenConfig.StepUp] asks for those scopes with 401
// insufficient_user_authentication.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, ok := r.Context().Value(contextKey{}).(*authState)
			if !ok {
				WriteError(w, r, missingTokenError(""))
				return
			}
			if err := checkScopes(st, scopes); err != nil {
				st.onError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func checkScopes(st *authState, scopes []string) error {
	for _, s := range scopes {
		if !st.claims.HasScope(s) {
			return insufficientScopeError(st, scopes)
		}
	}
	if st.v != nil && st.v.stepUp != nil {
		return st.v.checkStepUp(st, scopes)
	}
	return nil
}

func insufficientScopeError(st *authState, scopes []string) *Error {
	list := strings.Join(scopes, " ")
	e := newError(http.StatusForbidden, "A0E-403-0002", "The access token lacks the scope "+list+".", ErrInsufficientScope)
	e.Header = http.Header{"Www-Authenticate": st.v.challenges(st.realm, st.scheme,
		`error="insufficient_scope", error_description="`+quote(e.Detail)+`", scope="`+quote(list)+`"`)}
	return e
}

// quote escapes a value for a quoted-string in a challenge (RFC 9110 5.6.4).
func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
