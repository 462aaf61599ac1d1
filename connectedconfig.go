package myaccount

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// ConnectedAccountsConfig configures connected accounts (Auth0's Token
// Vault: /connected-accounts/*) and the sources of /consents and
// /organizations.
type ConnectedAccountsConfig struct {
	// Connections are the providers a user may link an account at, by name.
	// Default: none, so /connect refuses every connection.
	Connections []Connection
	// RedirectURIs are the redirect_uri values /connect accepts, compared as
	// exact strings. Default: none.
	RedirectURIs []string
	// TTL is how long a flow's ticket, connect code and auth_session can be
	// used. Default: 5 minutes.
	TTL time.Duration
	// HTTPClient calls the providers (discovery, token, revocation).
	// Default: a client with a 10-second timeout.
	HTTPClient *http.Client
	// Consents answers GET /consents and /consents/{id}. Default: nil, an
	// empty list.
	Consents ConsentSource
	// Organizations answers GET /organizations. Default: nil, an empty list.
	Organizations OrganizationSource
}

// Connection is an OAuth 2.0 or OpenID Connect provider users can link an
// account at. Set Issuer for OIDC discovery, or AuthURL and TokenURL.
type Connection struct {
	// Name is how /connect names it: 1 to 128 letters, digits and "-".
	Name string
	// Issuer is an OpenID Connect issuer; its discovery document gives the
	// endpoints, and its ID tokens the user's subject at the provider.
	// Default: "", a plain OAuth 2.0 provider.
	Issuer string
	// AuthURL and TokenURL are the provider's authorization and token
	// endpoints. Default: from Issuer's discovery document.
	AuthURL, TokenURL string
	// RevocationURL is the provider's RFC 7009 revocation endpoint, called
	// when an account is deleted. Default: from Issuer's discovery document
	// when it has one, else none.
	RevocationURL string
	// ClientID and ClientSecret are this deployment's client at the provider.
	ClientID, ClientSecret string
	// Scopes are the scopes a /connect may ask for; a request that names
	// none asks for all of them. Default: none.
	Scopes []string
	// AuthorizationParams are the names of the authorization_params of a
	// /connect passed on to the provider (such as "prompt", "login_hint");
	// the others are ignored. Default: none.
	AuthorizationParams []string
	// Subject returns the user's id at a plain OAuth 2.0 provider, calling it
	// with client, which sends the new access token (for GitHub, the "id" of
	// GET https://api.github.com/user). Default: for OIDC, the ID token's
	// (or the UserInfo endpoint's) "sub"; otherwise "", one account per user
	// and connection.
	Subject func(ctx context.Context, client *http.Client) (string, error)
}

// strategy is how the connection is described to clients.
func (c *Connection) strategy() string {
	if c.Issuer != "" {
		return "oidc"
	}
	return "oauth2"
}

func (c *ConnectedAccountsConfig) resolve() error {
	if c.TTL < 0 {
		return fmt.Errorf("%w: ConnectedAccounts.TTL must not be negative", ErrConfig)
	}
	if c.TTL == 0 {
		c.TTL = 5 * time.Minute
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	for _, u := range c.RedirectURIs {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" && p.Opaque == "" || p.Fragment != "" {
			return fmt.Errorf("%w: ConnectedAccounts.RedirectURIs: %q is not an absolute URI without a fragment", ErrConfig, u)
		}
	}
	// New keeps its own copies: the deployment's slices may change later.
	c.Connections, c.RedirectURIs = slices.Clone(c.Connections), slices.Clone(c.RedirectURIs)
	seen := make(map[string]bool)
	for i := range c.Connections {
		conn := &c.Connections[i]
		if !connectionPattern.MatchString(conn.Name) || seen[conn.Name] {
			return fmt.Errorf("%w: ConnectedAccounts.Connections[%d]: name %q is empty, repeated or not letters, digits and -", ErrConfig, i, conn.Name)
		}
		seen[conn.Name] = true
		if conn.ClientID == "" {
			return fmt.Errorf("%w: connection %q has no ClientID", ErrConfig, conn.Name)
		}
		if conn.Issuer == "" && (conn.AuthURL == "" || conn.TokenURL == "") {
			return fmt.Errorf("%w: connection %q needs Issuer, or AuthURL and TokenURL", ErrConfig, conn.Name)
		}
		for _, u := range []string{conn.Issuer, conn.AuthURL, conn.TokenURL, conn.RevocationURL} {
			if u == "" {
				continue
			}
			p, err := url.Parse(u)
			if err != nil || p.Host == "" || p.Scheme != "https" && (p.Scheme != "http" || !isLoopback(p.Hostname())) {
				return fmt.Errorf("%w: connection %q: %q must be an https URL (http only on loopback)", ErrConfig, conn.Name, u)
			}
		}
		for _, name := range conn.AuthorizationParams {
			if slices.Contains(protocolParams, strings.ToLower(name)) {
				return fmt.Errorf("%w: connection %q: AuthorizationParams may not pass %q: the flow sets it", ErrConfig, conn.Name, name)
			}
		}
	}
	return nil
}

