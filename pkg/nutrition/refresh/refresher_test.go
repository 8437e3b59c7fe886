package refresh

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/jmoiron/sqlx"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/postgres"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

const refreshTTL = 24 * time.Hour

// refreshFixture is a store with stale USDA answers and a lock name in
// Redis of the test's own.
type refreshFixture struct {
	store   *postgres.Store
	clock   *clocktest.Clock
	lock    string
	queries []string
}

func newRefreshFixture(t *testing.T, answers int) *refreshFixture {
	t.Helper()
	s, clock := seededStore(t)
	ctx := testContext(t)
	f := &refreshFixture{store: s, clock: clock}
	for i := range answers {
		q := fmt.Sprintf("branded snack %03d", i)
		f.queries = append(f.queries, q)
		err := s.SaveAnswer(ctx, nutrition.Result{Query: q, Source: nutrition.SourceUSDA, ID: fmt.Sprint(1000 + i), Description: q,
			Per100g: sr24.Nutrients{EnergyKcal: 100}, FetchedAt: testStart.Add(-time.Duration(answers-i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
	}
	f.lock = testredis.Prefix(t, testredis.Client(t)) + ":refresh"
	return f
}

// refresher returns a refresher of its own, with its own Redis client, as
// another replica would have.
func (f *refreshFixture) refresher(t *testing.T, fetch FetchFunc) *Refresher {
	t.Helper()
	rs := redsync.New(goredis.NewPool(testredis.Client(t)))
	r, err := New(f.store, rs, fetch, Config{Source: nutrition.SourceUSDA, TTL: refreshTTL, LockName: f.lock}, WithClock(f.clock), WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fetchAt answers every query with 200 kcal, fetched at the clock's time.
func fetchAt(clock *clocktest.Clock) FetchFunc {
	return func(ctx context.Context, query string) (nutrition.Result, error) {
		return nutrition.Result{Query: query, Source: nutrition.SourceUSDA, ID: "9", Description: "fresh " + query,
			Per100g: sr24.Nutrients{EnergyKcal: 200}, FetchedAt: clock.Now()}, nil
	}
}

func TestRefreshOnce(t *testing.T) {
	f := newRefreshFixture(t, 3)
	ctx := testContext(t)
	var fetched []string
	fetch := func(ctx context.Context, query string) (nutrition.Result, error) {
		fetched = append(fetched, query)
		switch query {
		case f.queries[1]:
			return nutrition.Result{}, nutrition.NotFound(query, "gone from USDA")
		case f.queries[2]:
			return nutrition.Result{}, errors.New("usda: status 503")
		}
		return fetchAt(f.clock)(ctx, query)
	}
	r := f.refresher(t, fetch)

	// Nothing is stale yet.
	rep, err := r.RefreshOnce(ctx)
	if err != nil || !rep.Locked || rep.Stale != 0 || len(fetched) != 0 {
		t.Fatalf("RefreshOnce while fresh = %+v, %v, fetched %v; want nothing to do", rep, err, fetched)
	}

	f.clock.Advance(refreshTTL)
	rep, err = r.RefreshOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Report{Locked: true, Stale: 3, Refreshed: 1, NotFound: 1, Failed: 1}
	if rep != want {
		t.Errorf("RefreshOnce = %+v, want %+v", rep, want)
	}
	if len(fetched) != 3 || fetched[0] != f.queries[0] {
		t.Errorf("fetched %v, want the three stale queries, oldest first", fetched)
	}
	got, err := f.store.Lookup(ctx, f.queries[0])
	if err != nil || got.Per100g.EnergyKcal != 200 || !got.FetchedAt.Equal(f.clock.Now()) || got.Query != f.queries[0] {
		t.Errorf("refreshed answer = %+v, %v; want the fresh 200 kcal fetched now", got, err)
	}
	kept, err := f.store.Lookup(ctx, f.queries[1])
	if err != nil || kept.Per100g.EnergyKcal != 100 {
		t.Errorf("answer the upstream no longer finds = %+v, %v; want the old one kept", kept, err)
	}
}

// TestRefreshersTakeTurns runs two replicas' refreshers at once: while one
// holds the lock the other skips its round and never fetches.
func TestRefreshersTakeTurns(t *testing.T) {
	f := newRefreshFixture(t, 4)
	ctx := testContext(t)
	f.clock.Advance(refreshTTL)

	entered := make(chan string)
	release := make(chan struct{})
	var aFetches atomic.Int32
	a := f.refresher(t, func(ctx context.Context, query string) (nutrition.Result, error) {
		if aFetches.Add(1) == 1 {
			entered <- query
			<-release
		}
		return fetchAt(f.clock)(ctx, query)
	})
	var bFetches atomic.Int32
	b := f.refresher(t, func(ctx context.Context, query string) (nutrition.Result, error) {
		bFetches.Add(1)
		return fetchAt(f.clock)(ctx, query)
	})

	aDone := make(chan Report, 1)
	go func() {
		rep, err := a.RefreshOnce(ctx)
		if err != nil {
			t.Error(err)
		}
		aDone <- rep
	}()
	<-entered // a holds the lock and is fetching
	rep, err := b.RefreshOnce(ctx)
	if err != nil || rep.Locked || bFetches.Load() != 0 {
		t.Fatalf("b.RefreshOnce while a refreshes = %+v, %v, %d fetches; want a skipped round", rep, err, bFetches.Load())
	}
	close(release)
	if rep := <-aDone; !rep.Locked || rep.Refreshed != 4 {
		t.Fatalf("a.RefreshOnce = %+v, want all 4 refreshed", rep)
	}

	// a released the lock: b's next round takes it, once a's answers are
	// stale in turn.
	f.clock.Advance(refreshTTL + time.Second)
	rep, err = b.RefreshOnce(ctx)
	if err != nil || !rep.Locked || rep.Refreshed != 4 || bFetches.Load() != 4 {
		t.Fatalf("b.RefreshOnce after a = %+v, %v; want the lock and 4 refreshed", rep, err)
	}
}

// TestRefreshersNeverOverlap runs two refreshers in a loop at once and
// checks that no two fetches are ever in flight together.
func TestRefreshersNeverOverlap(t *testing.T) {
	f := newRefreshFixture(t, 5)
	ctx := testContext(t)
	var inFlight, maxInFlight, total atomic.Int32
	fetch := func(ctx context.Context, query string) (nutrition.Result, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		total.Add(1)
		runtime.Gosched() // give the other refresher a chance to step in
		return fetchAt(f.clock)(ctx, query)
	}
	const rounds = 30
	var wg sync.WaitGroup
	var locked atomic.Int32
	for range 2 {
		r := f.refresher(t, fetch)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				f.clock.Advance(refreshTTL / 2)
				rep, err := r.RefreshOnce(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if rep.Locked {
					locked.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if maxInFlight.Load() != 1 {
		t.Errorf("at most %d fetches were in flight at once, want 1", maxInFlight.Load())
	}
	if total.Load() == 0 || locked.Load() == 0 {
		t.Errorf("%d fetches in %d locked rounds: the test refreshed nothing", total.Load(), locked.Load())
	}
}

func TestRefresherStopsWhenItLosesTheLock(t *testing.T) {
	f := newRefreshFixture(t, 3)
	ctx := testContext(t)
	f.clock.Advance(refreshTTL)
	client := testredis.Client(t)
	r := f.refresher(t, func(ctx context.Context, query string) (nutrition.Result, error) {
		// The lock vanishes (expired, or deleted by an operator) during
		// the first fetch.
		if err := client.Del(ctx, f.lock).Err(); err != nil {
			return nutrition.Result{}, err
		}
		return fetchAt(f.clock)(ctx, query)
	})
	rep, err := r.RefreshOnce(ctx)
	if err != nil || !rep.LostLock || rep.Refreshed != 1 {
		t.Fatalf("RefreshOnce = %+v, %v; want it to stop after one refresh, having lost the lock", rep, err)
	}
}

func TestRefresherRun(t *testing.T) {
	f := newRefreshFixture(t, 2)
	f.clock.Advance(refreshTTL)
	refreshed := make(chan string, 10)
	r := f.refresher(t, func(ctx context.Context, query string) (nutrition.Result, error) {
		refreshed <- query
		return fetchAt(f.clock)(ctx, query)
	})
	ctx, cancel := context.WithCancel(testContext(t))
	ticks := make(chan time.Time)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, ticks) }()
	ticks <- f.clock.Now()
	for range 2 {
		select {
		case <-refreshed:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not refresh after a tick")
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func TestNewValidates(t *testing.T) {
	s, err := postgres.New(&sqlx.DB{}, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rs := redsync.New()
	fetch := fetchAt(clocktest.New(testStart))
	good := Config{Source: nutrition.SourceUSDA, TTL: time.Hour}
	tests := []struct {
		name  string
		store *postgres.Store
		rs    *redsync.Redsync
		fetch FetchFunc
		edit  func(c *Config)
		field string
	}{
		{"no store", nil, rs, fetch, nil, "store"},
		{"no redsync", s, nil, fetch, nil, "redsync"},
		{"no fetch", s, rs, nil, nil, "fetch"},
		{"no source", s, rs, fetch, func(c *Config) { c.Source = "" }, "Source"},
		{"sr24 source", s, rs, fetch, func(c *Config) { c.Source = nutrition.SourceSR24 }, "Source"},
		{"no TTL", s, rs, fetch, func(c *Config) { c.TTL = 0 }, "TTL"},
		{"negative batch", s, rs, fetch, func(c *Config) { c.Batch = -1 }, "Batch"},
		{"tiny lock expiry", s, rs, fetch, func(c *Config) { c.LockExpiry = time.Millisecond }, "LockExpiry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			_, err := New(tt.store, tt.rs, tt.fetch, cfg)
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Fatalf("New = %v, want a *config.Error for %s", err, tt.field)
			}
		})
	}
	r, err := New(s, rs, fetch, good)
	if err != nil {
		t.Fatal(err)
	}
	if r.cfg.Batch != DefaultBatch || r.cfg.LockExpiry != DefaultLockExpiry || r.cfg.LockName != "nutrition:refresh:nutrition:usda" {
		t.Errorf("defaults = %+v", r.cfg)
	}
}
