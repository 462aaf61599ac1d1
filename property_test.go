package myaccount_test

import (
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/internal/proptest"
)

// TestGuaranteesUnderRandomCalls drives random sequences of calls over HTTP
// against the memory store and checks the contract's guarantees after every
// one (see package proptest). Shrunk failures are kept in testdata/rapid and
// replayed first.
func TestGuaranteesUnderRandomCalls(t *testing.T) {
	proptest.Run(t, proptest.NewServer(t, myaccount.NewMemoryStore()))
}
