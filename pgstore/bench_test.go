package pgstore_test

import (
	"testing"

	"github.com/go-myaccount/myaccount/storetest"
)

func BenchmarkList(b *testing.B) {
	s, _ := migrated(b, testPool(b))
	storetest.BenchmarkList(b, s)
}

func BenchmarkCreate(b *testing.B) {
	s, _ := migrated(b, testPool(b))
	storetest.BenchmarkCreate(b, s)
}
