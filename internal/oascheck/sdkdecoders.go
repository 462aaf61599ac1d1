package oascheck

// What Auth0's SDKs need to decode this API's responses, read from their code:
// Auth0.swift (Swift Codable: a missing non-optional key, or a key of the wrong type,
// fails the whole response), Auth0.Android (Gson: a class is picked by the type or by
// which keys are present, and a Kotlin non-null property left null fails when the app
// uses it), auth0-flutter (Dart casts such as `as String` throw on null) and
// react-native-auth0, whose native modules hand the Swift and Android objects on
// (ios/MyAccount.swift, android/src/main/java/com/auth0/react/MyAccount.kt), so the
// rows of those two SDKs protect it too.
//
// Each row names the SDK file it comes from. Paths are inside each SDK's repository:
// github.com/auth0/Auth0.swift, github.com/auth0/Auth0.Android and
// github.com/auth0/auth0-flutter.
const (
	swiftMethod            = "Auth0.swift Auth0/MyAccount/AuthenticationMethods/GetAuthenticationMethodsResponse.swift"
	swiftPasskeyMethod     = "Auth0.swift Auth0/MyAccount/AuthenticationMethods/PasskeyAuthenticationMethod.swift"
	swiftFactor            = "Auth0.swift Auth0/MyAccount/AuthenticationMethods/Factor.swift"
	swiftPasskeyChallenge  = "Auth0.swift Auth0/MyAccount/AuthenticationMethods/PasskeyEnrollmentChallenge.swift"
	swiftCreationOptions   = "Auth0.swift Auth0/PublicKeyCredentialCreationOptions.swift"
	swiftTOTPChallenge     = "Auth0.swift Auth0/MyAccount/AuthenticationMethods/TOTPEnrollmentChallenge.swift"
	swiftPushChallenge     = "Auth0.swift Auth0/MyAccount/AuthenticationMethods/PushEnrollmentChallenge.swift"
	swiftRecoveryChallenge = "Auth0.swift Auth0/MyAccount/AuthenticationMethods/RecoveryCodeEnrollmentChallenge.swift"
	swiftEmailChallenge    = "Auth0.swift Auth0/MyAccount/AuthenticationMethods/EmailEnrollmentChallenge.swift"
	swiftPhoneChallenge    = "Auth0.swift Auth0/MyAccount/AuthenticationMethods/PhoneEnrollmentChallenge.swift"
	swiftPasswordChallenge = "Auth0.swift Auth0/MyAccount/AuthenticationMethods/PasswordEnrollmentChallenge.swift"
	swiftPasswordPolicy    = "Auth0.swift Auth0/MyAccount/AuthenticationMethods/PasswordPolicy.swift"
	swiftHandlers          = "Auth0.swift Auth0/MyAccount/MyAccountHandlers.swift"
	swiftEnroll            = "Auth0.swift Auth0/MyAccount/AuthenticationMethods/Auth0MyAccountAuthenticationMethods.swift"
	swiftError             = "Auth0.swift Auth0/MyAccount/MyAccountError.swift"

	androidMethod           = "Auth0.Android auth0/src/main/java/com/auth0/android/result/AuthenticationMethod.kt"
	androidChallenge        = "Auth0.Android auth0/src/main/java/com/auth0/android/result/EnrollmentChallenge.kt"
	androidPasskeyChallenge = "Auth0.Android auth0/src/main/java/com/auth0/android/result/PasskeyRegistrationChallenge.kt"
	androidClient           = "Auth0.Android auth0/src/main/java/com/auth0/android/myaccount/MyAccountAPIClient.kt"
	androidFactor           = "Auth0.Android auth0/src/main/java/com/auth0/android/result/Factor.kt"
	androidFactors          = "Auth0.Android auth0/src/main/java/com/auth0/android/result/Factors.kt"
	androidError            = "Auth0.Android auth0/src/main/java/com/auth0/android/myaccount/MyAccountException.kt"
	androidIsJSON           = "Auth0.Android auth0/src/main/java/com/auth0/android/request/ServerResponse.kt"

	flutterMethod        = "auth0-flutter auth0_flutter_platform_interface/lib/src/myaccount/authentication_method.dart"
	flutterPasskeyMethod = "auth0-flutter auth0_flutter_platform_interface/lib/src/myaccount/my_account_passkey_authentication_method.dart"
	flutterChallenge     = "auth0-flutter auth0_flutter_platform_interface/lib/src/myaccount/enrollment_challenge.dart"
	flutterFactor        = "auth0-flutter auth0_flutter_platform_interface/lib/src/myaccount/factor.dart"
)

