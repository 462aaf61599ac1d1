package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-myaccount/myaccount/myaccounttest"
)

// BenchmarkList is GET /me/v1/authentication-methods for a user with 20
// passkeys on the memory store, with a token the cache already verified.
func BenchmarkList(b *testing.B) {
	b.Run("passkeys=20/impl=myaccount", func(b *testing.B) {
		iss := myaccounttest.NewIssuer(b)
		api := newAPI(b, iss, nil)
		token := iss.Token(b, subject, "read:me:authentication_methods", "create:me:authentication_methods")
		for range 20 { // one authenticator each, as excludeCredentials lists the others
			enroll(b, api, token, myaccounttest.NewAuthenticator())
		}
		req := httptest.NewRequest(http.MethodGet, "/me/v1/authentication-methods", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		serve(b, api, req, http.StatusOK)
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}
