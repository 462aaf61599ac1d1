package myaccount

import (
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// connectedAccountBody is the OAS's ConnectedAccount.
type connectedAccountBody struct {
	ID         string   `json:"id"`
	Connection string   `json:"connection"`
	AccessType string   `json:"access_type"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"created_at"`
	ExpiresAt  string   `json:"expires_at,omitempty"`
}

func accountBody(acct *ConnectedAccount) connectedAccountBody {
	b := connectedAccountBody{
		ID: acct.ID, Connection: acct.Connection, AccessType: "offline",
		Scopes: acct.Scopes, CreatedAt: formatTime(acct.CreatedAt),
	}
	if b.Scopes == nil {
		b.Scopes = []string{}
	}
	if !acct.ExpiresAt.IsZero() {
		b.ExpiresAt = formatTime(acct.ExpiresAt)
	}
	return b
}

// formatTime is the API's timestamp: RFC 3339 UTC with milliseconds.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// listPage reads the paging parameters of a list: take (see parseTake) and
// from (a cursor this API wrote: the position after which the page starts).
func listPage(q url.Values, defaultTake, maxTake int) (from int, take int, err error) {
	if take, err = parseTake(q, defaultTake, maxTake); err != nil {
		return 0, 0, err
	}
	if v, ok := q["from"]; ok {
		raw, ok := decodeAuthSession(v[0]) // strict base64url: one spelling
		if !ok || len(raw) != 4 || len(v) > 1 {
			return 0, 0, queryError("from", "is not a cursor this API returned")
		}
		from = int(binary.BigEndian.Uint32(raw))
	}
	return from, take, nil
}

// parseTake reads take: a whole number of at least 1, clamped to maxTake
// (myaccount-js asks for more than some lists give); defaultTake when absent.
func parseTake(q url.Values, defaultTake, maxTake int) (int, error) {
	v, ok := q["take"]
	if !ok {
		return defaultTake, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 1 || len(v) > 1 {
		return 0, queryError("take", "must be a whole number of at least 1")
	}
	return min(n, maxTake), nil
}

// cursor is the from of the page that starts after position n.
func cursor(n int) string {
	return b64url.EncodeToString(binary.BigEndian.AppendUint32(nil, uint32(n)))
}

// GET /connected-accounts/accounts[?connection=][&take=][&from=]
func (a *API) listConnectedAccounts(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	q := r.URL.Query()
	connections, err := connectionFilter(q["connection"])
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	from, take, err := listPage(q, 10, 20)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	all, err := a.cfg.Store.ListConnectedAccounts(r.Context(), claims.Issuer, claims.Subject)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	// The cursor counts accounts from the oldest, a stable order; a user
	// has at most 20, so the filter runs here.
	if connections != nil {
		all = slices.DeleteFunc(all, func(acct *ConnectedAccount) bool { return !slices.Contains(connections, acct.Connection) })
	}
	page := struct {
		Accounts []connectedAccountBody `json:"accounts"`
		Next     string                 `json:"next,omitempty"`
	}{Accounts: []connectedAccountBody{}}
	for _, acct := range all[min(from, len(all)):min(from+take, len(all))] {
		page.Accounts = append(page.Accounts, accountBody(acct))
	}
	if from+take < len(all) {
		page.Next = cursor(from + take)
	}
	writeJSON(w, r, http.StatusOK, page)
}

// connectionFilter reads the connection filter, repeated
// (connection=a&connection=b) or as one JSON array (connection=["a","b"]),
// as myaccount-js sends it; nil means no filter.
func connectionFilter(values []string) ([]string, error) {
	var names []string
	for _, v := range values {
		if strings.HasPrefix(v, "[") {
			var list []string
			if json.Unmarshal([]byte(v), &list) != nil || len(list) == 0 {
				return nil, queryError("connection", "must be a connection name or a JSON array of them")
			}
			names = append(names, list...)
			continue
		}
		names = append(names, v)
	}
	if len(names) > 20 {
		return nil, queryError("connection", "names at most 20 connections")
	}
	for _, n := range names {
		if len(n) == 0 || len(n) > 128 {
			return nil, queryError("connection", "must be 1 to 128 characters")
		}
	}
	return names, nil
}

// GET /connected-accounts/connections[?take=][&from=]
func (a *API) listConnections(w http.ResponseWriter, r *http.Request) {
	from, take, err := listPage(r.URL.Query(), 10, 20)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	type connection struct {
		Name     string   `json:"name"`
		Strategy string   `json:"strategy"`
		Scopes   []string `json:"scopes,omitempty"`
	}
	all := a.cfg.ConnectedAccounts.Connections
	page := struct {
		Connections []connection `json:"connections"`
		Next        string       `json:"next,omitempty"`
	}{Connections: []connection{}}
	for _, c := range all[min(from, len(all)):min(from+take, len(all))] {
		page.Connections = append(page.Connections, connection{Name: c.Name, Strategy: c.strategy(), Scopes: c.Scopes})
	}
	if from+take < len(all) {
		page.Next = cursor(from + take)
	}
	writeJSON(w, r, http.StatusOK, page)
}

// DELETE /connected-accounts/accounts/{id}: revokes the grant at the
// provider when it has a revocation endpoint, then forgets the account. A
// provider that cannot be reached does not keep the user linked: the
// failure is logged and the account deleted.
func (a *API) deleteConnectedAccount(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	id := rawPathID(r)
	acct, err := a.cfg.Store.GetConnectedAccount(r.Context(), claims.Issuer, claims.Subject, id)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	if p := a.providers[acct.Connection]; p != nil && !acct.Revoked {
		tok, err := a.openTokens(acct)
		if err == nil {
			err = p.revoke(r.Context(), tok)
		}
		if err != nil {
			a.cfg.Logger.WarnContext(r.Context(), "myaccount: connected account: revocation at the provider failed",
				"connection", acct.Connection, "id", acct.ID, "err", err)
		}
	}
	if err := a.cfg.Store.DeleteConnectedAccount(r.Context(), claims.Issuer, claims.Subject, id); err != nil {
		a.errs.write(w, r, err)
		return
	}
	a.audit(r, AuditEvent{Type: AuditAccountDisconnected, MethodID: id, MethodType: auditConnectedType})
	w.WriteHeader(http.StatusNoContent)
}
