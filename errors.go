package myaccount

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
)

// Sentinel errors. Handlers and stores return them (often wrapped); callers and an
// [Config.ErrorHandler] match them with errors.Is.
var (
	// ErrConfig means [New] or [NewTokenValidator] was given an unusable Config.
	ErrConfig = errors.New("myaccount: invalid config")
	// ErrNotFound means the object does not exist for this issuer and user. Another
	// user's object is reported the same way, so its existence never leaks.
	ErrNotFound = errors.New("myaccount: not found")
	// ErrInvalidCursor is what an [OrganizationSource] returns for a page
	// cursor it did not hand out; the API answers 400 naming the from
	// parameter.
	ErrInvalidCursor = errors.New("myaccount: invalid page cursor")
	// errSessionInvalid means an auth_session is unknown, expired, already used, or
	// belongs to another user or method type.
	errSessionInvalid = errors.New("myaccount: auth_session is invalid, expired or already used")
	// ErrSessionUsed means a [Store] found an auth_session used already, or
	// spent by too many wrong codes. Clients see it as an invalid auth_session.
	ErrSessionUsed = errors.New("myaccount: auth_session already used")
	// ErrLimitReached means the user already has the maximum number of methods of a type.
	ErrLimitReached = errors.New("myaccount: authentication method limit reached")
	// ErrCredentialExists means a credential id is already registered with the relying party.
	ErrCredentialExists = errors.New("myaccount: credential already registered")
	// ErrMethodExists means a [Store] holds a method with the id of one being
	// created. The id comes from the auth_session, so its method was created
	// with it: clients see it as [ErrSessionInvalid].
	ErrMethodExists = errors.New("myaccount: authentication method id already exists")
	// ErrMissingToken means the request carried no bearer token in its Authorization header.
	ErrMissingToken = errors.New("myaccount: missing bearer token")
	// ErrInvalidToken means the bearer token failed a check: signature, algorithm,
	// issuer, audience, lifetime or subject.
	ErrInvalidToken = errors.New("myaccount: invalid bearer token")
	// errInsufficientScope means the token lacks a scope the operation needs.
	errInsufficientScope = errors.New("myaccount: insufficient scope")
	// ErrRateLimited means a rate limit bucket is empty.
	ErrRateLimited = errors.New("myaccount: rate limited")
	// errValidation means the request body or query failed validation.
	errValidation = errors.New("myaccount: validation failed")
	// errBodyTooLarge means the request body exceeded [Config.MaxBodyBytes].
	errBodyTooLarge = errors.New("myaccount: request body too large")
	// errUnsupportedMediaType means a POST or PATCH body was not JSON.
	errUnsupportedMediaType = errors.New("myaccount: unsupported media type")
	// errMethodNotAllowed means the path exists but not for this HTTP method.
	errMethodNotAllowed = errors.New("myaccount: method not allowed")
	// ErrUnavailable means a backend (store or limiter) could not answer in time.
	// Stores wrap their connection errors with it so the client gets a 503.
	ErrUnavailable = errors.New("myaccount: backend unavailable")
)

// ValidationError is one problem found in a request, located by a JSON pointer
// (RFC 6901) into the body, or by the name of a query parameter.
type ValidationError struct {
	Detail  string `json:"detail"`
	Field   string `json:"field,omitempty"`
	Pointer string `json:"pointer,omitempty"`
	// Source is "body" or "query".
	Source string `json:"source,omitempty"`
}

// Error is an error with everything needed to answer the client: its status, the
// problem details and, for token errors, the WWW-Authenticate challenge. It wraps one
// of the sentinel errors above.
type Error struct {
	Status           int
	Code             string // the Auth0 error code, such as "A0E-400-0003"
	Title            string
	Detail           string // safe to show to the client; never internal text
	ValidationErrors []ValidationError
	// Header holds response headers that belong to this error (WWW-Authenticate,
	// Allow, Retry-After, rate-limit headers).
	Header http.Header
	// Err is the sentinel (or wrapped cause) that errors.Is and errors.As see.
	Err error
}

// Error gives the cause and the detail, for logs; clients see only the
// problem body [WriteError] writes.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Err.Error() + ": " + e.Detail
	}
	return e.Detail
}

// Unwrap gives Err, so errors.Is matches an Error against the sentinels.
func (e *Error) Unwrap() error { return e.Err }

// errorTypeBase prefixes the Auth0 error code to form the problem "type" URI.
const errorTypeBase = "https://auth0.com/api-errors/"

// problem is the JSON error body: RFC 9457 members with Auth0's names.
type problem struct {
	Type             string            `json:"type"`
	Status           int               `json:"status"`
	Title            string            `json:"title"`
	Detail           string            `json:"detail"`
	ValidationErrors []ValidationError `json:"validation_errors,omitempty"`
}

