package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/myaccounttest"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// BenchmarkEnrollSecurityKey is one security key (webauthn-roaming)
// enrollment: the creation options, a roaming software authenticator's answer
// and its verification, beside go-webauthn doing the same ceremony alone.
func BenchmarkEnrollSecurityKey(b *testing.B) {
	b.Run("impl=go-webauthn-floor", func(b *testing.B) {
		wa, err := webauthn.New(&webauthn.Config{RPID: "localhost", RPDisplayName: "localhost", RPOrigins: []string{origin}})
		if err != nil {
			b.Fatal(err)
		}
		user := &benchUser{id: []byte("0123456789abcdef0123456789abcdef")}
		b.ReportAllocs()
		for b.Loop() {
			creation, session, err := wa.BeginRegistration(user,
				webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
					AuthenticatorAttachment: protocol.CrossPlatform,
					ResidentKey:             protocol.ResidentKeyRequirementDiscouraged,
					UserVerification:        protocol.VerificationPreferred,
				}))
			if err != nil {
				b.Fatal(err)
			}
			options, err := json.Marshal(creation)
			if err != nil {
				b.Fatal(err)
			}
			resp, err := myaccounttest.NewSecurityKey().Create(options, origin)
			if err != nil {
				b.Fatal(err)
			}
			parsed, err := protocol.ParseCredentialCreationResponseBytes(resp)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := wa.CreateCredential(user, *session, parsed); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=myaccount-handler", func(b *testing.B) {
		iss := myaccounttest.NewIssuer(b)
		store := &recordingStore{Store: myaccount.NewMemoryStore()}
		api := newAPI(b, iss, store)
		token := iss.Token(b, subject, myaccount.ScopeCreateMethods)
		cycle := func() {
			enrollSecurityKey(b, api, token, myaccounttest.NewSecurityKey())
			if err := store.DeleteMethod(context.Background(), iss.Issuer, subject, store.last); err != nil {
				b.Fatal(err)
			}
		}
		cycle() // warms the token cache
		b.ReportAllocs()
		for b.Loop() {
			cycle()
		}
	})
}

// enrollSecurityKey runs a webauthn-roaming enrollment through api.
func enrollSecurityKey(tb testing.TB, api http.Handler, token string, auth *myaccounttest.Authenticator) {
	tb.Helper()
	rec := serve(tb, api, post("/me/v1/authentication-methods", token, `{"type":"webauthn-roaming"}`), http.StatusAccepted)
	var begun struct {
		ID          string          `json:"id"`
		AuthSession string          `json:"auth_session"`
		Options     json.RawMessage `json:"authn_params_public_key"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &begun); err != nil {
		tb.Fatal(err)
	}
	resp, err := auth.Create(begun.Options, origin)
	if err != nil {
		tb.Fatal(err)
	}
	body := `{"auth_session":"` + begun.AuthSession + `","authn_response":` + string(resp) + `}`
	serve(tb, api, post("/me/v1/authentication-methods/"+url.PathEscape(begun.ID)+"/verify", token, body), http.StatusCreated)
}
