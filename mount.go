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
// /me/, each prefixed with Config.BasePath. With CORS.Origins set, each pattern
// also has an OPTIONS route that answers CORS preflight requests.
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
			if len(a.cfg.CORS.Origins) > 0 {
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

// route is one path of the API with a handler per allowed method.
type route struct {
	handlers map[string]http.Handler
	allow    string
	// noHead refuses HEAD on a GET that spends a credential (a connect
	// flow's ticket or state): a link checker's HEAD must not spend it.
	noHead bool
}

func (a *API) buildRoutes() map[string]*route {
	protect := func(scope string, h http.HandlerFunc) http.Handler {
		// The DPoP proof is recorded by rateLimit, once the request passed the limits.
		return a.validator.authenticateWith(AuthOptions{}, true)(RequireAudience(a.cfg.Audience)(a.rateLimit(RequireScope(scope)(h))))
	}
	routes := map[string]*route{
		"factors": {
			handlers: map[string]http.Handler{http.MethodGet: protect(scopeReadFactors, a.listFactors)},
			allow:    "GET, HEAD",
		},
		"authentication-methods": {
			handlers: map[string]http.Handler{
				http.MethodGet:  protect(scopeReadMethods, a.listMethods),
				http.MethodPost: protect(scopeCreateMethods, a.enroll),
			},
			allow: "GET, HEAD, POST",
		},
		"authentication-methods/{id}": {
			handlers: map[string]http.Handler{
				http.MethodGet:    protect(scopeReadMethods, a.getMethod),
				http.MethodPatch:  protect(scopeUpdateMethods, a.updateMethod),
				http.MethodDelete: protect(scopeDeleteMethods, a.deleteMethod),
			},
			allow: "DELETE, GET, HEAD, PATCH",
		},
		"authentication-methods/{id}/verify": {
			handlers: map[string]http.Handler{http.MethodPost: protect(scopeCreateMethods, a.verify)},
			allow:    "POST",
		},
	}
	a.addAccountRoutes(routes, protect)
	return routes
}

// route finds the route for the request path, answering 404 and 405 itself.
func (a *API) route(w http.ResponseWriter, r *http.Request) {
	r, ok := a.stripBasePath(r)
	name := ""
	if ok {
		name, _, ok = matchPath(r.URL.EscapedPath())
	}
	rt := a.routes[name]
	if !ok || rt == nil {
		a.hintBasePath(r)
		a.errs.write(w, r, newError(http.StatusNotFound, "A0E-404-0000", "No such endpoint.", ErrNotFound))
		return
	}
	method := r.Method
	if method == http.MethodHead && !rt.noHead {
		method = http.MethodGet
	}
	h := rt.handlers[method]
	if h == nil {
		e := newError(http.StatusMethodNotAllowed, "A0E-405-0001", "The method "+r.Method+" is not allowed here.", errMethodNotAllowed)
		e.Header = http.Header{"Allow": {rt.allow}}
		a.errs.write(w, r, e)
		return
	}
	h.ServeHTTP(w, r)
}

// matchPath maps an escaped request path to a route name and the unescaped method
// id. Both /me/v1/... and the unversioned /me/... are served.
func matchPath(escaped string) (name, id string, ok bool) {
	rest, found := strings.CutPrefix(escaped, "/me/v1/")
	if !found {
		if rest, found = strings.CutPrefix(escaped, "/me/"); !found {
			return "", "", false
		}
	}
	switch rest {
	case "factors", "authentication-methods":
		return rest, "", true
	}
	if name, id, ok = matchAccountPath(rest); ok {
		return name, id, true
	}
	rest, found = strings.CutPrefix(rest, "authentication-methods/")
	if !found {
		return "", "", false
	}
	name = "authentication-methods/{id}"
	if seg, ok := strings.CutSuffix(rest, "/verify"); ok {
		name, rest = "authentication-methods/{id}/verify", seg
	}
	if rest == "" || strings.Contains(rest, "/") {
		return "", "", false
	}
	id, err := url.PathUnescape(rest)
	if err != nil || id == "" {
		return "", "", false
	}
	return name, id, true
}

func (a *API) methodURL(r *http.Request, id string) string {
	return a.cfg.publicBase(r) + a.cfg.BasePath + "/me/v1/authentication-methods/" + url.PathEscape(id)
}
