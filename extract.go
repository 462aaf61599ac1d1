package myaccount

import "net/http"

// TokenExtractor finds a request's access token for
// [TokenValidator.AuthenticateWith], for an app's route whose clients send it
// elsewhere than the Authorization header, such as in a cookie. It returns ""
// and no error when the request has none; an error is answered 401
// invalid_token. What it finds is taken as a bearer token.
type TokenExtractor func(r *http.Request) (string, error)
