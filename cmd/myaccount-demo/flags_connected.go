package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/go-myaccount/myaccount"
)

// connectedOptions are the flags of connected accounts: the redirect URIs
// /connect accepts and the real providers users may link.
type connectedOptions struct {
	redirectURIs stringList
	connections  []myaccount.Connection
}

func (c *connectedOptions) register(fs *flag.FlagSet) {
	fs.Var(&c.redirectURIs, "connect-redirect-uri", "a redirect_uri /connected-accounts/connect accepts (repeatable; default: the demo page)")
	fs.Func("connection", "a provider users may link: name=NAME,issuer=URL (OIDC) or auth-url=URL,token-url=URL, "+
		"client-id=ID, client-secret-file=PATH or client-secret-env=VAR, scopes=SPACE-SEPARATED, optional revocation-url=URL "+
		"(repeatable; the secret is never read from the command line)", func(v string) error {
		conn, err := parseConnection(v, os.ReadFile, os.Getenv)
		if err == nil {
			c.connections = append(c.connections, conn)
		}
		return err
	})
}

// parseConnection reads one -connection value. Its errors name keys, never
// values, so a secret pasted by mistake is not echoed.
func parseConnection(v string, readFile func(string) ([]byte, error), getenv func(string) string) (myaccount.Connection, error) {
	var c myaccount.Connection
	for part := range strings.SplitSeq(v, ",") {
		key, value, ok := strings.Cut(part, "=")
		if !ok || value == "" {
			return c, fmt.Errorf("-connection: %q is not key=value", key)
		}
		switch key {
		case "name":
			c.Name = value
		case "issuer":
			c.Issuer = value
		case "auth-url":
			c.AuthURL = value
		case "token-url":
			c.TokenURL = value
		case "revocation-url":
			c.RevocationURL = value
		case "client-id":
			c.ClientID = value
		case "scopes":
			c.Scopes = strings.Fields(value)
		case "client-secret-file":
			secret, err := readFile(value)
			if err != nil {
				return c, fmt.Errorf("-connection: client-secret-file: %w", err)
			}
			c.ClientSecret = strings.TrimSpace(string(secret))
		case "client-secret-env":
			c.ClientSecret = getenv(value)
			if c.ClientSecret == "" {
				return c, fmt.Errorf("-connection: client-secret-env: %s is empty or unset", value)
			}
		case "client-secret":
			return c, errors.New("-connection: give the client secret with client-secret-file or client-secret-env, never on the command line")
		default:
			return c, fmt.Errorf("-connection: unknown key %q", key)
		}
	}
	if c.Name == "" || c.ClientID == "" || c.ClientSecret == "" {
		return c, errors.New("-connection: name, client-id and a client secret are required")
	}
	return c, nil
}
