package myaccount

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// maxConnectedAccounts is how many connected accounts a user may hold.
const maxConnectedAccounts = 20

// connectState is what a connect flow carries between its steps, sealed in
// its [ConnectFlow]: the app's request, then the provider leg's secrets,
// then the provider's answer.
type connectState struct {
	Connection  string            `json:"connection"`
	RedirectURI string            `json:"redirect_uri"`
	State       string            `json:"state,omitempty"`
	Challenge   string            `json:"code_challenge,omitempty"`
	Scopes      []string          `json:"scopes,omitempty"`
	Params      map[string]string `json:"params,omitempty"`
	// Set by the authorize step: the callback URL, PKCE verifier and nonce
	// used towards the provider.
	CallbackURL string `json:"callback_url,omitempty"`
	Verifier    string `json:"verifier,omitempty"`
	Nonce       string `json:"nonce,omitempty"`
	// Set by the callback: the account the provider granted.
	Subject          string      `json:"subject,omitempty"`
	Granted          []string    `json:"granted,omitempty"`
	Token            *vaultToken `json:"token,omitempty"`
	RefreshExpiresAt time.Time   `json:"refresh_expires_at,omitzero"`
}

// Handle kinds: a flow's handle is the hash of its current value with its
// kind in front, so a value of one step is never taken for another's.
const (
	handleTicket   = "ticket"
	handleState    = "state"
	handleCode     = "connect_code"
	randomTokenLen = 32 // bytes of a ticket, state or auth_session
	connectCodeLen = 24 // bytes of a connect code: 32 characters, under the OAS's 46
)

func flowHandle(kind, value string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + value))
	return hex.EncodeToString(sum[:])
}

// parseToken reads a ticket, state, code or auth_session: exactly n random
// bytes in strict base64url, so each has one spelling.
func parseToken(s string, n int) bool {
	b, ok := decodeAuthSession(s)
	return ok && len(b) == n
}

func newToken(n int) string { return b64url.EncodeToString(randomBytes(n)) }

func flowContext(f *ConnectFlow) []byte {
	return []byte("myaccount connect flow\x00" + f.ID + "\x00" + f.Issuer + "\x00" + f.UserID)
}

func (a *API) sealFlow(f *ConnectFlow, st *connectState) {
	plain, _ := json.Marshal(st)
	f.Sealed = a.keys.seal(nil, plain, flowContext(f))
}

func (a *API) openFlow(f *ConnectFlow) (*connectState, error) {
	plain, err := a.keys.open(f.Sealed, flowContext(f))
	if err != nil {
		return nil, errSessionInvalid
	}
	st := new(connectState)
	if json.Unmarshal(plain, st) != nil {
		return nil, errSessionInvalid
	}
	return st, nil
}

