package myaccount

import (
	"fmt"
	"slices"
)

// resolveToken makes c.Token the one place of the API's token settings: it
// takes the deprecated Config fields that repeat TokenConfig's, refusing two
// settings of one thing that disagree, and fills Issuer and Realm from the
// Config. It runs once Issuer and Audience are known.
func (c *Config) resolveToken() error {
	t := &c.Token
	conflict := func(name string) error {
		return fmt.Errorf("%w: Config.%[2]s and Config.Token.%[2]s disagree; set Token.%[2]s only", ErrConfig, name)
	}
	if t.Issuer != "" && t.Issuer != c.Issuer {
		return conflict("Issuer")
	}
	t.Issuer = c.Issuer
	t.Realm = orDefault(t.Realm, c.Audience)
	if err := mergeSetting(&t.JWKSURL, c.JWKSURL, conflict("JWKSURL")); err != nil {
		return err
	}
	if err := mergeSetting(&t.Leeway, c.Leeway, conflict("Leeway")); err != nil {
		return err
	}
	if err := mergeSetting(&t.HTTPClient, c.HTTPClient, conflict("HTTPClient")); err != nil {
		return err
	}
	if err := mergeSetting(&t.TokenCacheSize, c.TokenCacheSize, conflict("TokenCacheSize")); err != nil {
		return err
	}
	if c.Algorithms != nil {
		if t.Algorithms != nil && !slices.Equal(t.Algorithms, c.Algorithms) {
			return conflict("Algorithms")
		}
		t.Algorithms = c.Algorithms
	}
	if c.Keyfunc != nil {
		if t.Keyfunc != nil {
			return conflict("Keyfunc")
		}
		t.Keyfunc = c.Keyfunc
	}
	if t.ErrorHandler != nil {
		if c.ErrorHandler != nil {
			return conflict("ErrorHandler")
		}
		c.ErrorHandler = t.ErrorHandler
	}
	if t.Logger != nil {
		if c.Logger != nil && c.Logger != t.Logger {
			return conflict("Logger")
		}
		c.Logger = t.Logger
	}
	if t.DPoP.PublicURL != "" {
		return fmt.Errorf("%w: set Config.PublicURL, not Config.Token.DPoP.PublicURL: an API checks DPoP proofs against the URL it uses in Location", ErrConfig)
	}
	return nil
}

// mergeSetting moves a deprecated Config field's value into its TokenConfig
// field, or fails with conflict when both are set and differ.
func mergeSetting[T comparable](dst *T, deprecated T, conflict error) error {
	var zero T
	if deprecated == zero {
		return nil
	}
	if *dst != zero && *dst != deprecated {
		return conflict
	}
	*dst = deprecated
	return nil
}
