package pgstore_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine running, such as
// a pool or client not closed.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
