package auth0mgmt

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-myaccount/myaccount"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Config says which tenant to read and with which machine-to-machine
// application. Zero values are the defaults.
type Config struct {
	// Domain is the tenant's canonical host, such as "tenant.eu.auth0.com"
	// (a leading "https://" and a trailing "/" are ignored). The Management
	// API's audience is always "https://{Domain}/api/v2/". Default: none;
	// required.
	Domain string
	// ClientID and ClientSecret are a machine-to-machine application
	// authorized for the Management API with the scopes read:grants and
	// read:organizations. Default: none; required.
	ClientID     string
	ClientSecret string
	// BaseURL is where the token endpoint (/oauth/token) and the Management
	// API (/api/v2/) are called, such as a proxy or a test server. Default:
	// "https://{Domain}".
	BaseURL string
	// HTTPClient makes the calls, to the token endpoint too; its Timeout
	// bounds each call (10 s when it has none). Default: a client with a
	// 10 s timeout.
	HTTPClient *http.Client
	// MaxPages bounds the Management API pages one Consents or Consent call
	// reads, of 100 grants each. Default: 10.
	MaxPages int
}

// Source reads consents and organizations from Auth0's Management API. It is
// safe for concurrent use; create it once with [New].
type Source struct {
	base     *url.URL // https://{Domain}, or Config.BaseURL
	client   *http.Client
	tokens   *tokenSource
	timeout  time.Duration // of one call; 0 for none
	maxPages int
	pageSize int // grants per page; 100, smaller in tests
}

var (
	_ myaccount.ConsentSource      = (*Source)(nil)
	_ myaccount.OrganizationSource = (*Source)(nil)
)

// New checks cfg and returns a Source. Its errors wrap [myaccount.ErrConfig].
// It makes no call: the first read takes the token.
func New(cfg Config) (*Source, error) {
	domain := strings.TrimSuffix(strings.TrimPrefix(cfg.Domain, "https://"), "/")
	if u, err := url.Parse("https://" + domain); domain == "" || err != nil || u.Host != domain || u.User != nil {
		return nil, fmt.Errorf("%w: auth0mgmt: Domain %q is not a host name", myaccount.ErrConfig, cfg.Domain)
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, fmt.Errorf("%w: auth0mgmt: ClientID and ClientSecret are required", myaccount.ErrConfig)
	}
	baseURL := cmp.Or(cfg.BaseURL, "https://"+domain)
	base, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.RawQuery != "" {
		return nil, fmt.Errorf("%w: auth0mgmt: BaseURL %q is not an http(s) URL", myaccount.ErrConfig, cfg.BaseURL)
	}
	if cfg.MaxPages < 0 {
		return nil, fmt.Errorf("%w: auth0mgmt: MaxPages %d is negative", myaccount.ErrConfig, cfg.MaxPages)
	}
	httpClient := &http.Client{}
	if cfg.HTTPClient != nil {
		*httpClient = *cfg.HTTPClient
	}
	httpClient.Timeout = cmp.Or(httpClient.Timeout, 10*time.Second)
	cc := clientcredentials.Config{
		ClientID:       cfg.ClientID,
		ClientSecret:   cfg.ClientSecret,
		TokenURL:       base.JoinPath("oauth/token").String(),
		EndpointParams: url.Values{"audience": {"https://" + domain + "/api/v2/"}},
		AuthStyle:      oauth2.AuthStyleInParams,
	}
	tokens := &tokenSource{
		config: &cc,
		// The token source outlives any request, so it fetches with a
		// context of its own carrying the HTTP client, whose timeout bounds it.
		ctx: context.WithValue(context.Background(), oauth2.HTTPClient, httpClient),
	}
	tokens.forget()
	return &Source{
		base: base,
		client: &http.Client{
			// No Timeout here: http.Client would call the transport's
			// deprecated CancelRequest; get bounds each call with a context.
			Transport: &oauth2.Transport{Source: tokens, Base: httpClient.Transport},
			// The transport adds the token to every request it sends, a
			// redirected one too: never follow a redirect elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		tokens:   tokens,
		timeout:  httpClient.Timeout,
		maxPages: cmp.Or(cfg.MaxPages, 10),
		pageSize: 100,
	}, nil
}

// maxPageBytes bounds one Management API answer: 100 organizations with
// branding and metadata stay far below it.
const maxPageBytes = 4 << 20

// errUserUnknown is a 404 of the Management API: the user is not in the tenant.
var errUserUnknown = fmt.Errorf("auth0mgmt: user unknown to the tenant: %w", myaccount.ErrNotFound)

// tokenSource keeps the Management API token until it expires, and forgets
// it when the API refuses it before then (a revoked grant, rotated keys).
type tokenSource struct {
	config *clientcredentials.Config
	ctx    context.Context
	mu     sync.Mutex
	cached oauth2.TokenSource
}

func (t *tokenSource) Token() (*oauth2.Token, error) {
	t.mu.Lock()
	cached := t.cached
	t.mu.Unlock()
	return cached.Token()
}

// forget drops the kept token: the next call takes a new one.
func (t *tokenSource) forget() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cached = t.config.TokenSource(t.ctx)
}

