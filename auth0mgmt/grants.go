package auth0mgmt

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-myaccount/myaccount"
)

// grant is a user grant as GET /api/v2/grants returns it.
type grant struct {
	ID       string   `json:"id"`
	ClientID string   `json:"clientID"`
	UserID   string   `json:"user_id"`
	Audience string   `json:"audience"`
	Scope    []string `json:"scope"`
}

// Consents returns the user's grants as consents, at most
// [Config.MaxPages] pages of them; none is an empty slice.
func (s *Source) Consents(ctx context.Context, claims *myaccount.Claims) ([]myaccount.Consent, error) {
	user, err := userID(claims)
	if err != nil {
		return nil, err
	}
	grants, err := s.grants(ctx, user)
	if err != nil {
		return nil, err
	}
	consents := make([]myaccount.Consent, 0, len(grants))
	for i := range grants {
		consents = append(consents, consent(&grants[i]))
	}
	return consents, nil
}

// Consent returns the user's grant id as a consent, or an error wrapping
// [myaccount.ErrNotFound] when the user has no such grant (another user's
// grant included).
func (s *Source) Consent(ctx context.Context, claims *myaccount.Claims, id string) (*myaccount.Consent, error) {
	user, err := userID(claims)
	if err != nil {
		return nil, err
	}
	grants, err := s.grants(ctx, user)
	if err != nil {
		return nil, err
	}
	for i := range grants {
		if grants[i].ID == id {
			c := consent(&grants[i])
			return &c, nil
		}
	}
	return nil, fmt.Errorf("auth0mgmt: grant %q: %w", id, myaccount.ErrNotFound)
}

// consent maps a grant; Auth0 keeps no creation or expiry time for a grant,
// so CreatedAt and ExpiresAt stay zero (see the package's doc).
func consent(g *grant) myaccount.Consent {
	return myaccount.Consent{ID: g.ID, ClientID: g.ClientID, Audience: g.Audience, Scopes: g.Scope}
}

// grants reads the grants of user, page by page, until Auth0's total or
// s.maxPages pages. Grants of another user (which the user_id filter already
// excludes) are dropped, so none is ever shown. A user unknown to the tenant
// has none.
func (s *Source) grants(ctx context.Context, user string) ([]grant, error) {
	var all []grant
	for page := range s.maxPages {
		var body struct {
			Total  int     `json:"total"`
			Grants []grant `json:"grants"`
		}
		err := s.get(ctx, "grants", map[string][]string{
			"user_id": {user}, "page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(s.pageSize)}, "include_totals": {"true"},
		}, &body)
		if errors.Is(err, errUserUnknown) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, g := range body.Grants {
			if g.UserID == user && g.ID != "" {
				all = append(all, g)
			}
		}
		if len(body.Grants) < s.pageSize || (page+1)*s.pageSize >= body.Total {
			break
		}
	}
	return all, nil
}
