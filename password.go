package myaccount

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PasswordConfig configures the password method (type "password"): one
// password per identity, set and changed through the API against a policy
// the client is shown first.
type PasswordConfig struct {
	// Backend checks and keeps the passwords; password is offered only when it
	// is set. [NewArgon2Passwords] keeps them in the Store. Default: nil.
	Backend PasswordBackend
	// ProfileValue gives the value of a profile field that the policy's
	// profile_data rule keeps out of passwords, for the signed-in user; "" skips
	// the field. Default: the token's "name", "email" and "nickname" claims.
	ProfileValue func(claims *Claims, field string) string
}

// PasswordBackend checks and sets the passwords of the password method. The
// API keeps the method record (its id, identity and last_password_reset) in
// the [Store]; the backend decides where the password itself goes: the built-in
// [Argon2Passwords] returns a hash for the Store to keep, and an app whose
// passwords live elsewhere (its own user table, an identity provider's
// management API) sets it there and returns no secret.
type PasswordBackend interface {
	// Policy is the policy a new password of the user's identity must meet. It
	// is shown to the client in the 202, and the API checks a new password
	// against its complexity, profile_data and dictionary rules before
	// SetPassword sees it. An error answers 503.
	Policy(ctx context.Context, user PasswordUser) (PasswordPolicy, error)
	// SetPassword sets password, in its NFKC form (the API normalises it
	// before every rule; a backend checking a password later normalises the
	// same way), for the user's identity; current is the
	// identity's password method as stored (with its Secret and SecretHistory)
	// when it has one, nil for a first password. It returns the secret the
	// Store keeps as the method's Secret: a hash, or nil when the password
	// lives elsewhere. A *[PasswordRejectedError] answers 400 with its
	// reasons (the history rule is the backend's to check); any other error
	// 503. The password is never kept in plain text nor logged. Concurrent
	// verifies of one auth_session may call it more than once; only one of
	// them is stored.
	SetPassword(ctx context.Context, user PasswordUser, password string, current *Method) (secret []byte, err error)
}

// PasswordUser is whose password a [PasswordBackend] is asked about.
type PasswordUser struct {
	// Claims are the signed-in user's token claims.
	Claims *Claims
	// IdentityUserID is the identity the password is for (see
	// [UserConfig.AllowIdentity]).
	IdentityUserID string
	// Connection is the connection the request named, or "".
	Connection string
}

// PasswordRejectedError is a [PasswordBackend]'s refusal of a new password:
// each reason becomes its own validation error at /new_password.
type PasswordRejectedError struct {
	// Reasons are short sentences safe to show to the user, such as "must not
	// be one of your last 5 passwords".
	Reasons []string
}

// Error lists the reasons.
func (e *PasswordRejectedError) Error() string {
	return "myaccount: password rejected: " + strings.Join(e.Reasons, "; ")
}

