// Package storetest opens real stores for tests: a SQLite file in a
// temporary directory, and a fresh schema on the PostgreSQL server named by
// STORMWATCH_TEST_DATABASE_URL (default: the local server, database test).
// When PostgreSQL cannot be reached, its tests skip on a laptop and fail
// under CI=true, so that CI never passes by skipping.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/store"
)

// DefaultPostgresURL is the test server's DSN when none is configured.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns the DSN of the test PostgreSQL database.
func PostgresURL() string {
	if v := os.Getenv("STORMWATCH_TEST_DATABASE_URL"); v != "" {
		return v
	}
	return DefaultPostgresURL
}

// RequireReal skips the test on a laptop, or fails it under CI, when a real
// part it needs is missing.
func RequireReal(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and a real part is missing: "+format, args...)
	}
	t.Skipf("skipped, a real part is missing: "+format, args...)
}

// Backends lists the dialects every store-backed test runs on.
var Backends = []store.Dialect{store.SQLite, store.Postgres}

// Each runs fn as a subtest on a fresh, migrated store of each backend.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store), opts ...store.Option) {
	for _, d := range Backends {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d, opts...))
		})
	}
}

// Open returns a fresh, migrated store of dialect d, closed (and for
// PostgreSQL, dropped) when the test ends.
func Open(t testing.TB, d store.Dialect, opts ...store.Option) *store.Store {
	t.Helper()
	var s *store.Store
	var err error
	switch d {
	case store.SQLite:
		s, err = store.OpenSQLite(filepath.Join(t.TempDir(), "stormwatch.db"), opts...)
	case store.Postgres:
		var dsn string
		dsn = FreshSchema(t)
		s, err = store.OpenPostgres(dsn, opts...)
	}
	if err != nil {
		t.Fatalf("open %s store: %v", d, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s store: %v", d, err)
	}
	return s
}

// FreshSchema creates an empty schema on the test PostgreSQL server and
// returns a DSN whose connections use it; the schema is dropped when the
// test ends.
func FreshSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		RequireReal(t, "PostgreSQL at %s: %v", base, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "swtest_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// A leftover schema only costs disk space in the test database.
		_, _ = db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres url: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
