//go:build !backends

package main

import (
	"context"
	"errors"

	"github.com/go-myaccount/myaccount"
)

// errNoBackends explains how to get -postgres and -redis. The default build
// leaves the PostgreSQL and Redis clients out: they would double the time of
// the first go run on a fresh machine, for flags most runs do not use.
var errNoBackends = errors.New("-postgres and -redis need the backends build tag: go run -tags backends ./cmd/myaccount-demo ...")

// backends are the shared engines of the backends build; this build has none.
type backends struct {
	store   myaccount.Store
	limiter myaccount.Limiter
	replay  myaccount.ReplayCache
}

func openBackends(_ context.Context, postgresDSN string, _ int, redisURL string) (*backends, error) {
	if postgresDSN != "" || redisURL != "" {
		return nil, errNoBackends
	}
	return &backends{}, nil
}

func (b *backends) close() {}
