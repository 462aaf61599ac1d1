//go:build backends

package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/pgstore"
	"github.com/go-myaccount/myaccount/redislimit"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// backends are the shared engines a demo runs on when -postgres or -redis is
// given: several demo processes on them share one state and one rate limit.
type backends struct {
	store   myaccount.Store       // nil: the in-memory store
	limiter myaccount.Limiter     // nil: the in-memory limiter
	replay  myaccount.ReplayCache // nil: the in-memory DPoP replay cache
	closers []func()
}

func openBackends(ctx context.Context, postgresDSN string, postgresMaxConns int, redisURL string) (*backends, error) {
	b := &backends{}
	if postgresDSN != "" {
		poolConfig, err := pgxpool.ParseConfig(postgresDSN)
		if err != nil {
			return nil, fmt.Errorf("-postgres: %w", err)
		}
		// While PostgreSQL is down, requests should fail fast with 503, not wait.
		poolConfig.ConnConfig.ConnectTimeout = 2 * time.Second
		if postgresMaxConns > 0 {
			poolConfig.MaxConns = int32(postgresMaxConns)
		}
		if !strings.Contains(postgresDSN, "sslmode") {
			skipTLSOnLoopback(poolConfig.ConnConfig)
		}
		pool, err := pgxpool.NewWithConfig(ctx, poolConfig)
		if err != nil {
			return nil, fmt.Errorf("-postgres: %w", err)
		}
		b.closers = append(b.closers, pool.Close)
		store := pgstore.New(pool)
		if err := store.Migrate(ctx); err != nil {
			b.close()
			return nil, fmt.Errorf("-postgres: migrating the schema: %w", err)
		}
		b.store = store
	}
	if redisURL != "" {
		opt, err := redis.ParseURL(redisURL)
		if err != nil {
			b.close()
			return nil, fmt.Errorf("-redis: %w", err)
		}
		opt.ContextTimeoutEnabled = true // honour the limiter's per-call timeout
		client := redis.NewClient(opt)
		b.closers = append(b.closers, func() { _ = client.Close() })
		if err := client.Ping(ctx).Err(); err != nil {
			b.close()
			return nil, fmt.Errorf("-redis: %w", err)
		}
		b.limiter = redislimit.New(client, redislimit.Options{})
		b.replay = redislimit.NewReplayCache(client, redislimit.ReplayOptions{})
	}
	return b, nil
}

func (b *backends) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

// skipTLSOnLoopback connects without trying TLS first when every host of cfg
// is this machine. The default sslmode, prefer, tries TLS on every new
// connection, then plain: on loopback that is a wasted round trip. pgconn
// lists each host twice, with TLS and then without; the plain ones are kept.
func skipTLSOnLoopback(cfg *pgx.ConnConfig) {
	if !isLoopbackHost(cfg.Host) {
		return
	}
	for _, f := range cfg.Fallbacks {
		if !isLoopbackHost(f.Host) {
			return
		}
	}
	var plain []*pgconn.FallbackConfig
	for _, f := range cfg.Fallbacks {
		if f.TLSConfig != nil { // another host's TLS attempt: try it plain instead
			plain = append(plain, &pgconn.FallbackConfig{Host: f.Host, Port: f.Port})
		}
	}
	cfg.TLSConfig, cfg.Fallbacks = nil, plain
}

// isLoopbackHost reports whether PostgreSQL's host is this machine: a loopback
// name or address, or a Unix socket directory.
func isLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasPrefix(host, "/") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