func newError(status int, code, detail string, sentinel error) *Error {
	return &Error{Status: status, Code: code, Title: http.StatusText(status), Detail: detail, Err: sentinel}
}

func validationError(detail string, errs ...ValidationError) *Error {
	e := newError(http.StatusBadRequest, "A0E-400-0003", detail, errValidation)
	e.ValidationErrors = errs
	return e
}

func bodyError(pointer, detail string) *Error {
	return validationError("The request body is invalid.", ValidationError{
		Detail: detail, Field: fieldName(pointer), Pointer: pointer, Source: "body",
	})
}

// fieldName turns a JSON pointer into the dotted field name Auth0 reports.
func fieldName(pointer string) string {
	if pointer == "" {
		return ""
	}
	out := make([]byte, 0, len(pointer))
	for i := 1; i < len(pointer); i++ {
		c := pointer[i]
		switch {
		case c == '/':
			c = '.'
		case c == '~' && i+1 < len(pointer):
			i++
			if pointer[i] == '1' {
				c = '/'
			}
		}
		out = append(out, c)
	}
	return string(out)
}

// asError maps any error to the *Error the client sees. Errors that are not ours
// become a generic 500 whose detail says nothing about the cause.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return newError(http.StatusNotFound, "A0E-404-0001", "The authentication method was not found.", err)
	case errors.Is(err, errSessionInvalid), errors.Is(err, ErrSessionUsed), errors.Is(err, ErrMethodExists):
		return validationError("The auth_session is invalid, expired or already used.", ValidationError{
			Detail: "invalid, expired or already used", Field: "auth_session", Pointer: "/auth_session", Source: "body",
		})
	case errors.Is(err, ErrLimitReached):
		return newError(http.StatusConflict, "A0E-409-0001", "The maximum number of authentication methods of this type has been reached.", err)
	case errors.Is(err, ErrCredentialExists):
		return newError(http.StatusConflict, "A0E-409-0002", "This credential is already registered.", err)
	case errors.Is(err, ErrRateLimited):
		e := newError(http.StatusTooManyRequests, "A0E-429-0001", "Too many requests. Try again later.", err)
		e.Header = http.Header{"Retry-After": {"60"}}
		return e
	case errors.Is(err, ErrUnavailable):
		e := newError(http.StatusServiceUnavailable, "A0E-503-0001", "The service is temporarily unavailable. Try again shortly.", err)
		e.Header = http.Header{"Retry-After": {"1"}}
		return e
	}
	return newError(http.StatusInternalServerError, "A0E-500-0001", "An internal error occurred.", err)
}

// Media types of error bodies. Auth0's OpenAPI file declares application/json for
// every error, and Auth0.Android reads an error body only when its Content-Type
// contains "application/json", so that is the default; the body is RFC 9457-shaped
// either way.
const (
	errorMediaType   = "application/json"
	problemMediaType = "application/problem+json"
)

// problemJSONKey marks, in a request's context, a deployment that opted in to
// application/problem+json ([Config.ProblemJSON]).
type problemJSONKey struct{}

// withProblemJSON has handler write its errors as application/problem+json: it
// marks the request for [WriteError], which a custom handler calls too.
func withProblemJSON(handler func(http.ResponseWriter, *http.Request, error)) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		handler(w, r.WithContext(context.WithValue(r.Context(), problemJSONKey{}, true)), err)
	}
}

// WriteError writes err as the contract's JSON error body with its status and
// headers. The Content-Type is application/json, or application/problem+json when
// the deployment opted in with [Config.ProblemJSON]
// (the request handed to the error handler carries that choice). It is the default
// [Config.ErrorHandler]; a custom handler can call it after logging or rewriting.
// The body never includes err's own text.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	h := w.Header()
	for k, v := range e.Header {
		h[k] = v
	}
	contentType := errorMediaType
	if optedIn, _ := r.Context().Value(problemJSONKey{}).(bool); optedIn {
		contentType = problemMediaType
	}
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Del("Location")
	body, _ := json.Marshal(problem{
		Type: errorTypeBase + e.Code, Status: e.Status, Title: e.Title,
		Detail: e.Detail, ValidationErrors: e.ValidationErrors,
	})
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// errorWriter is how the API answers errors: the user's hook, with server errors logged first.
type errorWriter struct {
	handler func(http.ResponseWriter, *http.Request, error)
	logger  *slog.Logger
}

func (ew errorWriter) write(w http.ResponseWriter, r *http.Request, err error) {
	if status := asError(err).Status; status >= 500 {
		ew.logger.ErrorContext(r.Context(), "myaccount: request failed",
			"method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	ew.handler(w, r, err)
}