var (
	codeChallengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43,128}$`)
	codeVerifierPattern  = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)
	// oauthErrorPattern is the character set of an OAuth 2.0 error code and
	// description (RFC 6749 section 4.1.2.1).
	oauthErrorPattern = regexp.MustCompile(`^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,512}$`)
)

// POST /connected-accounts/connect
func (a *API) connect(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	body, err := a.readObject(w, r)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	if err := checkMembers(body, "", []member{
		{name: "connection", kind: kindString, required: true}, {name: "redirect_uri", kind: kindString, required: true},
		{name: "state", kind: kindString}, {name: "code_challenge", kind: kindString},
		{name: "code_challenge_method", kind: kindString}, {name: "scopes", kind: kindArray},
		{name: "authorization_params", kind: kindObject},
	}); err != nil {
		a.errs.write(w, r, err)
		return
	}
	st := &connectState{
		Connection: unquote(body["connection"]), RedirectURI: unquote(body["redirect_uri"]),
		State: unquote(body["state"]), Challenge: unquote(body["code_challenge"]),
	}
	p := a.providers[st.Connection]
	switch {
	case p == nil:
		a.errs.write(w, r, bodyError("/connection", "is not a connection of this deployment"))
		return
	case !slices.Contains(a.cfg.ConnectedAccounts.RedirectURIs, st.RedirectURI):
		a.errs.write(w, r, bodyError("/redirect_uri", "is not an allowed redirect URI"))
		return
	case body["state"] != nil && (st.State == "" || len(st.State) > 4096):
		a.errs.write(w, r, bodyError("/state", "must be 1 to 4096 characters"))
		return
	case body["code_challenge"] != nil && !codeChallengePattern.MatchString(st.Challenge):
		a.errs.write(w, r, bodyError("/code_challenge", "must be 43 to 128 base64url characters"))
		return
	case body["code_challenge"] != nil && unquote(body["code_challenge_method"]) != "S256",
		body["code_challenge_method"] != nil && unquote(body["code_challenge_method"]) != "S256":
		a.errs.write(w, r, bodyError("/code_challenge_method", `must be "S256", and is required with code_challenge`))
		return
	}
	if st.Scopes, err = p.requestedScopes(body["scopes"]); err != nil {
		a.errs.write(w, r, err)
		return
	}
	st.Params = p.passedParams(body["authorization_params"])

	authSession, ticket := newToken(randomTokenLen), newToken(randomTokenLen)
	f := &ConnectFlow{
		ID: sessionID([]byte(authSession)), Issuer: claims.Issuer, UserID: claims.Subject,
		Handle: flowHandle(handleTicket, ticket), ExpiresAt: time.Now().Add(a.cfg.ConnectedAccounts.TTL),
	}
	a.sealFlow(f, st)
	if err := a.cfg.Store.CreateConnectFlow(r.Context(), f); err != nil {
		a.errs.write(w, r, err)
		return
	}
	type connectParams struct {
		Ticket string `json:"ticket"`
	}
	writeJSON(w, r, http.StatusCreated, struct {
		AuthSession   string        `json:"auth_session"`
		ConnectURI    string        `json:"connect_uri"`
		ConnectParams connectParams `json:"connect_params"`
		ExpiresIn     int           `json:"expires_in"`
	}{authSession, a.connectedURL(r, "authorize"), connectParams{ticket}, max(1, int(a.cfg.ConnectedAccounts.TTL/time.Second))})
}

// connectedURL is the absolute URL of a browser step of the flow.
func (a *API) connectedURL(r *http.Request, step string) string {
	return a.cfg.publicBase(r) + a.cfg.BasePath + "/me/v1/connected-accounts/" + step
}

// requestedScopes reads a /connect's scopes: each one the connection allows,
// none repeated; none sent asks for every allowed scope.
func (p *provider) requestedScopes(raw json.RawMessage) ([]string, error) {
	if raw == nil {
		return p.conn.Scopes, nil
	}
	var scopes []string
	if json.Unmarshal(raw, &scopes) != nil || len(scopes) == 0 || len(scopes) > 100 {
		return nil, bodyError("/scopes", "must be 1 to 100 strings")
	}
	for i, s := range scopes {
		pointer := "/scopes/" + strconv.Itoa(i)
		switch {
		case s == "" || len(s) > 255 || strings.ContainsAny(s, " \"\\") || !oauthErrorPattern.MatchString(s):
			return nil, bodyError(pointer, "must be 1 to 255 printable characters without space")
		case slices.Contains(scopes[:i], s):
			return nil, bodyError(pointer, "is repeated")
		case !slices.Contains(p.conn.Scopes, s):
			return nil, bodyError(pointer, "is not a scope this connection allows")
		}
	}
	return scopes, nil
}

// passedParams keeps the authorization_params the connection passes on to
// the provider, as strings; every other one is ignored, as the contract asks.
func (p *provider) passedParams(raw json.RawMessage) map[string]string {
	if raw == nil || len(p.conn.AuthorizationParams) == 0 {
		return nil
	}
	var params map[string]json.RawMessage
	if json.Unmarshal(raw, &params) != nil {
		return nil
	}
	out := make(map[string]string)
	for name, v := range params {
		if !slices.Contains(p.conn.AuthorizationParams, name) {
			continue
		}
		switch kindOf(v) {
		case kindString:
			if s := unquote(v); s != "" && len(s) <= 4096 {
				out[name] = s
			}
		case kindNumber:
			if n, err := strconv.ParseUint(string(v), 10, 31); err == nil {
				out[name] = strconv.FormatUint(n, 10)
			}
		}
	}
	return out
}

// flowAt reads the flow that a browser step's query parameter names: kind is
// handleTicket or handleState, each also the parameter's name. A token off
// its grammar, unknown, expired or that does not open is 400 at the
// parameter.
func (a *API) flowAt(r *http.Request, kind string) (handle string, f *ConnectFlow, st *connectState, err error) {
	stale := queryError(kind, "is invalid, expired or already used")
	token := r.URL.Query().Get(kind)
	if !parseToken(token, randomTokenLen) {
		return "", nil, nil, stale
	}
	handle = flowHandle(kind, token)
	f, err = a.cfg.Store.ConnectFlow(r.Context(), handle)
	if errors.Is(err, ErrNotFound) {
		return "", nil, nil, stale
	}
	if err != nil {
		return "", nil, nil, err
	}
	if st, err = a.openFlow(f); err != nil {
		return "", nil, nil, stale
	}
	return handle, f, st, nil
}

// GET /connected-accounts/authorize?ticket=: the connect_uri. It spends the
// ticket and sends the browser to the provider with its own PKCE and state.
func (a *API) connectAuthorize(w http.ResponseWriter, r *http.Request) {
	handle, f, st, err := a.flowAt(r, handleTicket)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	p := a.providers[st.Connection]
	if p == nil { // the deployment dropped it since /connect
		a.errs.write(w, r, queryError("ticket", "names a connection no longer configured"))
		return
	}
	st.CallbackURL = a.connectedURL(r, "callback")
	oc, err := p.oauth2Config(r.Context(), st.CallbackURL)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	state := newToken(randomTokenLen)
	st.Verifier, st.Nonce = oauth2.GenerateVerifier(), newToken(16)
	next := *f
	next.Handle = flowHandle(handleState, state)
	a.sealFlow(&next, st)
	if err := a.cfg.Store.ReplaceConnectFlow(r.Context(), handle, &next); err != nil {
		if errors.Is(err, ErrSessionUsed) {
			err = queryError("ticket", "is invalid, expired or already used")
		}
		a.errs.write(w, r, err)
		return
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(st.Verifier), oauth2.AccessTypeOffline}
	if p.conn.Issuer != "" {
		opts = append(opts, oauth2.SetAuthURLParam("nonce", st.Nonce))
	}
	for name, v := range st.Params {
		opts = append(opts, oauth2.SetAuthURLParam(name, v))
	}
	oc.Scopes = st.Scopes
	http.Redirect(w, r, oc.AuthCodeURL(state, opts...), http.StatusFound)
}

// GET /connected-accounts/callback: the provider's answer. It exchanges the
// code, seals the tokens in the flow and sends the browser back to the app's
// redirect_uri with a connect code, or with the provider's error.
func (a *API) connectCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	handle, f, st, err := a.flowAt(r, handleState)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	p := a.providers[st.Connection]
	if p == nil {
		a.errs.write(w, r, queryError(handleState, "is invalid, expired or already used"))
		return
	}
	back := func(code, description string) {
		if code != "" { // the flow ends here: spend it
			if err := a.cfg.Store.DeleteConnectFlow(r.Context(), handle); err != nil {
				if errors.Is(err, ErrSessionUsed) {
					err = queryError("state", "is invalid, expired or already used")
				}
				a.errs.write(w, r, err)
				return
			}
		}
		params := url.Values{}
		if code != "" {
			params.Set("error", code)
			params.Set("error_description", description)
		} else {
			params.Set("connect_code", description)
		}
		if st.State != "" {
			params.Set("state", st.State)
		}
		http.Redirect(w, r, appendQuery(st.RedirectURI, params), http.StatusFound)
	}
	if e := q.Get("error"); e != "" || q.Get("code") == "" {
		code, description := "server_error", "The provider answered without a code."
		if oauthErrorPattern.MatchString(e) {
			code, description = e, "The provider refused the authorization."
			if d := q.Get("error_description"); oauthErrorPattern.MatchString(d) {
				description = d
			}
		}
		back(code, description)
		return
	}
	oc, err := p.oauth2Config(r.Context(), st.CallbackURL)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	// The state is spent, in one store step, before the provider's code is
	// exchanged: a replayed callback must not exchange it a second time. The
	// flow moves to its connect code's handle, which nobody holds until the
	// redirect below, and which /complete refuses until the tokens are in.
	code := newToken(connectCodeLen)
	claimed := *f
	claimed.Handle = flowHandle(handleCode, code)
	if err := a.cfg.Store.ReplaceConnectFlow(r.Context(), handle, &claimed); err != nil {
		if errors.Is(err, ErrSessionUsed) {
			err = queryError("state", "is invalid, expired or already used")
		}
		a.errs.write(w, r, err)
		return
	}
	handle = claimed.Handle
	tok, err := oc.Exchange(p.clientContext(r.Context()), q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		a.cfg.Logger.WarnContext(r.Context(), "myaccount: connected account: code exchange failed", "connection", p.conn.Name, "err", err)
		code := "server_error"
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && oauthErrorPattern.MatchString(re.ErrorCode) {
			code = re.ErrorCode
		}
		back(code, "The provider did not exchange the authorization code.")
		return
	}
	subject, err := p.subject(r.Context(), tok, st.Nonce)
	if err != nil {
		a.cfg.Logger.WarnContext(r.Context(), "myaccount: connected account: no subject", "connection", p.conn.Name, "err", err)
		back("server_error", "The provider's identity of the user could not be verified.")
		return
	}
	st.Subject, st.Token, st.Granted = subject, newVaultToken(tok), st.Scopes
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		// RFC 6749 separates scopes with spaces; GitHub with commas.
		st.Granted = strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	}
	if secs := extraSeconds(tok, "refresh_token_expires_in"); secs > 0 {
		st.RefreshExpiresAt = time.Now().Add(time.Duration(secs) * time.Second).UTC()
	}
	st.Verifier, st.Nonce = "", ""
	next := claimed
	a.sealFlow(&next, st)
	if err := a.cfg.Store.ReplaceConnectFlow(r.Context(), handle, &next); err != nil {
		if errors.Is(err, ErrSessionUsed) {
			err = queryError("state", "is invalid, expired or already used")
		}
		a.errs.write(w, r, err)
		return
	}
	back("", code)
}

// extraSeconds reads a numeric member of the token response.
func extraSeconds(tok *oauth2.Token, name string) int64 {
	switch v := tok.Extra(name).(type) {
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// appendQuery adds params to uri's query, keeping what it has.
func appendQuery(uri string, params url.Values) string {
	base, fragment, _ := strings.Cut(uri, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	out := base + sep + params.Encode()
	if fragment != "" {
		out += "#" + fragment
	}
	return out
}

// POST /connected-accounts/complete
func (a *API) completeConnect(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	body, err := a.readObject(w, r)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	if err := checkMembers(body, "", []member{
		{name: "auth_session", kind: kindString, required: true}, {name: "connect_code", kind: kindString, required: true},
		{name: "redirect_uri", kind: kindString, required: true}, {name: "code_verifier", kind: kindString},
	}); err != nil {
		a.errs.write(w, r, err)
		return
	}
	authSession, code := unquote(body["auth_session"]), unquote(body["connect_code"])
	redirectURI, verifier := unquote(body["redirect_uri"]), unquote(body["code_verifier"])
	if body["code_verifier"] != nil && !codeVerifierPattern.MatchString(verifier) {
		a.errs.write(w, r, bodyError("/code_verifier", "must be 43 to 128 characters of A-Z, a-z, 0-9, -, ., _, ~"))
		return
	}
	if !parseToken(authSession, randomTokenLen) {
		a.errs.write(w, r, errSessionInvalid)
		return
	}
	if !parseToken(code, connectCodeLen) {
		a.errs.write(w, r, connectCodeError())
		return
	}
	handle := flowHandle(handleCode, code)
	f, err := a.cfg.Store.ConnectFlow(r.Context(), handle)
	if errors.Is(err, ErrNotFound) {
		err = connectCodeError()
	}
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	// From here a refusal spends the code (RFC 6749 section 4.1.2: a code
	// works once); an answer of 5xx does not, so that a retry can succeed.
	refuse := func(err error) {
		a.audit(r, AuditEvent{Type: AuditConnectRefused, MethodType: auditConnectedType, Reason: auditReason(err)})
		if spendErr := a.cfg.Store.DeleteConnectFlow(r.Context(), handle); spendErr != nil && !errors.Is(spendErr, ErrSessionUsed) {
			err = spendErr
		}
		a.errs.write(w, r, err)
	}
	st, err := a.openFlow(f)
	switch {
	case f.ID != sessionID([]byte(authSession)) || f.Issuer != claims.Issuer || f.UserID != claims.Subject || err != nil:
		refuse(errSessionInvalid)
		return
	case redirectURI != st.RedirectURI:
		refuse(bodyError("/redirect_uri", "does not equal the redirect_uri of /connect"))
		return
	case st.Challenge != "" && body["code_verifier"] == nil:
		refuse(bodyError("/code_verifier", "is required: /connect sent a code_challenge"))
		return
	case st.Challenge == "" && body["code_verifier"] != nil:
		// A verifier for no challenge is a PKCE downgrade (OAuth 2.1 section 4.1.3).
		refuse(bodyError("/code_verifier", "was not expected: /connect sent no code_challenge"))
		return
	case st.Challenge != "" && oauth2.S256ChallengeFromVerifier(verifier) != st.Challenge:
		refuse(bodyError("/code_verifier", "does not match the code_challenge"))
		return
	case st.Token == nil:
		refuse(connectCodeError())
		return
	}
	acct := &ConnectedAccount{
		ID: "cac_" + randomAlphanumeric(20), Issuer: claims.Issuer, UserID: claims.Subject,
		Connection: st.Connection, Subject: st.Subject, Scopes: st.Granted,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond), ExpiresAt: st.RefreshExpiresAt,
	}
	a.sealTokens(acct, st.Token)
	acct, err = a.cfg.Store.CompleteConnectFlow(r.Context(), handle, acct, maxConnectedAccounts)
	switch {
	case errors.Is(err, ErrSessionUsed):
		a.errs.write(w, r, connectCodeError())
		return
	case errors.Is(err, ErrLimitReached):
		refuse(newError(http.StatusConflict, "A0E-409-0001", "The maximum number of connected accounts has been reached.", err))
		return
	case err != nil:
		a.errs.write(w, r, err)
		return
	}
	a.audit(r, AuditEvent{Type: AuditAccountConnected, MethodID: acct.ID, MethodType: auditConnectedType})
	writeJSON(w, r, http.StatusCreated, accountBody(acct))
}

func connectCodeError() error {
	return validationError("The connect_code is invalid, expired or already used.", ValidationError{
		Detail: "invalid, expired or already used", Field: "connect_code", Pointer: "/connect_code", Source: "body",
	})
}

func queryError(name, detail string) error {
	return validationError("The query is invalid.", ValidationError{Detail: detail, Field: name, Source: "query"})
}
