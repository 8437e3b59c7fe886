package refresh

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/internal/testpg"
	"github.com/healthagent/resilience/pkg/nutrition/postgres"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// testStart is the fake clock's starting time in tests.
var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// seededStore returns a migrated and seeded store in a schema of the
// test's own, with a fake clock.
func seededStore(t testing.TB) (*postgres.Store, *clocktest.Clock) {
	t.Helper()
	db := testpg.Connect(t)
	clock := clocktest.New(testStart)
	s, err := postgres.New(db, postgres.Config{Schema: testpg.NewSchema(t, db)}, postgres.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	data, err := sr24.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seed(ctx, data); err != nil {
		t.Fatal(err)
	}
	return s, clock
}

// testContext returns a context that ends with the test, or after a
// minute, so a hung call fails the test instead of stalling it.
func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
