// Package gin mounts the My Account API in a gin engine, route by route, next
// to an app route of its own under /me/ that the API's token checks protect,
// for the app's own audience.
// (Mounting the whole API at /me/*rest would clash with /me/profile in gin.)
package gin

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-myaccount/myaccount"
)

// NewApp returns the app's engine. gin spells a path parameter ":id". The
// app's own route takes only tokens minted for audience, the app's API: a
// token for the My Account API, valid as it is, gets 401 there.
func NewApp(api *myaccount.API, audience string) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	for _, route := range api.Routes() {
		e.Handle(route.Method, strings.ReplaceAll(route.Pattern, "{id}", ":id"), gin.WrapH(route.Handler))
	}
	e.GET("/me/profile",
		Middleware(api.Validator().AuthenticateWith(myaccount.AuthOptions{Audience: audience})),
		Middleware(myaccount.RequireScope("read:profile")),
		profile)
	return e
}

// Middleware adapts net/http middleware, such as the token checks of
// [myaccount.TokenValidator.AuthenticateWith] and [myaccount.RequireScope], to gin:
// the chain goes on with the request the middleware passes on (carrying the
// token's claims), and stops when the middleware answers itself.
func Middleware(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort()
		}
	}
}

// profile is the app's own handler; the middleware has put the token's claims
// in the request's context.
func profile(c *gin.Context) {
	claims, _ := myaccount.ClaimsFromContext(c.Request.Context())
	c.String(http.StatusOK, fmt.Sprintf("profile of %s", claims.Subject))
}
