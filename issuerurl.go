package myaccount

import (
	"fmt"
	"net/url"
	"strings"
)

// jwksPath is where an issuer publishes its keys, relative to the issuer.
const jwksPath = ".well-known/jwks.json"

// underIssuer joins elem to the issuer URL's path, with or without the
// issuer's trailing slash: "https://t.example" and "https://t.example/" both
// give "https://t.example/" + elem. A trailing "/" of elem is kept.
func underIssuer(issuer, elem string) (string, error) {
	return url.JoinPath(issuer, elem)
}

// isAuth0Host reports whether host is one of Auth0's tenant domains, such as
// "tenant.auth0.com" or "tenant.eu.auth0.com", whose issuer always ends in "/".
func isAuth0Host(host string) bool {
	return strings.HasSuffix(strings.ToLower(host), ".auth0.com")
}

// checkAuth0Issuer refuses an Auth0 issuer without its trailing slash: Auth0
// puts "https://{domain}/" in every token's "iss", so such an issuer would
// refuse every token.
func checkAuth0Issuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || !isAuth0Host(u.Hostname()) || strings.HasSuffix(u.Path, "/") {
		return nil
	}
	return fmt.Errorf("%w: Issuer %q lacks its trailing slash: Auth0 issuers end in \"/\" (%q), as the iss of its tokens does",
		ErrConfig, issuer, issuer+"/")
}
