package myaccount

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// connectedAccountIDPattern is the OAS's ConnectedAccountId.
var connectedAccountIDPattern = regexp.MustCompile(`^cac_[A-Za-z0-9]{1,64}$`)

// addAccountRoutes adds the routes of connected accounts, consents and
// organizations. The flow's two browser steps (authorize, callback) carry no
// token: the ticket and the state are their credentials.
func (a *API) addAccountRoutes(routes map[string]*route, protect func(string, http.HandlerFunc) http.Handler) {
	get := func(h http.Handler) *route {
		return &route{handlers: map[string]http.Handler{http.MethodGet: h}, allow: "GET, HEAD"}
	}
	post := func(h http.Handler) *route {
		return &route{handlers: map[string]http.Handler{http.MethodPost: h}, allow: "POST"}
	}
	routes["connected-accounts/connect"] = post(protect(scopeCreateConnectedAccounts, a.connect))
	routes["connected-accounts/complete"] = post(protect(scopeCreateConnectedAccounts, a.completeConnect))
	routes["connected-accounts/accounts"] = get(protect(scopeReadConnectedAccounts, a.listConnectedAccounts))
	routes["connected-accounts/accounts/{id}"] = &route{
		handlers: map[string]http.Handler{http.MethodDelete: protect(scopeDeleteConnectedAccounts, a.deleteConnectedAccount)},
		allow:    "DELETE",
	}
	routes["connected-accounts/connections"] = get(protect(scopeReadConnectedAccounts, a.listConnections))
	browserStep := func(h http.HandlerFunc) *route {
		return &route{handlers: map[string]http.Handler{http.MethodGet: a.browserStep(h)}, allow: "GET", noHead: true}
	}
	routes["connected-accounts/authorize"] = browserStep(a.connectAuthorize)
	routes["connected-accounts/callback"] = browserStep(a.connectCallback)
	routes["consents"] = get(protect(scopeReadConsents, a.listConsents))
	routes["consents/{id}"] = get(protect(scopeReadConsents, a.getConsent))
	routes["organizations"] = get(protect(scopeReadOrganizations, a.listOrganizations))
}

// browserStep serves a step of the flow that a browser visits without a
// token: it takes from the tenant's rate-limit bucket (there is no user to
// charge before the ticket or state is read), and keeps the step's URL, which
// holds that ticket or state, out of the Referer sent to the next page.
func (a *API) browserStep(next http.HandlerFunc) http.Handler {
	tenantOnly := rateLimiter{limiter: a.limits.limiter, tenant: a.limits.tenant}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := tenantOnly.check(r.Context(), w.Header(), a.cfg.Issuer, ""); err != nil {
			a.errs.write(w, r, err)
			return
		}
		w.Header().Set("Referrer-Policy", "no-referrer")
		next(w, r)
	})
}

// matchAccountPath maps the part of an escaped path after /me/v1/ (or /me/)
// to a route of addAccountRoutes and its unescaped id. A connected account id
// outside its grammar matches nothing: 404 before any store is asked.
func matchAccountPath(rest string) (name, id string, ok bool) {
	switch rest {
	case "connected-accounts/connect", "connected-accounts/complete", "connected-accounts/accounts",
		"connected-accounts/connections", "connected-accounts/authorize", "connected-accounts/callback",
		"consents", "organizations":
		return rest, "", true
	}
	if seg, found := strings.CutPrefix(rest, "connected-accounts/accounts/"); found {
		return "connected-accounts/accounts/{id}", seg, connectedAccountIDPattern.MatchString(seg)
	}
	if seg, found := strings.CutPrefix(rest, "consents/"); found && seg != "" && !strings.Contains(seg, "/") {
		id, err := url.PathUnescape(seg)
		return "consents/{id}", id, err == nil && id != ""
	}
	return "", "", false
}