// PasswordPolicy is the policy a new password must meet, in the shape of the
// contract's PasswordAuthenticationMethodPolicy.
type PasswordPolicy struct {
	// Complexity is what a password must be made of.
	Complexity struct {
		// MinLength is the fewest characters (Unicode code points of its NFKC
		// form) a password has.
		MinLength int `json:"min_length"`
		// CharacterTypes are the kinds of character required: "uppercase",
		// "lowercase", "number", "special" (anything else, a space included).
		CharacterTypes []string `json:"character_types"`
		// CharacterTypeRule is "all" (every one of CharacterTypes) or
		// "three_of_four" (three of them).
		CharacterTypeRule string `json:"character_type_rule"`
		// IdenticalCharacters "block" refuses 3 identical characters in a row;
		// "allow" does not.
		IdenticalCharacters string `json:"identical_characters"`
		// SequentialCharacters "block" refuses 3 consecutive letters or digits in
		// a row, up or down ("abc", "321"); "allow" does not.
		SequentialCharacters string `json:"sequential_characters"`
		// MaxLengthExceeded is "error": the API refuses a password over 256
		// characters. "truncate" tells clients that the backend truncates long
		// passwords itself; the built-in backend never does.
		MaxLengthExceeded string `json:"max_length_exceeded"`
	} `json:"complexity"`
	// ProfileData, when Active, refuses a password that contains the user's
	// value of any BlockedFields (see [PasswordConfig.ProfileValue]), or one
	// of its words or an email's part before "@", ignoring case; parts
	// shorter than 3 characters are not checked.
	ProfileData struct {
		Active        bool     `json:"active"`
		BlockedFields []string `json:"blocked_fields"`
	} `json:"profile_data"`
	// History, when Active, refuses a password among the identity's last
	// Size passwords, the current one included.
	History struct {
		Active bool `json:"active"`
		Size   int  `json:"size"`
	} `json:"history"`
	// Dictionary, when Active, refuses a common password. Default is
	// "en_10k" or "en_100k", the names the contract allows. This package embeds
	// the en_10k list (passwordlist/en_10k.txt: the 10,000 most common
	// passwords, each also caught when followed by digits and symbols), which
	// the API checks for both: a backend whose policy says en_100k checks the
	// other 90,000 itself, in SetPassword; [NewArgon2Passwords], which has no
	// such list, refuses it.
	Dictionary struct {
		Active  bool   `json:"active"`
		Default string `json:"default"`
	} `json:"dictionary"`
}

// DefaultPasswordPolicy is the policy [NewArgon2Passwords] uses unless told
// otherwise: at least 8 characters with three of the four character types,
// no 3 identical characters in a row, no name, email or nickname, none of the
// last 5 passwords, no common password. A backend of its own starts from it
// and changes what differs.
func DefaultPasswordPolicy() PasswordPolicy {
	var p PasswordPolicy
	c := &p.Complexity
	c.MinLength, c.CharacterTypeRule = 8, "three_of_four"
	c.CharacterTypes = []string{"lowercase", "uppercase", "number", "special"}
	c.IdenticalCharacters, c.SequentialCharacters, c.MaxLengthExceeded = "block", "allow", "error"
	p.ProfileData.Active, p.ProfileData.BlockedFields = true, []string{"name", "email", "nickname"}
	p.History.Active, p.History.Size = true, 5
	p.Dictionary.Active, p.Dictionary.Default = true, "en_10k"
	return p
}

// maxPasswordLength is the longest new_password, in characters, the contract's
// VerifyPasswordAuthenticationMethod allows.
const maxPasswordLength = 256

// maxPasswordIdentities bounds the password methods one user holds: one per
// identity, for at most this many identities.
const maxPasswordIdentities = 20

// check reports what is wrong with the policy itself.
func (p *PasswordPolicy) check() error {
	c := &p.Complexity
	if c.MinLength < 0 || c.MinLength > maxPasswordLength {
		return fmt.Errorf("min_length %d is not between 0 and %d", c.MinLength, maxPasswordLength)
	}
	for _, t := range c.CharacterTypes {
		if characterTypeNames[t] == "" {
			return fmt.Errorf("character type %q is not uppercase, lowercase, number or special", t)
		}
	}
	switch {
	case c.CharacterTypeRule != "all" && c.CharacterTypeRule != "three_of_four":
		return fmt.Errorf("character_type_rule %q is not all or three_of_four", c.CharacterTypeRule)
	case !isAllowOrBlock(c.IdenticalCharacters), !isAllowOrBlock(c.SequentialCharacters):
		return errors.New(`identical_characters and sequential_characters must be "allow" or "block"`)
	case c.MaxLengthExceeded != "error" && c.MaxLengthExceeded != "truncate":
		return fmt.Errorf("max_length_exceeded %q is not error or truncate", c.MaxLengthExceeded)
	case p.History.Size < 0 || (p.History.Active && p.History.Size == 0):
		return errors.New("history size must be positive when history is active")
	case p.Dictionary.Default != "en_10k" && p.Dictionary.Default != "en_100k":
		return fmt.Errorf("dictionary default %q is not en_10k or en_100k", p.Dictionary.Default)
	}
	return nil
}

