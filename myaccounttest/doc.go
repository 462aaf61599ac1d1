// Package myaccounttest provides the parties around a My Account API server
// that tests need but cannot easily have for real, much as net/http/httptest
// does for net/http.
//
// An [Issuer] stands in for the authorization server: it mints access tokens
// (valid ones, and with [TokenOption] the expired, misaddressed or oddly
// signed ones a server must refuse) and serves the JSON Web Key Set that
// verifies them. [NewIssuer] runs it on an httptest server; [NewDevIssuer]
// lets a demo mount it in its own mux.
//
// An [Authenticator] stands in for a browser and a passkey authenticator: it
// answers WebAuthn creation options with the registration response a browser
// would send, so passkey enrolment can be tested end to end.
//
// Their defaults meet myaccount's: an API made with only
// Config{Issuer: issuer.Issuer} of a [NewIssuer] has the relying party id
// "localhost" and allows the origin [DefaultOrigin], which Create reports when
// given no origin. So an issuer, New and an authenticator, all with their
// defaults, enroll a passkey.
//
// A [PushProvider] stands in for a push service behind an authenticator app:
// set it as the API's push provider, and a [PushDevice] from
// [PushProvider.Scan] confirms the pairing as a phone would.
//
// A [Client] calls the API as a user's app would, with one token: it begins
// and verifies enrollments and lists methods, doing the JSON and the Location
// handling, and [Client.EnrollTOTP] and [Client.EnrollPasskey] run a whole
// enrollment in one call. [TOTPCode] gives the code an authenticator app
// shows for a barcode_uri at a given time.
//
// All exist for tests and local development only. Their keys live in memory
// and nothing they produce should be trusted outside a test.
package myaccounttest
