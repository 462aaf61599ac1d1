package myaccount

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// ErrAccessRevoked means a connected account can give no access token: the
// provider refused its refresh token (the user withdrew access there), or its
// access token expired without one. The account is marked revoked; the user
// must connect it again.
var ErrAccessRevoked = errors.New("myaccount: connected account's access was revoked at the provider")

// vaultToken is a provider's token set as the vault seals it.
type vaultToken struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	// LeaseUntil is set while a caller refreshes the token: until then,
	// others wait for its result rather than spend the refresh token too.
	LeaseUntil time.Time `json:"lease_until,omitzero"`
}

func newVaultToken(t *oauth2.Token) *vaultToken {
	return &vaultToken{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken, Expiry: t.Expiry}
}

// forApp is the token the vault hands the app: the access token alone; the
// refresh token never leaves the vault.
func (t *vaultToken) forApp() *oauth2.Token {
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry}
}

// expiryMargin is how long before its expiry an access token is refreshed,
// so that the app does not get one that dies on its way to the provider.
const expiryMargin = 30 * time.Second

func (t *vaultToken) fresh(now time.Time) bool {
	return t.Expiry.IsZero() || now.Add(expiryMargin).Before(t.Expiry)
}

// tokenContext binds an account's sealed tokens to its user, connection and
// provider subject: the same for every version of the account.
func tokenContext(a *ConnectedAccount) []byte {
	return []byte("myaccount connected account\x00" + a.Issuer + "\x00" + a.UserID + "\x00" + a.Connection + "\x00" + a.Subject)
}

func (a *API) sealTokens(acct *ConnectedAccount, t *vaultToken) {
	plain, _ := json.Marshal(t)
	acct.Tokens = a.keys.seal(nil, plain, tokenContext(acct))
}

func (a *API) openTokens(acct *ConnectedAccount) (*vaultToken, error) {
	plain, err := a.keys.open(acct.Tokens, tokenContext(acct))
	if err != nil {
		return nil, fmt.Errorf("myaccount: connected account %s: tokens: %w", acct.ID, err)
	}
	t := new(vaultToken)
	if err := json.Unmarshal(plain, t); err != nil {
		return nil, fmt.Errorf("myaccount: connected account %s: tokens: %w", acct.ID, err)
	}
	return t, nil
}

// refreshLocks serialise the refreshes of one account within a process, so
// that its callers share one refresh instead of spending rotated refresh
// tokens against each other; across processes the store's compare-and-swap
// decides. Accounts share 64 locks by hash.
type refreshLocks struct {
	seed  maphash.Seed
	locks [64]sync.Mutex
}

func (l *refreshLocks) lock(id string) func() {
	m := &l.locks[maphash.String(l.seed, id)%uint64(len(l.locks))]
	m.Lock()
	return m.Unlock
}

// ConnectedAccountToken returns a valid access token for a connected account
// of the user (issuer, userID): account is its id ("cac_..."), or the name
// of a connection, for the user's oldest account there. The token is
// refreshed when it expires within 30 seconds. One caller at a time, across
// every instance sharing the store, refreshes an account: it first claims a
// short lease in a compare-and-swap of the account's tokens, then keeps the
// provider's new refresh token in another; the others wait and read its
// result. So a rotated refresh token is never lost nor spent twice. It gives
// [ErrNotFound] for no such account, and [ErrAccessRevoked] when the
// provider refused the refresh token (the account is then marked revoked,
// and listed with expires_at at that time).
//
// This is the vault's call for the app's back end; the returned token holds
// the access token alone (the refresh token stays in the vault), for the app
// to send to the provider; it must not reach the browser.
func (a *API) ConnectedAccountToken(ctx context.Context, issuer, userID, account string) (*oauth2.Token, error) {
	acct, err := a.findConnectedAccount(ctx, issuer, userID, account)
	if err != nil {
		return nil, err
	}
	id := acct.ID
	unlock := a.refreshLocks.lock(id)
	defer unlock()
	for {
		if acct, err = a.cfg.Store.GetConnectedAccount(ctx, issuer, userID, id); err != nil {
			return nil, err
		}
		if acct.Revoked {
			return nil, ErrAccessRevoked
		}
		tok, err := a.openTokens(acct)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		if tok.fresh(now) {
			return tok.forApp(), nil
		}
		if now.Before(tok.LeaseUntil) { // another instance is refreshing it
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(leaseWait):
			}
			continue
		}
		p := a.providers[acct.Connection]
		if p == nil {
			return nil, fmt.Errorf("myaccount: connected account %s: connection %q is no longer configured", acct.ID, acct.Connection)
		}
		if tok.RefreshToken == "" {
			if err := a.markRevoked(ctx, acct); !errors.Is(err, errStale) {
				return nil, err
			}
			continue
		}
		leased := *tok
		leased.LeaseUntil = now.Add(refreshLease)
		held, err := a.swapTokens(ctx, acct, &leased)
		if errors.Is(err, errStale) {
			continue // another caller changed it first: read it again
		} else if err != nil {
			return nil, err
		}
		return a.refreshHeld(ctx, p, held, tok)
	}
}

