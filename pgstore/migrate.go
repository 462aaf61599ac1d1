package pgstore

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded SQL file, "NNNN_name.sql", applied as version NNNN.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		base := path.Base(name)
		prefix, _, _ := strings.Cut(base, "_")
		version, err := strconv.Atoi(prefix)
		if err != nil || version <= 0 {
			return nil, fmt.Errorf("pgstore: migration %s does not start with a positive version number", base)
		}
		sql, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: version, name: base, sql: string(sql)})
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("pgstore: migrations %s and %s share a version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// Migrate brings the store's tables up to date: it applies, in order, each
// embedded migration that the table myaccount_schema_migrations does not list,
// and records it there. Everything happens in one transaction under an advisory
// lock, so instances starting at once apply each migration exactly once and a
// failed migration leaves the schema as it was. With [WithSchema], Migrate first
// creates the schema if it does not exist.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrate(ctx, 0)
}

// migrate applies the migrations up to version upTo, or all of them when upTo
// is 0.
func (s *Store) migrate(ctx context.Context, upTo int) error {
	all, err := migrations()
	if err != nil {
		return err
	}
	if upTo > 0 {
		all = slices.DeleteFunc(all, func(m migration) bool { return m.version > upTo })
	}
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int4, $2::int4)`, lockClass, s.migrateLockKey()); err != nil {
			return err
		}
		if s.schema != "" {
			var exists bool
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, s.schema).Scan(&exists)
			if err != nil {
				return err
			}
			if !exists {
				if _, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{s.schema}.Sanitize()); err != nil {
					return err
				}
			}
			// The migration files name tables without a schema.
			if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{s.schema}.Sanitize()); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS myaccount_schema_migrations (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT version FROM myaccount_schema_migrations`)
		if err != nil {
			return err
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return err
		}
		for _, m := range all {
			if slices.Contains(applied, int32(m.version)) {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO myaccount_schema_migrations (version, name) VALUES ($1, $2)`,
				m.version, m.name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.fail(ctx, fmt.Errorf("migrate: %w", err))
	}
	return nil
}

// migrateLockKey is the advisory lock key of migrations into this store's schema.
func (s *Store) migrateLockKey() int32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte("pgstore migrate\x00" + s.schema))
	return int32(h.Sum32())
}
