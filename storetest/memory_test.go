package storetest_test

import (
	"testing"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) myaccount.Store { return myaccount.NewMemoryStore() })
}

func BenchmarkList(b *testing.B) {
	storetest.BenchmarkList(b, myaccount.NewMemoryStore())
}

func BenchmarkCreate(b *testing.B) {
	storetest.BenchmarkCreate(b, myaccount.NewMemoryStore())
}

func TestMemoryStoreConnectedAccounts(t *testing.T) {
	storetest.RunConnectedAccounts(t, func(*testing.T) myaccount.Store { return myaccount.NewMemoryStore() })
}