// refreshHeld redeems the refresh token of an account whose lease it holds,
// and stores the result. Once the provider may have rotated the refresh
// token, the new one must be stored even if the caller gives up: this runs
// on a context that the caller's cancellation does not end, bounded by the
// lease.
func (a *API) refreshHeld(ctx context.Context, p *provider, acct *ConnectedAccount, tok *vaultToken) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshLease)
	defer cancel()
	renewed, err := p.refresh(ctx, tok.RefreshToken)
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re) && re.ErrorCode == "invalid_grant":
		// We held the lease: no one else spent the refresh token.
		err := a.markRevoked(ctx, acct)
		if errors.Is(err, errStale) { // our lease ran out and another caller took over
			err = fmt.Errorf("%w: connected account %s changed during its refresh", ErrUnavailable, acct.ID)
		}
		return nil, err
	case err != nil:
		_, _ = a.swapTokens(ctx, acct, tok) // give the lease back
		return nil, fmt.Errorf("%w: refreshing connected account %s: %v", ErrUnavailable, acct.ID, err)
	}
	// A lost swap means our lease ran out and another caller refreshed
	// too: our token is valid, and the stored one stays.
	fresh := newVaultToken(renewed)
	if _, err := a.swapTokens(ctx, acct, fresh); err != nil && !errors.Is(err, errStale) {
		return nil, err
	}
	return fresh.forApp(), nil
}

// refreshLease is how long a refresh may take before others may try; they
// poll every leaseWait meanwhile.
const (
	refreshLease = 15 * time.Second
	leaseWait    = 20 * time.Millisecond
)

// errStale means an account changed since it was read.
var errStale = errors.New("myaccount: connected account changed meanwhile")

func (a *API) findConnectedAccount(ctx context.Context, issuer, userID, account string) (*ConnectedAccount, error) {
	if strings.HasPrefix(account, "cac_") {
		return a.cfg.Store.GetConnectedAccount(ctx, issuer, userID, account)
	}
	all, err := a.cfg.Store.ListConnectedAccounts(ctx, issuer, userID)
	if err != nil {
		return nil, err
	}
	for _, acct := range all {
		if acct.Connection == account {
			return acct, nil
		}
	}
	return nil, ErrNotFound
}

// swapTokens stores tok as the account's tokens if it did not change since
// it was read, and returns the account as stored; errStale if it changed.
func (a *API) swapTokens(ctx context.Context, acct *ConnectedAccount, tok *vaultToken) (*ConnectedAccount, error) {
	next := *acct
	a.sealTokens(&next, tok)
	swapped, err := a.cfg.Store.SwapConnectedAccountTokens(ctx, acct.Issuer, acct.UserID, acct.ID, acct.Version, next.Tokens, false, time.Time{})
	if err != nil {
		return nil, err
	}
	if !swapped {
		return nil, errStale
	}
	next.Version++
	return &next, nil
}

// markRevoked records that the provider refused the account's grant, and
// gives ErrAccessRevoked, or errStale when the account changed meanwhile.
func (a *API) markRevoked(ctx context.Context, acct *ConnectedAccount) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	swapped, err := a.cfg.Store.SwapConnectedAccountTokens(ctx, acct.Issuer, acct.UserID, acct.ID, acct.Version, acct.Tokens, true, now)
	switch {
	case err != nil:
		return err
	case !swapped:
		return errStale
	}
	return ErrAccessRevoked
}

// refresh redeems a refresh token at the provider.
func (p *provider) refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	oc, err := p.oauth2Config(ctx, "")
	if err != nil {
		return nil, err
	}
	return oc.TokenSource(p.clientContext(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
}

// revoke asks the provider to revoke the account's grant (RFC 7009), when the
// connection has a revocation endpoint. golang.org/x/oauth2 has no
// revocation call; this is its one form POST.
func (p *provider) revoke(ctx context.Context, tok *vaultToken) error {
	if _, err := p.oauth2Config(ctx, ""); err != nil { // discovers the endpoint for OIDC
		return err
	}
	p.mu.Lock()
	endpoint := p.revocation
	p.mu.Unlock()
	if endpoint == "" {
		return nil
	}
	form := url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}
	if tok.RefreshToken == "" {
		form = url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(p.conn.ClientID), url.QueryEscape(p.conn.ClientSecret))
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revocation endpoint answered %d", resp.StatusCode)
	}
	return nil
}
