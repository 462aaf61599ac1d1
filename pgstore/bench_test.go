package pgstore_test

import (
	"testing"

	"github.com/go-myaccount/myaccount/storetest"
)

func BenchmarkList(b *testing.B) {
	s, _ := migrated(b, testPool(b))
	storetest.BenchmarkList(b, s)
}

func BenchmarkCreateTake(b *testing.B) {
	s, _ := migrated(b, testPool(b))
	storetest.BenchmarkCreateTake(b, s)
}
