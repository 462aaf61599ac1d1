//go:build !backends

package main

import (
	"context"
	"errors"
	"io"
	"testing"
)

func TestBackendFlagsNameTheBuildTag(t *testing.T) {
	for _, flag := range []string{"-postgres", "-redis"} {
		err := run(context.Background(), []string{"-addr", "127.0.0.1:0", flag, "x://y"}, io.Discard, nil)
		if !errors.Is(err, errNoBackends) {
			t.Errorf("%s without the tag: %v", flag, err)
		}
	}
}