func isAllowOrBlock(s string) bool { return s == "allow" || s == "block" }

var characterTypeNames = map[string]string{
	"lowercase": "a lowercase letter", "uppercase": "an uppercase letter", "number": "a number", "special": "a special character",
}

// passwordFamily enrolls and changes passwords through the configured
// [PasswordBackend]. The 202 carries the policy; verify checks the rules the
// policy describes, then has the backend set the password. When the identity
// has a password already, the enrollment names that method and verify
// replaces its secret through [Store.SetSecret].
type passwordFamily struct{}

func (passwordFamily) beginMembers(string) []member {
	return []member{
		{name: "connection", kind: kindString},
		{name: "identity_user_id", kind: kindString},
		{name: "identity", kind: kindString},
	}
}

func (passwordFamily) verifyMembers(string) []member {
	return []member{{name: "new_password", kind: kindString, required: true}}
}

func (passwordFamily) limit(*Config, string) int { return maxPasswordIdentities }

func (passwordFamily) offered(cfg *Config, _ string) bool { return cfg.Passwords.Backend != nil }

func (passwordFamily) usage(string) string { return "primary" }

func (passwordFamily) begin(ctx context.Context, e *enrollment) error {
	connection := unquote(e.body["connection"])
	user := PasswordUser{Claims: e.claims, IdentityUserID: e.state.Identity, Connection: connection}
	policy, err := e.api.passwordPolicy(ctx, user)
	if err != nil {
		return err
	}
	if current := identityPassword(e.existing, e.state.Identity); current != nil {
		e.state.MethodID = current.ID // verify changes the identity's password
	}
	e.state.Data = []byte(connection)
	body, err := json.Marshal(policy)
	if err != nil {
		return err
	}
	e.reply = append(e.reply, `,"policy":`...)
	e.reply = append(e.reply, body...)
	return nil
}

// identityPassword is the password method of identity among methods, or nil.
func identityPassword(methods []*Method, identity string) *Method {
	for _, m := range methods {
		if m.Type == typePassword && m.IdentityUserID == identity {
			return m
		}
	}
	return nil
}

// passwordPolicy asks the backend for the policy and makes sure it is one the
// API can show and check.
func (a *API) passwordPolicy(ctx context.Context, user PasswordUser) (PasswordPolicy, error) {
	policy, err := a.cfg.Passwords.Backend.Policy(ctx, user)
	if err == nil {
		err = policy.check()
	}
	if err != nil {
		if ctx.Err() != nil {
			return policy, ctx.Err()
		}
		a.cfg.Logger.ErrorContext(ctx, "myaccount: the password backend gave no usable policy", "err", err)
		return policy, fmt.Errorf("%w: the password policy is unavailable", ErrUnavailable)
	}
	if policy.Complexity.CharacterTypes == nil {
		policy.Complexity.CharacterTypes = []string{}
	}
	if policy.ProfileData.BlockedFields == nil {
		policy.ProfileData.BlockedFields = []string{}
	}
	return policy, nil
}

// checkVerifyBody checks new_password against the contract's schema (1 to 256
// characters, no control characters) before any work is spent on the
// session; checked is the password as sent.
func (passwordFamily) checkVerifyBody(_ string, body map[string]json.RawMessage) (checked any, err error) {
	password := unquote(body["new_password"])
	n := utf8.RuneCountInString(password)
	switch {
	case n < 1 || n > maxPasswordLength:
		return nil, bodyError("/new_password", "must be 1 to "+strconv.Itoa(maxPasswordLength)+" characters long")
	case !utf8.ValidString(password) || strings.IndexFunc(password, unicode.IsControl) >= 0:
		return nil, bodyError("/new_password", "must not contain control characters")
	}
	return password, nil
}

// passwordData is what finish hands to save through the verification.
type passwordData struct {
	secret      []byte
	keepHistory int     // old secrets the policy's history keeps
	current     *Method // the identity's password method, nil for a first password
	limit       int     // for a first password: the user's password methods, plus one
}

