package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strings"
)

// methodOptions are the flags of the one-time-code methods: where the codes of
// email and phone go, and the key ring that seals auth_sessions and TOTP secrets.
type methodOptions struct {
	outbox        string
	secretKeyFlag string   // as given; parsed by check, which does not echo it
	secretKeySet  bool     // -secret-key was given, even empty
	secretKeys    [][]byte // the parsed ring
}

func (m *methodOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&m.outbox, "outbox", "", "append the codes of email and phone enrollments, one JSON line each, to this file (default: the demo's log)")
	fs.Func("secret-key", "the key ring sealing auth_sessions and TOTP secrets: 32-byte keys in hex, comma-separated, "+
		"the first sealing (default: a random key per start; give one key to every instance sharing -postgres)",
		func(v string) error { m.secretKeyFlag, m.secretKeySet = v, true; return nil })
}

// sealingKeys returns the key ring for Config.SecretKeys: the -secret-key keys,
// or else a random key for this start, with a warning when instances sharing
// a PostgreSQL store would each draw their own.
func (m *methodOptions) sealingKeys(postgres bool, log io.Writer) [][]byte {
	if len(m.secretKeys) > 0 {
		return m.secretKeys
	}
	if postgres {
		fmt.Fprintln(log, "warning: -postgres without -secret-key: this start seals with a random key, so other instances "+
			"cannot open its auth_sessions, and TOTP secrets stored now cannot be read after a restart. "+
			"Give every instance the same -secret-key (openssl rand -hex 32).")
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	return [][]byte{key}
}

// check parses the flags after fs.Parse. The flag package would quote an
// invalid value in its error, so -secret-key is a string flag parsed here,
// with errors that name the key by its position only.
func (m *methodOptions) check() error {
	if !m.secretKeySet {
		return nil
	}
	ring, err := parseKeyRing(m.secretKeyFlag)
	if err != nil {
		return fmt.Errorf("-secret-key: %w", err)
	}
	m.secretKeys, m.secretKeyFlag = ring, ""
	return nil
}

// parseKeyRing reads a comma-separated list of 32-byte keys in hex.
func parseKeyRing(v string) ([][]byte, error) {
	var ring [][]byte
	for i, part := range strings.Split(v, ",") {
		key, err := hex.DecodeString(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("key %d is not hex", i+1)
		}
		if len(key) != 32 {
			return nil, fmt.Errorf("key %d is %d bytes; each key must be 32 bytes (64 hex digits)", i+1, len(key))
		}
		for _, prev := range ring {
			if string(prev) == string(key) {
				return nil, fmt.Errorf("key %d repeats an earlier key", i+1)
			}
		}
		ring = append(ring, key)
	}
	return ring, nil
}
