package pgstore_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-myaccount/myaccount"
	"github.com/go-myaccount/myaccount/pgstore"
	"github.com/go-myaccount/myaccount/storetest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrated returns a store in a fresh schema, migrated.
func migrated(tb testing.TB, pool *pgxpool.Pool) *pgstore.Store {
	tb.Helper()
	s := pgstore.New(pool, pgstore.WithSchema(freshSchema(tb, pool)))
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	pool := testPool(t)
	schema := freshSchema(t, pool)
	if err := pgstore.New(pool, pgstore.WithSchema(schema)).Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	storetest.Run(t, func(*testing.T) myaccount.Store { return pgstore.New(pool, pgstore.WithSchema(schema)) })
}

func TestMigrateConcurrent(t *testing.T) {
	pool := testPool(t)
	schema := freshSchema(t, pool)
	const n = 5
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = pgstore.New(pool, pgstore.WithSchema(schema)).Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Migrate %d: %v", i, err)
		}
	}
	if err := pgstore.New(pool, pgstore.WithSchema(schema)).Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate of a migrated schema: %v", err)
	}
	var versions []int32
	rows, err := pool.Query(t.Context(), "SELECT version FROM "+pgx.Identifier{schema, "myaccount_schema_migrations"}.Sanitize()+" ORDER BY version")
	if err == nil {
		versions, err = pgx.CollectRows(rows, pgx.RowTo[int32])
	}
	if err != nil {
		t.Fatalf("read versions: %v", err)
	}
	if len(versions) == 0 || versions[0] != 1 {
		t.Fatalf("applied versions %v, want each once from 1", versions)
	}
	for i := 1; i < len(versions); i++ {
		if versions[i] != versions[i-1]+1 {
			t.Fatalf("applied versions %v, want each once from 1", versions)
		}
	}
}

// TestDefaultSchema migrates a database of its own with no schema option: the
// tables land in the search path.
func TestDefaultSchema(t *testing.T) {
	admin := testPool(t)
	name := "pgstore_test_" + strings.ToLower(rand8())
	if _, err := admin.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	cfg := admin.Config().ConnConfig.Copy()
	cfg.Database = name
	pool := newPool(t, cfg.ConnString())
	poolCfg, _ := pgxpool.ParseConfig("")
	poolCfg.ConnConfig = cfg
	pool, err := pgxpool.NewWithConfig(t.Context(), poolCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := pgstore.New(pool)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	var table string
	if err := pool.QueryRow(t.Context(), "SELECT to_regclass('public.myaccount_methods')::text").Scan(&table); err != nil {
		t.Fatalf("tables not in public: %v", err)
	}
	h, err := s.UserHandle(t.Context(), "https://issuer.example/", "alice", []byte("handle"))
	if err != nil || string(h) != "handle" {
		t.Fatalf("UserHandle = %q, %v", h, err)
	}
}

func rand8() string {
	var b [8]byte
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz"[time.Now().UnixNano()%26]
		time.Sleep(time.Microsecond)
	}
	return string(b[:])
}
