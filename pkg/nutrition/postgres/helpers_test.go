package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/internal/testpg"
	"github.com/healthagent/resilience/internal/testsr24"
)

// testStart is the fake clock's starting time in tests.
var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newStore returns a store in a schema of the test's own, not migrated,
// with a fake clock.
func newStore(t testing.TB, cfg Config) (*Store, *sqlx.DB, *clocktest.Clock) {
	t.Helper()
	db := testpg.Connect(t)
	if cfg.Schema == "" {
		cfg.Schema = testpg.NewSchema(t, db)
	}
	clock := clocktest.New(testStart)
	s, err := New(db, cfg, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	return s, db, clock
}

// seededStore returns a migrated and seeded store (see newStore).
func seededStore(t testing.TB, cfg Config) (*Store, *sqlx.DB, *clocktest.Clock) {
	t.Helper()
	s, db, clock := newStore(t, cfg)
	ctx := testContext(t)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seed(ctx, testsr24.Dataset(t)); err != nil {
		t.Fatal(err)
	}
	return s, db, clock
}

// testContext returns a context that ends with the test, or after a
// minute, so a hung call fails the test instead of stalling it.
func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
