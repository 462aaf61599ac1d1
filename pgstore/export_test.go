package pgstore

import "context"

// Advisory lock keys, for tests that hold a user's lock.
var UserLockKey = userLockKey

const LockClass = lockClass

// NoFlush is the statement that makes a batch's commit not wait for the disk.
var NoFlush = newQueries(func(string) string { return "t" }).noFlush

// MigrateTo applies the migrations up to version upTo only, to test upgrades.
func (s *Store) MigrateTo(ctx context.Context, upTo int) error { return s.migrate(ctx, upTo) }

// WaitForFlush makes the store's session writes wait for the disk like its
// other writes, for the benchmark that measures what sparing them saves.
func (s *Store) WaitForFlush() { s.q.noFlush = "SELECT 1" }
