// Package echo mounts the My Account API in an echo server, route by route,
// next to an app route of its own under /me/ that the API's token checks
// protect, for the app's own audience.
package echo

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/go-myaccount/myaccount"
	"github.com/labstack/echo/v4"
)

// NewApp returns the app's server. echo spells a path parameter ":id", and
// wraps net/http handlers and middleware itself. The app's own route takes
// only tokens minted for audience, the app's API: a token for the My Account
// API, valid as it is, gets 401 there.
func NewApp(api *myaccount.API, audience string) http.Handler {
	e := echo.New()
	for _, route := range api.Routes() {
		e.Add(route.Method, strings.ReplaceAll(route.Pattern, "{id}", ":id"), echo.WrapHandler(route.Handler))
	}
	e.GET("/me/profile", profile,
		echo.WrapMiddleware(api.Validator().AuthenticateWith(myaccount.AuthOptions{Audience: audience})),
		echo.WrapMiddleware(myaccount.RequireScope("read:profile")))
	return e
}

// profile is the app's own handler; the middleware has put the token's claims
// in the request's context.
func profile(c echo.Context) error {
	claims, _ := myaccount.ClaimsFromContext(c.Request().Context())
	return c.String(http.StatusOK, fmt.Sprintf("profile of %s", claims.Subject))
}
