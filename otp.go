package myaccount

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Message is one code for a [Sender] to deliver: what your Sender reads.
type Message struct {
	// Channel is "email", "sms" or "voice".
	Channel string
	// To is the email address or the E.164 phone number.
	To string
	// Code is the 6-digit one-time code.
	Code string
	// Claims are the signed-in user's token claims, for an app to template the
	// message (a name, a locale).
	Claims *Claims
}

// Sender delivers one-time codes by email, text message or voice call, through
// the app's own provider. Send returns once the provider accepted the message;
// an error makes the enrollment fail with 503 and nothing stored, and the user
// starts again. Send must not keep msg.Code anywhere after delivery, nor put
// it in the error it returns: that error is logged.
type Sender interface {
	Send(ctx context.Context, msg Message) error
}

// MessageConfig configures the methods whose codes are sent: email and phone.
type MessageConfig struct {
	// Sender delivers the codes; email and phone are offered only when it is set.
	// Default: nil.
	Sender Sender
	// MaxPerUser is how many email methods, and how many phone methods, a user
	// may hold. Default: 5.
	MaxPerUser int
	// PerDestination bounds the codes sent to one email address or phone
	// number, whichever users ask for them, checked before anything is sent:
	// past it the enrollment is 429 with Retry-After. Default: 5 per 15
	// minutes.
	PerDestination SendQuota
	// PerUser bounds the codes sent for one user, to any destination, in the
	// same way. Default: 20 per hour.
	PerUser SendQuota
}

// maxEmailLength is the longest address a mail system delivers to (RFC 5321's
// path limit less its brackets).
const maxEmailLength = 254

// messageFamily enrolls email and phone methods: a 6-digit code sent through
// the configured Sender, its keyed hash in the sealed auth_session.
type messageFamily struct{}

func (messageFamily) beginMembers(typ string) []member {
	if typ == typeEmail {
		return []member{{name: "email", kind: kindString, required: true}}
	}
	return []member{
		{name: "phone_number", kind: kindString, required: true},
		{name: "preferred_authentication_method", kind: kindString},
	}
}

func (messageFamily) verifyMembers(string) []member {
	return []member{{name: "otp_code", kind: kindString, required: true}}
}

func (messageFamily) limit(cfg *Config, _ string) int { return cfg.Messages.MaxPerUser }

func (messageFamily) offered(cfg *Config, _ string) bool { return cfg.Messages.Sender != nil }

func (messageFamily) usage(string) string { return "secondary" }

func (messageFamily) begin(ctx context.Context, e *enrollment) error {
	msg := Message{Channel: "email", Claims: e.claims}
	if e.state.Type == typeEmail {
		raw := e.body["email"]
		if !utf8.Valid(raw) || hasLoneSurrogate(raw) { // decoding would turn them into U+FFFD
			return bodyError("/email", "must be valid UTF-8, without unpaired surrogates")
		}
		address, err := checkEmail(unquote(raw))
		if err != nil {
			return err
		}
		msg.To = address
	} else {
		number, err := checkPhoneNumber(unquote(e.body["phone_number"]))
		if err != nil {
			return err
		}
		channel, err := checkChannel(e.body["preferred_authentication_method"] != nil, unquote(e.body["preferred_authentication_method"]))
		if err != nil {
			return err
		}
		msg.To, msg.Channel = number, channel
	}
	if err := e.api.checkSendQuotas(ctx, e.claims, msg.To); err != nil {
		if errors.Is(err, ErrRateLimited) {
			e.api.audit(e.r, AuditEvent{Type: AuditRateLimited, MethodType: e.state.Type, Reason: "send quota: " + auditReason(err)})
		}
		return err
	}
	msg.Code = randomString("0123456789", 6)
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	e.state.Data = appendFields(nil, salt, hmacSum(salt, []byte(msg.Code)), []byte(msg.To), []byte(msg.Channel))
	if err := e.api.cfg.Messages.Sender.Send(ctx, msg); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.api.cfg.Logger.ErrorContext(ctx, "myaccount: sending a code failed", "channel", msg.Channel, "err", err)
		return fmt.Errorf("%w: the %s could not be sent", ErrUnavailable, msg.Channel)
	}
	return nil
}

func (messageFamily) finish(ctx context.Context, v *verification) error {
	code, err := otpCode(v.body)
	if err != nil {
		return err
	}
	f, ok := readFields(v.state.Data, 4)
	if !ok {
		return errSessionInvalid
	}
	if err := v.countAttempt(ctx); err != nil {
		return err
	}
	if !equalSecret(hmacSum(f[0], []byte(code)), f[1]) {
		return wrongCode()
	}
	v.method.Destination = string(f[2])
	if v.method.Type == typePhone {
		v.method.PreferredChannel = string(f[3])
	}
	return nil
}

func (messageFamily) appendFields(b []byte, m *Method) []byte {
	b = append(b, `,"confirmed":true`...)
	if m.Type == typeEmail {
		b = append(b, `,"email":`...)
		return appendString(b, m.Destination)
	}
	b = append(b, `,"phone_number":`...)
	b = appendString(b, m.Destination)
	b = append(b, `,"preferred_authentication_method":`...)
	return appendString(b, m.PreferredChannel)
}

// checkEmail accepts one bare address (no display name, no comments), at most
// maxEmailLength bytes, that passes the text rule (isText), and returns it as
// net/mail reads it.
func checkEmail(s string) (string, error) {
	bad := bodyError("/email", "must be one email address, such as name@example.com")
	if !isText(s) {
		return "", bodyError("/email", "must not contain control or format characters (such as U+202E or a zero-width space)")
	}
	if s == "" || len(s) > maxEmailLength || !utf8.ValidString(s) || strings.ContainsAny(s, "<>\"(), \t\r\n") {
		return "", bad
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", bad
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", bad
	}
	return s, nil
}

// checkPhoneNumber accepts an E.164 number: "+", a country code that does not
// start with 0, and at most 15 digits in all.
func checkPhoneNumber(s string) (string, error) {
	bad := bodyError("/phone_number", "must be a phone number in E.164 form, such as +14155550123")
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return "", bad
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", bad
		}
	}
	return s, nil
}

// checkChannel validates preferred_authentication_method; when not sent it is "sms".
func checkChannel(sent bool, s string) (string, error) {
	switch {
	case !sent:
		return "sms", nil
	case s == "sms" || s == "voice":
		return s, nil
	}
	return "", bodyError("/preferred_authentication_method", `must be "sms" or "voice"`)
}
