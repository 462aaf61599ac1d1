package auth0mgmt

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/go-myaccount/myaccount"
)

// maxOffset is where Auth0's offset paging ends: it serves the first 1000
// results of a list.
const maxOffset = 1000

// organization is one of GET /api/v2/users/{id}/organizations.
type organization struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// Organizations returns at most take of the user's organizations starting at
// the offset from ("" for 0), and the next page's offset, or "" after the
// last page or past Auth0's first 1000. A from that is not a decimal offset
// between 1 and 999 wraps [myaccount.ErrInvalidCursor].
func (s *Source) Organizations(ctx context.Context, claims *myaccount.Claims, from string, take int) ([]myaccount.Organization, string, error) {
	user, err := userID(claims)
	if err != nil {
		return nil, "", err
	}
	offset, err := parseOffset(from)
	if err != nil {
		return nil, "", err
	}
	if take < 1 || take > 100 {
		return nil, "", fmt.Errorf("auth0mgmt: take %d is not between 1 and 100", take)
	}
	// Read Auth0's pages of take that hold [offset, end): one page when
	// offset is a multiple of take, as it is while take stays the same; two
	// otherwise.
	end := min(offset+take, maxOffset)
	first, last := offset/take, (end-1)/take
	var orgs []organization
	total := 0
	for page := first; page <= last; page++ {
		var body struct {
			Total         int            `json:"total"`
			Organizations []organization `json:"organizations"`
		}
		err := s.get(ctx, "users/"+url.PathEscape(user)+"/organizations", url.Values{
			"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(take)}, "include_totals": {"true"},
		}, &body)
		if errors.Is(err, errUserUnknown) {
			return []myaccount.Organization{}, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		orgs, total = append(orgs, body.Organizations...), body.Total
		if len(body.Organizations) < take {
			break
		}
	}
	skip := min(offset-first*take, len(orgs))
	orgs = orgs[skip:min(len(orgs), skip+end-offset)]
	result := make([]myaccount.Organization, 0, len(orgs))
	for _, o := range orgs {
		if o.ID == "" || o.Name == "" {
			return nil, "", fmt.Errorf("auth0mgmt: an organization without id or name")
		}
		result = append(result, myaccount.Organization(o))
	}
	next := ""
	if after := offset + len(result); len(result) == take && after < total && after < maxOffset {
		next = strconv.Itoa(after)
	}
	return result, next, nil
}

// parseOffset reads a from cursor: "" is 0, otherwise the canonical decimal of
// an offset Organizations could have returned.
func parseOffset(from string) (int, error) {
	if from == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(from)
	if err != nil || n < 1 || n >= maxOffset || strconv.Itoa(n) != from {
		return 0, fmt.Errorf("auth0mgmt: from %q: %w", from, myaccount.ErrInvalidCursor)
	}
	return n, nil
}