// errTokenRefused is a 401 of the Management API.
var errTokenRefused = errors.New("auth0mgmt: the Management API refused its token")

// get calls the Management API at path with query and decodes its JSON answer
// into v. A token the API refuses is forgotten and the call made once more
// with a new one.
func (s *Source) get(ctx context.Context, path string, query url.Values, v any) error {
	err := s.getOnce(ctx, path, query, v)
	if errors.Is(err, errTokenRefused) {
		s.tokens.forget()
		err = s.getOnce(ctx, path, query, v)
	}
	return err
}

func (s *Source) getOnce(ctx context.Context, path string, query url.Values, v any) error {
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	u := s.base.JoinPath("api/v2", path)
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return callError(path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes+1))
	if err != nil {
		return fmt.Errorf("%w: auth0mgmt: GET %s: reading the answer: %w", myaccount.ErrUnavailable, path, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		return errUserUnknown
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w: GET %s: %s%s", errTokenRefused, path, resp.Status, auth0ErrorCode(body))
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("%w: auth0mgmt: GET %s: %s%s", myaccount.ErrUnavailable, path, resp.Status, auth0ErrorCode(body))
	default:
		return fmt.Errorf("auth0mgmt: GET %s: %s%s", path, resp.Status, auth0ErrorCode(body))
	}
	if len(body) > maxPageBytes {
		return fmt.Errorf("auth0mgmt: GET %s: answer larger than %d bytes", path, maxPageBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("auth0mgmt: GET %s: %w", path, err)
	}
	return nil
}

// callError classifies a call that got no answer: the token endpoint refusing
// the credentials (a 4xx other than 429) is a configuration error; anything
// else (a timeout, a refused connection, a 5xx or 429 of the token endpoint)
// is unavailability.
func callError(path string, err error) error {
	var refused *oauth2.RetrieveError
	if errors.As(err, &refused) && refused.Response != nil {
		if code := refused.Response.StatusCode; code < 500 && code != http.StatusTooManyRequests {
			return fmt.Errorf("auth0mgmt: the token endpoint refused the client credentials: %s %s", refused.Response.Status, refused.ErrorCode)
		}
	}
	return fmt.Errorf("%w: auth0mgmt: GET %s: %w", myaccount.ErrUnavailable, path, err)
}

// auth0ErrorCode returns ", errorCode X" for an Auth0 error body naming one,
// for the log; the message itself may quote request values and is left out.
func auth0ErrorCode(body []byte) string {
	var e struct {
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal(body, &e) != nil || e.ErrorCode == "" {
		return ""
	}
	return fmt.Sprintf(", errorCode %q", e.ErrorCode)
}

// userID is the Auth0 user id the Source reads for: the token's subject.
func userID(claims *myaccount.Claims) (string, error) {
	if claims == nil || claims.Subject == "" {
		return "", errors.New("auth0mgmt: no subject to read for")
	}
	return claims.Subject, nil
}
