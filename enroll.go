package myaccount

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The authentication method types of the contract (its FactorTypeEnum).
const (
	typePassword         = "password"
	typePasskey          = "passkey"
	typeWebAuthnPlatform = "webauthn-platform"
	typeWebAuthnRoaming  = "webauthn-roaming"
	typeTOTP             = "totp"
	typePhone            = "phone"
	typeEmail            = "email"
	typePushNotification = "push-notification"
	typeRecoveryCode     = "recovery-code"
)

// factorTypes are every type of the contract, in its order.
var factorTypes = []string{
	typePassword, typePasskey, typeWebAuthnPlatform, typeWebAuthnRoaming, typeTOTP, typePhone, typeEmail,
	typePushNotification, typeRecoveryCode,
}

// methodFamily enrolls and shows the methods of one family of types (WebAuthn,
// TOTP, codes sent by message, recovery codes). Each family lives in its own
// file, holding both halves of its enrollment; the handlers dispatch on a
// method's type through the families table.
type methodFamily interface {
	// beginMembers are the members a POST body may have besides "type".
	beginMembers(typ string) []member
	// begin does the first step of an enrollment whose common parts (type,
	// identity, limit, id) are checked and set: it validates the rest of the
	// body, fills e.state.Data and appends the 202 body's own members to e.reply.
	// Nothing may be sent or stored before the body is fully validated.
	begin(ctx context.Context, e *enrollment) error
	// verifyMembers are the members a verify body may have besides "auth_session".
	verifyMembers(typ string) []member
	// finish checks the verify body against the state and fills in v.method.
	// A family that tries a code calls v.countAttempt first; one whose check
	// fails for good calls v.spend.
	finish(ctx context.Context, v *verification) error
	// appendFields appends the method's type-specific JSON members, each
	// preceded by a comma.
	appendFields(b []byte, m *Method) []byte
	// limit is how many methods of typ a user may hold.
	limit(cfg *Config, typ string) int
	// usage is "primary" or "secondary".
	usage(typ string) string
	// offered reports whether a deployment with cfg enrolls typ.
	offered(cfg *Config, typ string) bool
}

// methodSaver is a family that stores a verified method itself instead of
// through Store.CreateMethod: the password family changes the secret of a
// method that exists.
type methodSaver interface {
	// save stores what finish prepared, marking v.session used in the same
	// step, and returns the method as stored.
	save(ctx context.Context, v *verification) (*Method, error)
}

// verifyBodyChecker is a family that checks a verify body of typ beyond its
// members' kinds, before any work is spent on the auth_session. What it read
// on the way (checked) reaches finish, so the body is not read twice.
type verifyBodyChecker interface {
	checkVerifyBody(typ string, body map[string]json.RawMessage) (checked any, err error)
}

// enrollment is one POST /authentication-methods on its way through a family.
type enrollment struct {
	api      *API
	r        *http.Request
	claims   *Claims
	body     map[string]json.RawMessage
	existing []*Method // the user's methods of the type
	handle   []byte    // the user's WebAuthn user handle, for a family that needs one
	state    enrollState
	reply    []byte // the 202 body's members after auth_session, each after a comma
}

// verification is one POST /authentication-methods/{id}/verify on its way
// through a family.
type verification struct {
	api     *API
	r       *http.Request
	claims  *Claims
	body    map[string]json.RawMessage
	checked any // what a verifyBodyChecker family read of the body
	state   *enrollState
	session SessionRef
	method  *Method // with the common fields set
	saved   any     // a methodSaver family's own state, from finish to save
}

// maxCodeAttempts is how many codes may be tried with one auth_session.
const maxCodeAttempts = 5

// countAttempt records one try of a code; past maxCodeAttempts the session is
// spent and every later try is refused, whatever its code.
func (v *verification) countAttempt(ctx context.Context) error {
	err := v.api.cfg.Store.CountAttempt(ctx, v.session, maxCodeAttempts)
	if errors.Is(err, ErrSessionUsed) {
		return errSessionInvalid
	}
	return err
}

// spend marks the session used after a failed verification, so it cannot be
// tried again, and returns failure for the caller to report.
func (v *verification) spend(ctx context.Context, failure error) error {
	if err := v.api.cfg.Store.SpendSession(ctx, v.session); err != nil && !errors.Is(err, ErrSessionUsed) {
		return err
	}
	return failure
}

// wrongCode is the answer to a one-time code that does not match.
func wrongCode() error {
	return bodyError("/otp_code", "The code is not valid. Check it and try again.")
}