func (passwordFamily) finish(ctx context.Context, v *verification) error {
	a := v.api
	// Every verify is one of the session's attempts, counted before any rule
	// or hash runs: a password refused by the policy or by the history costs
	// the client a try, as a wrong code does, and a session buys at most
	// maxCodeAttempts rounds of hashing.
	if err := v.countAttempt(ctx); err != nil {
		return err
	}
	user := PasswordUser{Claims: v.claims, IdentityUserID: v.state.Identity, Connection: string(v.state.Data)}
	policy, err := a.passwordPolicy(ctx, user)
	if err != nil {
		return err
	}
	// Every rule, and the backend, see the NFKC form: one password has one spelling.
	password := normalizePassword(v.checked.(string))
	if reasons := a.breakPasswordRules(&policy, password, v.claims); len(reasons) > 0 {
		return passwordRejected(reasons)
	}
	existing, err := a.cfg.Store.ListMethods(ctx, v.claims.Issuer, v.claims.Subject, typePassword)
	if err != nil {
		return err
	}
	current := identityPassword(existing, v.state.Identity)
	if current != nil && current.ID != v.state.MethodID {
		return ErrLimitReached // another enrollment gave the identity a password meanwhile
	}
	secret, err := a.cfg.Passwords.Backend.SetPassword(ctx, user, password, current)
	if err != nil {
		var rejected *PasswordRejectedError
		if errors.As(err, &rejected) && len(rejected.Reasons) > 0 {
			return passwordRejected(rejected.Reasons)
		}
		if ctx.Err() != nil || errors.Is(err, ErrUnavailable) {
			return err
		}
		a.cfg.Logger.ErrorContext(ctx, "myaccount: the password backend could not set a password", "err", err)
		return fmt.Errorf("%w: the password could not be set", ErrUnavailable)
	}
	keep := 0
	if policy.History.Active {
		keep = policy.History.Size - 1 // the current password is one of the last Size
	}
	v.method.Secret, v.method.SecretSetAt = secret, v.method.CreatedAt
	v.method.SecretHistory = nil
	// A first password is created with a limit of one more than the user has,
	// so that of two set at once for one identity only one is stored.
	v.saved = &passwordData{secret: secret, keepHistory: keep, current: current, limit: len(existing) + 1}
	return nil
}

// save stores a first password as a new method, or replaces the secret of the
// identity's password method.
func (passwordFamily) save(ctx context.Context, v *verification) (*Method, error) {
	d := v.saved.(*passwordData)
	if d.current == nil {
		if err := v.api.cfg.Store.CreateMethod(ctx, v.method, d.limit, v.session); err != nil {
			return nil, err
		}
		return v.method, nil
	}
	return v.api.cfg.Store.SetSecret(ctx, v.claims.Issuer, v.claims.Subject, d.current.ID, d.secret,
		v.method.CreatedAt, d.keepHistory, v.session)
}

func passwordRejected(reasons []string) error {
	errs := make([]ValidationError, len(reasons))
	for i, r := range reasons {
		errs[i] = ValidationError{Detail: r, Field: "new_password", Pointer: "/new_password", Source: "body"}
	}
	return validationError("The new password does not meet the password policy.", errs...)
}

func (passwordFamily) appendFields(b []byte, m *Method) []byte {
	b = append(b, `,"identity_user_id":`...)
	b = appendString(b, m.IdentityUserID)
	if !m.SecretSetAt.IsZero() {
		b = append(b, `,"last_password_reset":"`...)
		b = m.SecretSetAt.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, '"')
	}
	return b
}

