package myaccounttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// Client calls a My Account API as a user's app does, with one access token:
// it starts enrollments, verifies them and lists the user's methods, doing
// the JSON and the Location handling, so that a test of TOTP or passkeys is a
// few lines:
//
//	c := myaccounttest.NewClient(srv.URL, iss.Token(t, "auth0|alice", myaccount.AllScopes()...))
//	m, err := c.EnrollTOTP(t.Context(), time.Now())
//
// A status other than the one expected is an *[APIError] holding the answer.
type Client struct {
	// BaseURL is where the API is: scheme and host, and the API's BasePath
	// when it has one, such as "http://127.0.0.1:4242" or
	// "http://127.0.0.1:4242/api". Requests go to BaseURL + "/me/v1/...".
	BaseURL string
	// Token is sent as a bearer token. Empty sends none.
	Token string
	// HTTPClient sends the requests. Default: http.DefaultClient.
	HTTPClient *http.Client
}

// NewClient returns a Client of the API at baseURL with token.
func NewClient(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), Token: token}
}

// APIError is a response with a status other than the one expected, such as
// the 400 of a wrong code.
type APIError struct {
	Method, URL string
	Status      int
	Header      http.Header
	Body        []byte // the JSON error body
}

func (e *APIError) Error() string {
	return fmt.Sprintf("myaccounttest: %s %s: %d %s", e.Method, e.URL, e.Status, e.Body)
}

// Enrollment is a started enrollment: the 202 of POST /authentication-methods.
type Enrollment struct {
	// ID is the id to verify under: the last segment of Location, decoded.
	ID string `json:"-"`
	// Location is the 202's Location header, where verify posts to (+ "/verify").
	Location string `json:"-"`
	// AuthSession is the auth_session that verify sends back.
	AuthSession string `json:"auth_session"`
	// BarcodeURI is a TOTP or push enrollment's otpauth:// or pairing URI;
	// [TOTPCode] turns the first into codes.
	BarcodeURI string `json:"barcode_uri,omitempty"`
	// ManualInputCode is a TOTP enrollment's secret as the user would type it.
	ManualInputCode string `json:"manual_input_code,omitempty"`
	// RecoveryCode is a recovery-code enrollment's code.
	RecoveryCode string `json:"recovery_code,omitempty"`
	// AuthnParamsPublicKey are a WebAuthn enrollment's creation options, for
	// [Authenticator.Create].
	AuthnParamsPublicKey json.RawMessage `json:"authn_params_public_key,omitempty"`
	// Body is the whole 202 body.
	Body json.RawMessage `json:"-"`
}

// Method is an authentication method as the API returns it.
type Method struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Name      string `json:"name,omitempty"`
	Confirmed bool   `json:"confirmed,omitempty"`
	CreatedAt string `json:"created_at"`
	// Body is the method's whole JSON object, with its type's fields.
	Body json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the whole object in Body.
func (m *Method) UnmarshalJSON(data []byte) error {
	type fields Method // without this method
	if err := json.Unmarshal(data, (*fields)(m)); err != nil {
		return err
	}
	m.Body = append(json.RawMessage(nil), data...)
	return nil
}

// Begin starts an enrollment with body, such as
// map[string]any{"type": "totp"}, and returns it; anything but 202 is an
// *APIError.
func (c *Client) Begin(ctx context.Context, body any) (*Enrollment, error) {
	resp, data, err := c.send(ctx, http.MethodPost, c.BaseURL+"/me/v1/authentication-methods", body, http.StatusAccepted)
	if err != nil {
		return nil, err
	}
	e := &Enrollment{Location: resp.Header.Get("Location"), Body: data}
	if err := json.Unmarshal(data, e); err != nil {
		return nil, fmt.Errorf("myaccounttest: the 202 body: %w", err)
	}
	u, err := url.Parse(e.Location)
	if err != nil || e.Location == "" {
		return nil, fmt.Errorf("myaccounttest: the 202's Location %q is not a URL", e.Location)
	}
	if e.ID, err = url.PathUnescape(path.Base(u.EscapedPath())); err != nil {
		return nil, fmt.Errorf("myaccounttest: the 202's Location %q: %w", e.Location, err)
	}
	return e, nil
}

// Verify finishes e with its auth_session and members, such as
// map[string]any{"otp_code": code}, and returns the new method; anything but
// 201 is an *APIError.
func (c *Client) Verify(ctx context.Context, e *Enrollment, members map[string]any) (*Method, error) {
	body := map[string]any{"auth_session": e.AuthSession}
	for k, v := range members {
		body[k] = v
	}
	_, data, err := c.send(ctx, http.MethodPost, e.Location+"/verify", body, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	var m Method
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("myaccounttest: the 201 body: %w", err)
	}
	return &m, nil
}

// Methods lists the user's authentication methods; anything but 200 is an
// *APIError.
func (c *Client) Methods(ctx context.Context) ([]Method, error) {
	_, data, err := c.send(ctx, http.MethodGet, c.BaseURL+"/me/v1/authentication-methods", nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	var list struct {
		Methods []Method `json:"authentication_methods"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("myaccounttest: the list: %w", err)
	}
	return list.Methods, nil
}

// EnrollTOTP enrolls an authenticator app: it begins a totp enrollment and
// verifies it with the code of its barcode_uri at the time at.
func (c *Client) EnrollTOTP(ctx context.Context, at time.Time) (*Method, error) {
	e, err := c.Begin(ctx, map[string]any{"type": "totp"})
	if err != nil {
		return nil, err
	}
	code, err := TOTPCode(e.BarcodeURI, at)
	if err != nil {
		return nil, err
	}
	return c.Verify(ctx, e, map[string]any{"otp_code": code})
}

// EnrollPasskey enrolls a passkey of a, which answers the creation options
// from origin ("" is [DefaultOrigin]).
func (c *Client) EnrollPasskey(ctx context.Context, a *Authenticator, origin string) (*Method, error) {
	e, err := c.Begin(ctx, map[string]any{"type": "passkey"})
	if err != nil {
		return nil, err
	}
	credential, err := a.Create(e.AuthnParamsPublicKey, origin)
	if err != nil {
		return nil, err
	}
	return c.Verify(ctx, e, map[string]any{"authn_response": json.RawMessage(credential)})
}

// send sends body as JSON (none when nil) and returns the response and its
// body, or an *APIError when the status is not want.
func (c *Client) send(ctx context.Context, method, target string, body any, want int) (*http.Response, []byte, error) {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, nil, fmt.Errorf("myaccounttest: %w", err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return nil, nil, fmt.Errorf("myaccounttest: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("myaccounttest: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("myaccounttest: %s %s: %w", method, target, err)
	}
	if resp.StatusCode != want {
		return nil, nil, &APIError{Method: method, URL: target, Status: resp.StatusCode, Header: resp.Header, Body: data}
	}
	return resp, data, nil
}