// POST /authentication-methods: the first step of an enrollment.
func (a *API) enroll(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	ctx := r.Context()
	body, err := a.readObject(w, r)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	if _, ok := body["type"]; !ok {
		a.errs.write(w, r, bodyError("/type", "is required"))
		return
	}
	typ := unquote(body["type"])
	if kindOf(body["type"]) != kindString || !a.offered[typ] {
		a.errs.write(w, r, bodyError("/type", "must be one of: "+strings.Join(a.offeredTypes, ", ")))
		return
	}
	family := families[typ]
	if err := checkMembers(body, "", append([]member{{name: "type", kind: kindString, required: true}}, family.beginMembers(typ)...)); err != nil {
		a.errs.write(w, r, err)
		return
	}
	identity, err := a.enrollIdentity(r, claims, body)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	existing, handle, err := a.readForEnrollment(ctx, claims, typ, family)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	if len(existing) >= family.limit(&a.cfg, typ) {
		a.errs.write(w, r, ErrLimitReached)
		return
	}
	e := &enrollment{
		api: a, r: r, claims: claims, body: body, existing: existing, handle: handle,
		state: enrollState{
			Type: typ, MethodID: typ + "|dev_" + randomAlphanumeric(16), Identity: identity,
			ExpiresAt: time.Now().Add(a.cfg.SessionTTL),
		},
	}
	own := getBuffer() // the family's members, such as a passkey's options
	defer putBuffer(own)
	e.reply = *own
	err = family.begin(ctx, e)
	*own = e.reply
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	reply := append(*buf, '{')
	location := e.state.MethodID
	if typ == typePasskey {
		// Auth0 answers a passkey with no id and verifies it at passkey|new.
		location = passkeyVerifyID
	} else {
		reply = append(reply, `"id":`...)
		reply = appendString(reply, e.state.MethodID)
		reply = append(reply, ',')
	}
	reply = append(reply, `"auth_session":"`...)
	reply = a.appendSession(reply, claims, &e.state)
	reply = append(reply, '"')
	reply = append(reply, e.reply...)
	reply = append(reply, '}')
	*buf = reply
	a.audit(r, AuditEvent{Type: AuditEnrollmentStarted, MethodType: typ})
	w.Header().Set("Location", a.methodURL(r, location))
	writeBody(w, r, http.StatusAccepted, reply)
}

// passkeyVerifyID is the id a passkey enrollment is verified under.
const passkeyVerifyID = typePasskey + "|new"

// POST /authentication-methods/{id}/verify: the second step of an enrollment.
func (a *API) verify(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	ctx := r.Context()
	pid, ok := a.pathID(w, r)
	if !ok {
		return
	}
	body, err := a.readObject(w, r)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	id, typ := pid.String(), pid.typ()
	family := families[typ]
	if !a.offered[typ] || (typ == typePasskey && id != passkeyVerifyID) {
		a.errs.write(w, r, ErrNotFound)
		return
	}
	if err := checkMembers(body, "", append([]member{{name: "auth_session", kind: kindString, required: true}}, family.verifyMembers(typ)...)); err != nil {
		a.errs.write(w, r, err)
		return
	}
	var checked any
	if checker, ok := family.(verifyBodyChecker); ok {
		if checked, err = checker.checkVerifyBody(typ, body); err != nil {
			a.errs.write(w, r, err)
			return
		}
	}
	refuse := func(err error) {
		a.audit(r, AuditEvent{Type: verifyFailedEvent(typ), MethodType: typ, Reason: auditReason(err)})
		a.errs.write(w, r, err)
	}
	state, session, err := a.openSession(claims, unquote(body["auth_session"]))
	if err != nil {
		refuse(err)
		return
	}
	if state.Type != typ || (typ != typePasskey && state.MethodID != id) {
		refuse(errSessionInvalid) // a session is bound to the id it was issued for
		return
	}
	v := &verification{
		api: a, r: r, claims: claims, body: body, checked: checked, state: state, session: session,
		method: &Method{
			ID: state.MethodID, Issuer: claims.Issuer, UserID: claims.Subject, Type: typ,
			IdentityUserID: state.Identity, CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
		},
	}
	if err := family.finish(ctx, v); err != nil {
		refuse(err)
		return
	}
	saved := v.method
	if saver, ok := family.(methodSaver); ok {
		saved, err = saver.save(ctx, v)
	} else {
		err = a.cfg.Store.CreateMethod(ctx, v.method, family.limit(&a.cfg, typ), session)
	}
	if err != nil {
		refuse(err)
		return
	}
	a.audit(r, AuditEvent{Type: AuditMethodEnrolled, MethodID: saved.ID, MethodType: typ})
	w.Header().Set("Location", a.methodURL(r, saved.ID))
	a.writeMethod(w, r, http.StatusCreated, saved)
}

// handleUser is a family whose first step needs the user's WebAuthn user handle.
type handleUser interface{ usesUserHandle() }

// readForEnrollment reads the user's methods of typ and, for a family that
// needs it, the user's WebAuthn user handle (stored now for a new user): in
// one call when the store can, as a database does in one round trip.
func (a *API) readForEnrollment(ctx context.Context, claims *Claims, typ string, family methodFamily) (existing []*Method, handle []byte, err error) {
	store := a.cfg.Store
	if _, ok := family.(handleUser); !ok {
		existing, err = store.ListMethods(ctx, claims.Issuer, claims.Subject, typ)
		return existing, nil, err
	}
	if reader, ok := store.(MethodsAndHandleReader); ok {
		return reader.MethodsAndUserHandle(ctx, claims.Issuer, claims.Subject, typ, randomBytes(32))
	}
	if existing, err = store.ListMethods(ctx, claims.Issuer, claims.Subject, typ); err != nil {
		return nil, nil, err
	}
	handle, err = store.UserHandle(ctx, claims.Issuer, claims.Subject, randomBytes(32))
	return existing, handle, err
}

// families holds the family of every type this package enrolls.
var families = map[string]methodFamily{
	typePasskey:          webauthnFamily{},
	typeWebAuthnRoaming:  webauthnFamily{},
	typeWebAuthnPlatform: webauthnFamily{},
	typeTOTP:             totpFamily{},
	typeRecoveryCode:     recoveryCodeFamily{},
	typeEmail:            messageFamily{},
	typePhone:            messageFamily{},
	typePassword:         passwordFamily{},
	typePushNotification: pushFamily{},
}

// offeredTypes returns the types this deployment enrolls, in the contract's order.
func (c *Config) offeredTypes() []string {
	var types []string
	for _, t := range factorTypes {
		if families[t].offered(c, t) {
			types = append(types, t)
		}
	}
	return types
}

// isType reports whether typ is a type of the contract.
func isType(typ string) bool { return slices.Contains(factorTypes, typ) }
