package auth0mgmt_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine running, such as
// a fake server not closed.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
