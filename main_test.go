package myaccount_test

import (
	"os"
	"testing"

	"github.com/go-myaccount/myaccount/internal/testenv"
)

// TestMain fails the package when a test leaves a goroutine running: the
// JWKS refresh of a validator not closed, a server not shut down.
func TestMain(m *testing.M) { os.Exit(testenv.RunCheckingLeaks(m)) }
