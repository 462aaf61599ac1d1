package myaccount

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Consent is a grant the user gave a client, as the authorization server
// knows it: the OAS's Consent.
type Consent struct {
	ID        string
	ClientID  string
	Audience  string   // the API the consent was granted for; optional
	Scopes    []string // the scopes requested; optional
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Organization is an organization the user belongs to: the OAS's Organization.
type Organization struct {
	ID          string
	Name        string // the slug
	DisplayName string // optional
}

// ConsentSource reads the user's consents from the deployment's
// authorization server; this library keeps none.
type ConsentSource interface {
	// Consents returns the user's consents; none is an empty slice.
	Consents(ctx context.Context, claims *Claims) ([]Consent, error)
	// Consent returns one consent of the user, or an error wrapping
	// [ErrNotFound] (also for another user's).
	Consent(ctx context.Context, claims *Claims, id string) (*Consent, error)
}

// OrganizationSource reads the organizations the user belongs to from the
// deployment's authorization server.
type OrganizationSource interface {
	// Organizations returns at most take (1 to 100) of the user's
	// organizations starting at from ("" for the first page; otherwise a
	// next this source returned), and the next page's from, or "" after the
	// last page. A from it did not write gives an error wrapping
	// [ErrInvalidCursor].
	Organizations(ctx context.Context, claims *Claims, from string, take int) (orgs []Organization, next string, err error)
}

type consentDetails struct {
	Audience string   `json:"audience,omitempty"`
	Scope    []string `json:"scope,omitempty"`
}

type consentBody struct {
	ID               string          `json:"id"`
	ClientID         string          `json:"client_id"`
	RequestedDetails *consentDetails `json:"requested_details,omitempty"`
	CreatedAt        string          `json:"created_at"`
	ExpiresAt        string          `json:"expires_at"`
}

func newConsentBody(c *Consent) consentBody {
	b := consentBody{ID: c.ID, ClientID: c.ClientID, CreatedAt: formatTime(c.CreatedAt), ExpiresAt: formatTime(c.ExpiresAt)}
	if c.Audience != "" || len(c.Scopes) > 0 {
		b.RequestedDetails = &consentDetails{Audience: c.Audience, Scope: c.Scopes}
	}
	return b
}

// GET /consents
func (a *API) listConsents(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	body := struct {
		Consents []consentBody `json:"consents"`
	}{Consents: []consentBody{}}
	if src := a.cfg.ConnectedAccounts.Consents; src != nil {
		consents, err := src.Consents(r.Context(), claims)
		if err != nil {
			a.errs.write(w, r, err)
			return
		}
		for i := range consents {
			body.Consents = append(body.Consents, newConsentBody(&consents[i]))
		}
	}
	writeJSON(w, r, http.StatusOK, body)
}

// GET /consents/{id}
func (a *API) getConsent(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	src := a.cfg.ConnectedAccounts.Consents
	if src == nil {
		a.errs.write(w, r, newError(http.StatusNotFound, "A0E-404-0001", "The consent was not found.", ErrNotFound))
		return
	}
	c, err := src.Consent(r.Context(), claims, rawPathID(r))
	if errors.Is(err, ErrNotFound) {
		err = newError(http.StatusNotFound, "A0E-404-0001", "The consent was not found.", err)
	}
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, newConsentBody(c))
}

// GET /organizations[?take=][&from=]
func (a *API) listOrganizations(w http.ResponseWriter, r *http.Request) {
	claims, _ := ClaimsFromContext(r.Context())
	q := r.URL.Query()
	take, err := parseTake(q, 50, 100)
	if err != nil {
		a.errs.write(w, r, err)
		return
	}
	type organization struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		DisplayName string `json:"display_name,omitempty"`
	}
	body := struct {
		Organizations []organization `json:"organizations"`
		Next          string         `json:"next,omitempty"`
	}{Organizations: []organization{}}
	if src := a.cfg.ConnectedAccounts.Organizations; src != nil {
		orgs, next, err := src.Organizations(r.Context(), claims, q.Get("from"), take)
		if errors.Is(err, ErrInvalidCursor) {
			err = queryError("from", "is not a cursor this API returned")
		}
		if err != nil {
			a.errs.write(w, r, err)
			return
		}
		for _, o := range orgs[:min(len(orgs), take)] {
			body.Organizations = append(body.Organizations, organization(o))
		}
		body.Next = next
	}
	writeJSON(w, r, http.StatusOK, body)
}
