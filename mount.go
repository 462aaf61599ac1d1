package myaccount

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// checkBasePath accepts "" or a path of unreserved characters between slashes,
// so that it reads the same escaped and unescaped and can be cut from both.
func checkBasePath(base string) error {
	if base == "" || base == "/" {
		return nil
	}
	if !strings.HasPrefix(base, "/") {
		return fmt.Errorf("%w: BasePath %q does not start with /", ErrConfig, base)
	}
	for seg := range strings.SplitSeq(strings.TrimSuffix(base[1:], "/"), "/") {
		if seg == "" || seg == "." || seg == ".." || url.PathEscape(seg) != seg || strings.ContainsAny(seg, "!$&'()*+,;=:@") {
			return fmt.Errorf("%w: BasePath %q must be segments of letters, digits, -, ., _ and ~", ErrConfig, base)
		}
	}
	return nil
}

// stripBasePath returns r with Config.BasePath cut from its path, as
// http.StripPrefix would, so that the handlers see /me/...; ok is false when
// the path is not under BasePath.
func (a *API) stripBasePath(r *http.Request) (_ *http.Request, ok bool) {
	base := a.cfg.BasePath
	if base == "" {
		return r, true
	}
	path, found := strings.CutPrefix(r.URL.Path, base)
	if !found || !strings.HasPrefix(path, "/") {
		return r, false
	}
	rawPath, found := strings.CutPrefix(r.URL.RawPath, base)
	if r.URL.RawPath != "" && !found {
		return r, false
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.URL = new(url.URL)
	*r2.URL = *r.URL
	r2.URL.Path, r2.URL.RawPath = path, rawPath
	return r2, true
}

// Route is one endpoint of the API, for an app whose router registers routes
// one by one (chi, gin, echo...) instead of mounting the [API] as a whole.
type Route struct {
	// Method is the HTTP method, such as "GET". A GET route answers HEAD too,
	// for a router that passes HEAD to it.
	Method string
	// Pattern is the path in net/http.ServeMux syntax, with BasePath in front,
	// such as "/me/v1/authentication-methods/{id}". Translate {id} into the
	// router's own parameter syntax (":id" for gin and echo); the handler reads
	// the id from the request path itself, raw "|" and "%7C" alike.
	Pattern string
	// Handler serves the route with the API's token, rate-limit and scope
	// checks, CORS and error responses. A request whose path is not the
	// route's gets 404.
	Handler http.Handler
}

// Routes returns every route of the API, under /me/v1/ and the unversioned
// /me/, each prefixed with Config.BasePath. With a CORS origin (CORS.Origins
// or the deprecated CORSOrigins), each pattern also has an OPTIONS route that
// answers CORS preflight requests.
//
// Mounting the API at BasePath + "/me/" serves the same routes; Routes is for
// routers that cannot mount a handler next to routes of their own under the
// same prefix.
func (a *API) Routes() []Route {
	var routes []Route
	for _, version := range []string{"/me/v1/", "/me/"} {
		for _, name := range slices.Sorted(maps.Keys(a.routes)) {
			pattern := a.cfg.BasePath + version + name
			h := a.routeHandler(name)
			for _, method := range slices.Sorted(maps.Keys(a.routes[name].handlers)) {
				routes = append(routes, Route{Method: method, Pattern: pattern, Handler: h})
			}
			if len(a.cfg.CORS.Origins) > 0 { // CORS.Origins and the deprecated CORSOrigins, merged
				routes = append(routes, Route{Method: http.MethodOptions, Pattern: pattern, Handler: h})
			}
		}
	}
	return routes
}

// routeHandler serves the API's requests whose path is the route name's, and
// answers 404 to any other, so a router's wider match cannot reach another
// route through it.
func (a *API) routeHandler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stripped, ok := a.stripBasePath(r)
		if ok {
			var got string
			got, _, ok = matchPath(stripped.URL.EscapedPath())
			ok = ok && got == name
		}
		if !ok {
			a.errs.write(w, r, newError(http.StatusNotFound, "A0E-404-0000", "No such endpoint.", ErrNotFound))
			return
		}
		a.ServeHTTP(w, r)
	})
}
