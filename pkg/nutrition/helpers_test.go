package nutrition_test

import (
	"context"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testpg"
	"github.com/healthagent/resilience/internal/testsr24"
	"github.com/healthagent/resilience/pkg/nutrition/postgres"
)

// testStart is the fake clock's starting time in tests.
var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// seededStore returns a migrated and seeded cache in a schema of the
// test's own.
func seededStore(t testing.TB) *postgres.Store {
	t.Helper()
	db := testpg.Connect(t)
	s, err := postgres.New(db, postgres.Config{Schema: testpg.NewSchema(t, db)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seed(ctx, testsr24.Dataset(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

// testContext returns a context that ends with the test, or after a
// minute, so a hung call fails the test instead of stalling it.
func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