// protocolParams are the authorization request's parameters the flow sets
// itself: passed from a client, one would replace the flow's own (its scopes
// past the allow-list, its PKCE, its state).
var protocolParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
	"code_challenge_method", "nonce", "access_type", "request", "request_uri"}

// provider is a configured connection at run time: its OAuth 2.0 client,
// and for OIDC the discovered provider, fetched on first use.
type provider struct {
	conn   Connection
	client *http.Client

	mu         sync.Mutex
	discovered *oidc.Provider
	revocation string
}

func newProviders(cfg *ConnectedAccountsConfig) map[string]*provider {
	ps := make(map[string]*provider, len(cfg.Connections))
	for _, c := range cfg.Connections {
		c.Scopes = slices.Clone(c.Scopes)
		ps[c.Name] = &provider{conn: c, client: cfg.HTTPClient, revocation: c.RevocationURL}
	}
	return ps
}

// clientContext carries the provider client to oauth2 and go-oidc.
func (p *provider) clientContext(ctx context.Context) context.Context {
	return oidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, p.client), p.client)
}

// oauth2Config returns the connection's OAuth 2.0 client, discovering the
// endpoints first when needed. A failed discovery is tried again next time.
func (p *provider) oauth2Config(ctx context.Context, redirectURL string) (*oauth2.Config, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	endpoint := oauth2.Endpoint{AuthURL: p.conn.AuthURL, TokenURL: p.conn.TokenURL}
	if p.conn.Issuer != "" {
		if p.discovered == nil {
			d, err := oidc.NewProvider(p.clientContext(ctx), p.conn.Issuer)
			if err != nil {
				return nil, fmt.Errorf("%w: discovery of connection %q: %v", ErrUnavailable, p.conn.Name, err)
			}
			var extra struct {
				Revocation string `json:"revocation_endpoint"`
			}
			if d.Claims(&extra) == nil && p.revocation == "" {
				p.revocation = extra.Revocation
			}
			p.discovered = d
		}
		discovered := p.discovered.Endpoint()
		endpoint.AuthURL = orDefault(endpoint.AuthURL, discovered.AuthURL)
		endpoint.TokenURL = orDefault(endpoint.TokenURL, discovered.TokenURL)
	}
	return &oauth2.Config{
		ClientID: p.conn.ClientID, ClientSecret: p.conn.ClientSecret,
		Endpoint: endpoint, RedirectURL: redirectURL,
	}, nil
}

// subject finds the user's id at the provider for a new token: the verified
// ID token's sub (its nonce checked), else UserInfo's, for OIDC; the
// Subject hook's, or "", for plain OAuth 2.0.
func (p *provider) subject(ctx context.Context, tok *oauth2.Token, nonce string) (string, error) {
	ctx = p.clientContext(ctx)
	if p.conn.Issuer == "" {
		if p.conn.Subject == nil {
			return "", nil
		}
		return p.conn.Subject(ctx, oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok)))
	}
	p.mu.Lock()
	d := p.discovered
	p.mu.Unlock()
	if raw, ok := tok.Extra("id_token").(string); ok && raw != "" {
		idToken, err := d.Verifier(&oidc.Config{ClientID: p.conn.ClientID}).Verify(ctx, raw)
		if err != nil {
			return "", fmt.Errorf("ID token: %w", err)
		}
		if idToken.Nonce != nonce {
			return "", fmt.Errorf("ID token: nonce does not match")
		}
		return idToken.Subject, nil
	}
	info, err := d.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return "", fmt.Errorf("UserInfo: %w", err)
	}
	return info.Subject, nil
}
