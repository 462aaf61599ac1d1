package myaccounttest

import (
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTPCode returns the code an authenticator app shows at the time at for the
// barcode_uri of a TOTP enrollment's 202 (an otpauth://totp/ URI), with the
// period, digits and algorithm the URI names (by default 30 seconds, 6 digits,
// SHA-1). The code of time.Now() verifies the enrollment; a time a few
// periods away gives a code the API must refuse.
func TOTPCode(barcodeURI string, at time.Time) (string, error) {
	key, err := otp.NewKeyFromURL(barcodeURI)
	if err != nil {
		return "", fmt.Errorf("myaccounttest: barcode_uri: %w", err)
	}
	if key.Type() != "totp" || key.Secret() == "" {
		return "", fmt.Errorf("myaccounttest: barcode_uri %q is not an otpauth://totp/ URI with a secret", barcodeURI)
	}
	return totp.GenerateCodeCustom(key.Secret(), at, totp.ValidateOpts{
		Period: uint(key.Period()), Digits: key.Digits(), Algorithm: key.Algorithm(),
	})
}
