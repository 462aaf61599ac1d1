package myaccount

import (
	"log/slog"
	"net/http"
	"strings"
)

// hintBasePath logs, once per API, what BasePath would serve a request that
// reached the API under a path prefix while BasePath is empty, such as
// /api/me/v1/factors from a router that mounts the API at /api/me/ without
// stripping /api. The request still gets 404: guessing the prefix per request
// would let any client pick the routes' paths.
func (a *API) hintBasePath(r *http.Request) {
	if a.cfg.BasePath != "" || a.basePathHinted.Load() {
		return
	}
	// Only the first "/me/" is tried: a client choosing a long path of many
	// must not make this a loop over each.
	escaped := r.URL.EscapedPath()
	i := strings.Index(escaped, "/me/")
	if i <= 0 {
		return
	}
	prefix := escaped[:i]
	if checkBasePath(prefix) != nil {
		return
	}
	if _, _, ok := matchPath(escaped[i:]); !ok {
		return
	}
	if !a.basePathHinted.Swap(true) {
		a.cfg.Logger.WarnContext(r.Context(), "myaccount: a request reached the API under a path prefix while Config.BasePath "+
			"is empty, and got 404: set BasePath to the prefix (or strip it before the API)", slog.String("base_path", prefix))
	}
}