// methodTypes are the nine values of FactorTypeEnum: the types Auth0.Android's
// AuthenticationMethod.Deserializer maps to a class. Any other type makes Gson fail,
// and with it the whole list.
var methodTypes = []string{
	"password", "passkey", "recovery-code", "push-notification", "totp",
	"webauthn-platform", "webauthn-roaming", "phone", "email",
}

// decoderRules is the table: for each object, a member one SDK needs, the JSON type
// its decoder reads it as, whether it must be present (and not null), and the parse
// it applies. An object named "method passkey" is checked in addition to "method"
// when the method's type is passkey; "challenge T" is the 202 body of type T.
var decoderRules = []rule{
	// The list wrapper of GET /authentication-methods.
	{object: "list", key: "authentication_methods", kind: objects("method"), required: true, sdk: swiftMethod},
	{object: "list", key: "authentication_methods", kind: objects("method"), required: true, sdk: androidMethod},

	// Every method object, whatever its type (GET, list item, PATCH, verify 201).
	{object: "method", key: "id", kind: str, required: true, sdk: swiftMethod},
	{object: "method", key: "created_at", kind: str, required: true, sdk: swiftMethod},
	{object: "method", key: "usage", kind: strs, required: true, sdk: swiftMethod},
	{object: "method", key: "type", kind: str, sdk: swiftMethod},
	{object: "method", key: "credential_backed_up", kind: boolean, sdk: swiftMethod},
	{object: "method", key: "credential_device_type", kind: str, sdk: swiftMethod},
	{object: "method", key: "identity_user_id", kind: str, sdk: swiftMethod},
	{object: "method", key: "key_id", kind: str, sdk: swiftMethod},
	{object: "method", key: "public_key", kind: str, sdk: swiftMethod},
	{object: "method", key: "transports", kind: strs, sdk: swiftMethod},
	{object: "method", key: "user_agent", kind: str, sdk: swiftMethod},
	{object: "method", key: "user_handle", kind: str, sdk: swiftMethod},
	{object: "method", key: "last_password_reset", kind: str, sdk: swiftMethod},
	{object: "method", key: "confirmed", kind: boolean, sdk: swiftMethod},
	{object: "method", key: "name", kind: str, sdk: swiftMethod},
	{object: "method", key: "preferred_authentication_method", kind: str, sdk: swiftMethod},
	{object: "method", key: "phone_number", kind: str, sdk: swiftMethod},
	{object: "method", key: "id", kind: str, required: true, sdk: androidMethod},
	{object: "method", key: "type", kind: str, required: true, format: oneOf(methodTypes...), sdk: androidMethod},
	{object: "method", key: "created_at", kind: str, required: true, sdk: androidMethod},
	{object: "method", key: "usage", kind: strs, required: true, sdk: androidMethod},
	{object: "method", key: "id", kind: str, required: true, sdk: flutterMethod},
	{object: "method", key: "type", kind: str, required: true, sdk: flutterMethod},
	{object: "method", key: "created_at", kind: str, format: dateTime, sdk: flutterMethod},
	{object: "method", key: "last_auth_at", kind: str, format: dateTime, sdk: flutterMethod},
	{object: "method", key: "email", kind: str, sdk: flutterMethod},
	{object: "method", key: "totp_secret", kind: str, sdk: flutterMethod},
	{object: "method", key: "totp_uri", kind: str, sdk: flutterMethod},

	// A passkey: Android's PasskeyAuthenticationMethod (every passkey it reads) and
	// Swift's (the verify 201), which parses created_at, public_key and user_handle.
	{object: "method passkey", key: "aaguid", kind: str, required: true, sdk: androidMethod},
	{object: "method passkey", key: "relying_party_id", kind: str, required: true, sdk: androidMethod},
	{object: "method passkey", key: "created_at", kind: str, required: true, format: dateTimeWithFraction, sdk: swiftPasskeyMethod},
	{object: "method passkey", key: "identity_user_id", kind: str, required: true, sdk: swiftPasskeyMethod},
	{object: "method passkey", key: "aaguid", kind: str, required: true, sdk: swiftPasskeyMethod},
	{object: "method passkey", key: "relying_party_id", kind: str, required: true, sdk: swiftPasskeyMethod},
	{object: "method passkey", key: "key_id", kind: str, required: true, sdk: swiftPasskeyMethod},
	{object: "method passkey", key: "public_key", kind: str, required: true, format: base64Std, sdk: swiftPasskeyMethod},
	{object: "method passkey", key: "user_handle", kind: str, required: true, format: base64URL, sdk: swiftPasskeyMethod},
	{object: "method passkey", key: "credential_device_type", kind: str, required: true, format: oneOf("single_device", "multi_device"), sdk: swiftPasskeyMethod},
	{object: "method passkey", key: "credential_backed_up", kind: boolean, required: true, sdk: swiftPasskeyMethod},
	{object: "method passkey", key: "created_at", kind: str, format: dateTime, sdk: flutterPasskeyMethod},

	// GET /factors.
	{object: "factors", key: "factors", kind: objects("factor"), required: true, sdk: swiftFactor},
	{object: "factors", key: "factors", kind: objects("factor"), required: true, sdk: androidFactors},
	{object: "factor", key: "type", kind: str, required: true, sdk: swiftFactor},
	{object: "factor", key: "usage", kind: strs, sdk: swiftFactor},
	{object: "factor", key: "type", kind: str, required: true, sdk: androidFactor},
	{object: "factor", key: "type", kind: str, required: true, sdk: flutterFactor},
	{object: "factor", key: "usage", kind: strs, sdk: flutterFactor},

	// The 202 of a passkey: Swift reads the id from Location, the options from the body.
	{object: "challenge passkey", key: "auth_session", kind: str, required: true, sdk: swiftPasskeyChallenge},
	{object: "challenge passkey", key: "authn_params_public_key", kind: object("creation options"), required: true, sdk: swiftPasskeyChallenge},
	{object: "challenge passkey", key: "auth_session", kind: str, required: true, sdk: androidPasskeyChallenge},
	{object: "challenge passkey", key: "authn_params_public_key", kind: object("creation options"), required: true, sdk: androidPasskeyChallenge},
	// A passkey's residentKey, non-null in Android's class, is always sent; a
	// security key's or platform authenticator's is not (the contract's
	// AuthenticatorSelection allows only "required"), and Gson leaves it null.
	{object: "challenge passkey", key: "authn_params_public_key", kind: object("passkey creation options"), required: true, sdk: androidPasskeyChallenge},
	{object: "passkey creation options", key: "authenticatorSelection", kind: object("passkey authenticator selection"), required: true, sdk: androidPasskeyChallenge},
	{object: "passkey authenticator selection", key: "residentKey", kind: str, required: true, sdk: androidPasskeyChallenge},
	{object: "creation options", key: "challenge", kind: str, required: true, format: base64URL, sdk: swiftCreationOptions},
	{object: "creation options", key: "rp", kind: object("rp"), required: true, sdk: swiftCreationOptions},
	{object: "creation options", key: "user", kind: object("user"), required: true, sdk: swiftCreationOptions},
	{object: "rp", key: "id", kind: str, required: true, sdk: swiftCreationOptions},
	{object: "user", key: "id", kind: str, required: true, format: base64URL, sdk: swiftCreationOptions},
	{object: "user", key: "name", kind: str, required: true, sdk: swiftCreationOptions},
	{object: "creation options", key: "authenticatorSelection", kind: object("authenticator selection"), required: true, sdk: androidPasskeyChallenge},
	{object: "creation options", key: "challenge", kind: str, required: true, sdk: androidPasskeyChallenge},
	{object: "creation options", key: "pubKeyCredParams", kind: objects("credential parameter"), required: true, sdk: androidPasskeyChallenge},
	{object: "creation options", key: "rp", kind: object("rp"), required: true, sdk: androidPasskeyChallenge},
	{object: "creation options", key: "timeout", kind: integer, required: true, sdk: androidPasskeyChallenge},
	{object: "creation options", key: "user", kind: object("user"), required: true, sdk: androidPasskeyChallenge},
	{object: "authenticator selection", key: "residentKey", kind: str, sdk: androidPasskeyChallenge},
	{object: "authenticator selection", key: "userVerification", kind: str, required: true, sdk: androidPasskeyChallenge},
	{object: "credential parameter", key: "alg", kind: integer, required: true, sdk: androidPasskeyChallenge},
	{object: "credential parameter", key: "type", kind: str, required: true, sdk: androidPasskeyChallenge},
	{object: "rp", key: "id", kind: str, required: true, sdk: androidPasskeyChallenge},
	{object: "rp", key: "name", kind: str, required: true, sdk: androidPasskeyChallenge},
	{object: "user", key: "displayName", kind: str, required: true, sdk: androidPasskeyChallenge},
	{object: "user", key: "id", kind: str, required: true, sdk: androidPasskeyChallenge},
	{object: "user", key: "name", kind: str, required: true, sdk: androidPasskeyChallenge},

	// The 202 of every other type: the body's id is the one the app verifies under.
	{object: "challenge", key: "id", kind: str, required: true, sdk: flutterChallenge},
	{object: "challenge", key: "auth_session", kind: str, required: true, sdk: flutterChallenge},
	{object: "challenge", key: "barcode_uri", kind: str, sdk: flutterChallenge},
	{object: "challenge", key: "recovery_code", kind: str, sdk: flutterChallenge},
	{object: "challenge", key: "totp_secret", kind: str, sdk: flutterChallenge},
	{object: "challenge", key: "totp_uri", kind: str, sdk: flutterChallenge},
	{object: "challenge", key: "id", kind: str, required: true, sdk: androidChallenge},
	{object: "challenge", key: "auth_session", kind: str, required: true, sdk: androidChallenge},
	{object: "challenge totp", whole: androidSelects("barcode_uri"), sdk: androidChallenge},
	{object: "challenge totp", key: "id", kind: str, required: true, sdk: swiftTOTPChallenge},
	{object: "challenge totp", key: "auth_session", kind: str, required: true, sdk: swiftTOTPChallenge},
	{object: "challenge totp", key: "barcode_uri", kind: str, required: true, sdk: swiftTOTPChallenge},
	{object: "challenge totp", key: "manual_input_code", kind: str, sdk: swiftTOTPChallenge},
	{object: "challenge push-notification", whole: androidSelects("barcode_uri"), sdk: androidChallenge},
	{object: "challenge push-notification", key: "id", kind: str, required: true, sdk: swiftPushChallenge},
	{object: "challenge push-notification", key: "auth_session", kind: str, required: true, sdk: swiftPushChallenge},
	{object: "challenge push-notification", key: "barcode_uri", kind: str, required: true, sdk: swiftPushChallenge},
	{object: "challenge push-notification", key: "manual_input_code", kind: str, sdk: swiftPushChallenge},
	{object: "challenge recovery-code", whole: androidSelects("recovery_code"), sdk: androidChallenge},
	{object: "challenge recovery-code", key: "id", kind: str, required: true, sdk: swiftRecoveryChallenge},
	{object: "challenge recovery-code", key: "auth_session", kind: str, required: true, sdk: swiftRecoveryChallenge},
	{object: "challenge recovery-code", key: "recovery_code", kind: str, required: true, sdk: swiftRecoveryChallenge},
	{object: "challenge email", whole: onlyKeys("id", "auth_session"), sdk: androidChallenge},
	{object: "challenge email", key: "id", kind: str, required: true, sdk: swiftEmailChallenge},
	{object: "challenge email", key: "auth_session", kind: str, required: true, sdk: swiftEmailChallenge},
	{object: "challenge phone", whole: onlyKeys("id", "auth_session"), sdk: androidChallenge},
	{object: "challenge phone", key: "id", kind: str, required: true, sdk: swiftPhoneChallenge},
	{object: "challenge phone", key: "auth_session", kind: str, required: true, sdk: swiftPhoneChallenge},
	{object: "challenge webauthn-platform", whole: androidSelects("authn_params_public_key"), sdk: androidChallenge},
	{object: "challenge webauthn-platform", key: "authn_params_public_key", kind: object("creation options"), required: true, sdk: androidPasskeyChallenge},
	{object: "challenge webauthn-roaming", whole: androidSelects("authn_params_public_key"), sdk: androidChallenge},
	{object: "challenge webauthn-roaming", key: "authn_params_public_key", kind: object("creation options"), required: true, sdk: androidPasskeyChallenge},
	{object: "challenge password", key: "id", kind: str, required: true, sdk: swiftPasswordChallenge},
	{object: "challenge password", key: "auth_session", kind: str, required: true, sdk: swiftPasswordChallenge},
	{object: "challenge password", key: "policy", kind: object("password policy"), required: true, sdk: swiftPasswordChallenge},
	{object: "password policy", key: "complexity", kind: object("password complexity"), required: true, sdk: swiftPasswordPolicy},
	{object: "password policy", key: "profile_data", kind: object("password profile data"), required: true, sdk: swiftPasswordPolicy},
	{object: "password policy", key: "history", kind: object("password history"), required: true, sdk: swiftPasswordPolicy},
	{object: "password policy", key: "dictionary", kind: object("password dictionary"), required: true, sdk: swiftPasswordPolicy},
	{object: "password complexity", key: "min_length", kind: integer, sdk: swiftPasswordPolicy},
	{object: "password complexity", key: "character_types", kind: strs, sdk: swiftPasswordPolicy},
	{object: "password complexity", key: "character_type_rule", kind: str, sdk: swiftPasswordPolicy},
	{object: "password complexity", key: "identical_characters", kind: str, sdk: swiftPasswordPolicy},
	{object: "password complexity", key: "sequential_characters", kind: str, sdk: swiftPasswordPolicy},
	{object: "password complexity", key: "max_length_exceeded", kind: str, sdk: swiftPasswordPolicy},
	{object: "password profile data", key: "active", kind: boolean, sdk: swiftPasswordPolicy},
	{object: "password profile data", key: "blocked_fields", kind: strs, sdk: swiftPasswordPolicy},
	{object: "password history", key: "active", kind: boolean, sdk: swiftPasswordPolicy},
	{object: "password history", key: "size", kind: integer, sdk: swiftPasswordPolicy},
	{object: "password dictionary", key: "active", kind: boolean, sdk: swiftPasswordPolicy},
	{object: "password dictionary", key: "default", kind: str, sdk: swiftPasswordPolicy},

	// The error body. Swift falls back to "unknown error" without type, and Android
	// casts title, detail and each validation error's members to String.
	{object: "error", key: "type", kind: str, required: true, sdk: swiftError},
	{object: "error", key: "title", kind: str, required: true, sdk: swiftError},
	{object: "error", key: "detail", kind: str, required: true, sdk: swiftError},
	{object: "error", key: "title", kind: str, sdk: androidError},
	{object: "error", key: "detail", kind: str, sdk: androidError},
	{object: "error", key: "validation_errors", kind: objects("validation error"), sdk: androidError},
	{object: "validation error", key: "detail", kind: str, sdk: androidError},
	{object: "validation error", key: "field", kind: str, sdk: androidError},
	{object: "validation error", key: "pointer", kind: str, sdk: androidError},
	{object: "validation error", key: "source", kind: str, sdk: androidError},
}

// responseRules hold what the SDKs need of a response beyond its body's members.
var responseRules = []responseRule{
	// Every 202 has a body: both SDKs fail a success without one.
	{name: "202 body", applies: is202, check: hasBody, sdk: swiftHandlers},
	{name: "202 body", applies: is202, check: hasBody, sdk: androidClient},
	// The id to verify under is Location's last segment: Swift force-unwraps
	// removingPercentEncoding, Android runs URLDecoder.decode, which also turns "+"
	// into a space; the body's id, when there is one, must be the same.
	{name: "202 Location", applies: is202, check: locationNamesID, sdk: swiftEnroll},
	{name: "202 Location", applies: is202, check: locationNamesID, sdk: androidClient},
	// Android parses an error body only when its Content-Type contains application/json.
	{name: errorContentType, applies: isError, check: errorIsJSON, sdk: androidIsJSON},
}
