package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// parseSecretKeys reads -secret-key: hex-encoded 32-byte keys separated by
// commas, the first sealing and all of them opening, as Config.SecretKeys.
// Without it the in-memory store needs none (the API makes one per process);
// PostgreSQL gets a random key for this process, with a warning, since
// sessions it seals do not open on another instance or after a restart.
func parseSecretKeys(flagValue string, postgres bool, stdout io.Writer) ([][]byte, error) {
	if flagValue == "" {
		if !postgres {
			return nil, nil
		}
		fmt.Fprintln(stdout, "warning: -postgres without -secret-key: using a random key for this process only; "+
			"give every instance the same -secret-key (32 random bytes in hex, e.g. from openssl rand -hex 32), "+
			"or enrollments begun on one instance fail on another and across restarts")
		return [][]byte{randomKey()}, nil
	}
	var keys [][]byte
	for i, h := range strings.Split(flagValue, ",") {
		k, err := hex.DecodeString(strings.TrimSpace(h))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("-secret-key: key %d is not 32 bytes in hex (64 hex digits)", i+1)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func randomKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}