// breakPasswordRules returns one reason per rule of the policy that password
// breaks, leaving history to the backend.
func (a *API) breakPasswordRules(p *PasswordPolicy, password string, claims *Claims) []string {
	var reasons []string
	c := &p.Complexity
	if utf8.RuneCountInString(password) < c.MinLength {
		reasons = append(reasons, "must be at least "+strconv.Itoa(c.MinLength)+" characters long")
	}
	present := characterTypes(password)
	if c.CharacterTypeRule == "all" {
		for _, t := range c.CharacterTypes {
			if !present[t] {
				reasons = append(reasons, "must contain "+characterTypeNames[t])
			}
		}
	} else if len(c.CharacterTypes) > 0 {
		found := 0
		for _, t := range c.CharacterTypes {
			if present[t] {
				found++
			}
		}
		if found < min(3, len(c.CharacterTypes)) {
			reasons = append(reasons, "must contain three of: lowercase letters, uppercase letters, numbers, special characters")
		}
	}
	if c.IdenticalCharacters == "block" && hasRun(password, func(prev, r rune) bool { return r == prev }) {
		reasons = append(reasons, "must not contain 3 identical characters in a row")
	}
	if c.SequentialCharacters == "block" && (hasRun(password, sequential(1)) || hasRun(password, sequential(-1))) {
		reasons = append(reasons, `must not contain 3 consecutive letters or numbers in a row, such as "abc" or "321"`)
	}
	if p.ProfileData.Active {
		lower := strings.ToLower(password)
		for _, field := range p.ProfileData.BlockedFields {
			if containsProfileValue(lower, a.cfg.Passwords.ProfileValue(claims, field)) {
				reasons = append(reasons, "must not contain your "+strings.ReplaceAll(field, "_", " "))
			}
		}
	}
	if p.Dictionary.Active && isCommonPassword(password) {
		reasons = append(reasons, "is too common: it is on a list of passwords attackers try first")
	}
	return reasons
}

// characterTypes reports which character types password has.
func characterTypes(password string) map[string]bool {
	present := make(map[string]bool, 4)
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			present["uppercase"] = true
		case unicode.IsLower(r):
			present["lowercase"] = true
		case unicode.IsDigit(r):
			present["number"] = true
		case !unicode.IsLetter(r):
			present["special"] = true
		}
	}
	return present
}

// hasRun reports whether s has 3 characters in a row each of which follows the
// one before it by next.
func hasRun(s string, next func(prev, r rune) bool) bool {
	run, prev := 0, rune(-1)
	for _, r := range s {
		if run > 0 && next(prev, r) {
			run++
		} else {
			run = 1
		}
		if run >= 3 {
			return true
		}
		prev = r
	}
	return false
}

// sequential is the next of hasRun for letters or digits that go up (step 1)
// or down (step -1) one at a time, ignoring case.
func sequential(step rune) func(prev, r rune) bool {
	return func(prev, r rune) bool {
		prev, r = unicode.ToLower(prev), unicode.ToLower(r)
		sameKind := ('a' <= prev && prev <= 'z' && 'a' <= r && r <= 'z') || ('0' <= prev && prev <= '9' && '0' <= r && r <= '9')
		return sameKind && r-prev == step
	}
}

// containsProfileValue reports whether the lowercased password holds value,
// one of its words, or for an email address its part before "@". Parts
// shorter than 3 characters are too common in passwords to refuse.
func containsProfileValue(lowerPassword, value string) bool {
	value = strings.ToLower(strings.TrimSpace(value))
	candidates := append([]string{value}, strings.Fields(value)...)
	if local, _, ok := strings.Cut(value, "@"); ok {
		candidates = append(candidates, local)
	}
	for _, v := range candidates {
		if utf8.RuneCountInString(v) >= 3 && strings.Contains(lowerPassword, v) {
			return true
		}
	}
	return false
}

// defaultProfileValue is the default [PasswordConfig.ProfileValue].
func defaultProfileValue(claims *Claims, field string) string {
	switch field {
	case "name":
		return claims.Name
	case "email":
		return claims.Email
	case "nickname":
		return claims.Nickname
	}
	return ""
}

// resolve fills in the defaults.
func (c *PasswordConfig) resolve() {
	if c.ProfileValue == nil {
		c.ProfileValue = defaultProfileValue
	}
}
