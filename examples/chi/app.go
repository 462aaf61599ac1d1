// Package chi mounts the My Account API in a chi router, route by route, next
// to an app route of its own under /me/ that the API's token checks protect,
// for the app's own audience.
package chi

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-myaccount/myaccount"
)

// NewApp returns the app's router. chi understands the patterns of
// [myaccount.API.Routes] as they are ({id} is a chi parameter too). The app's
// own route takes only tokens minted for audience, the app's API: a token for
// the My Account API, valid as it is, gets 401 there.
func NewApp(api *myaccount.API, audience string) http.Handler {
	r := chi.NewRouter()
	for _, route := range api.Routes() {
		r.Method(route.Method, route.Pattern, route.Handler)
	}
	r.With(api.Validator().AuthenticateWith(myaccount.AuthOptions{Audience: audience}), myaccount.RequireScope("read:profile")).
		Get("/me/profile", profile)
	return r
}

// profile is the app's own handler; the middleware has put the token's claims
// in the request's context.
func profile(w http.ResponseWriter, r *http.Request) {
	claims, _ := myaccount.ClaimsFromContext(r.Context())
	fmt.Fprintf(w, "profile of %s", claims.Subject)
}
