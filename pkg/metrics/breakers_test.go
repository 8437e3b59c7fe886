package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/metrics"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newBreakers(t *testing.T) *metrics.Breakers {
	t.Helper()
	m, err := metrics.NewBreakers(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// stateText is the exposition of circuit_breaker_state for one breaker in
// state current, from source.
func stateText(breaker string, current dbreaker.State, source string) string {
	var b strings.Builder
	b.WriteString("# HELP circuit_breaker_state The state each circuit breaker applies on this replica, without a store call: 1 for the current state, 0 for the others; source says whether it is the shared state (as last learned) or the replica's local breaker's (while the store is unavailable).\n")
	b.WriteString("# TYPE circuit_breaker_state gauge\n")
	for _, s := range dbreaker.States() {
		v := 0
		if s == current {
			v = 1
		}
		fmt.Fprintf(&b, "circuit_breaker_state{breaker=%q,source=%q,state=%q} %d\n", breaker, source, s.String(), v)
	}
	return b.String()
}

func TestBreakersObserver(t *testing.T) {
	tests := []struct {
		name   string
		do     func(m *metrics.Breakers)
		series func(m *metrics.Breakers) prometheus.Collector
		want   float64
	}{
		{
			name: "OnCall counts by result",
			do: func(m *metrics.Breakers) {
				m.OnCall("openai", dbreaker.ResultFailure)
				m.OnCall("openai", dbreaker.ResultFailure)
			},
			series: func(m *metrics.Breakers) prometheus.Collector { return m.CallsCounter("openai", "failure") },
			want:   2,
		},
		{
			name: "OnCall keeps breakers apart",
			do: func(m *metrics.Breakers) {
				m.OnCall("openai", dbreaker.ResultRejected)
				m.OnCall("usda", dbreaker.ResultRejected)
			},
			series: func(m *metrics.Breakers) prometheus.Collector { return m.CallsCounter("usda", "rejected") },
			want:   1,
		},
		{
			name: "OnTransition counts by from and to",
			do: func(m *metrics.Breakers) {
				m.OnTransition(dbreaker.Transition{Breaker: "openai", From: dbreaker.Closed, To: dbreaker.Open})
				m.OnTransition(dbreaker.Transition{Breaker: "openai", From: dbreaker.Open, To: dbreaker.HalfOpen})
			},
			series: func(m *metrics.Breakers) prometheus.Collector {
				return m.TransitionsCounter("openai", "closed", "open", metrics.SourceShared, metrics.CausePolicy)
			},
			want: 1,
		},
		{
			name: "OnTransition tells local transitions apart",
			do: func(m *metrics.Breakers) {
				m.OnTransition(dbreaker.Transition{Breaker: "openai", From: dbreaker.Closed, To: dbreaker.Open, Local: true})
			},
			series: func(m *metrics.Breakers) prometheus.Collector {
				return m.TransitionsCounter("openai", "closed", "open", metrics.SourceLocal, metrics.CausePolicy)
			},
			want: 1,
		},
		{
			name: "OnTransition tells an operator's overrides apart",
			do: func(m *metrics.Breakers) {
				m.OnTransition(dbreaker.Transition{Breaker: "openai", From: dbreaker.Closed, To: dbreaker.ForcedOpen, Operator: true})
			},
			series: func(m *metrics.Breakers) prometheus.Collector {
				return m.TransitionsCounter("openai", "closed", "forced_open", metrics.SourceShared, metrics.CauseOperator)
			},
			want: 1,
		},
		{
			name:   "OnStale adds n",
			do:     func(m *metrics.Breakers) { m.OnStale("openai", 3); m.OnStale("openai", 0) },
			series: func(m *metrics.Breakers) prometheus.Collector { return m.StaleReportsCounter("openai") },
			want:   3,
		},
		{
			name:   "OnStoreError counts by op",
			do:     func(m *metrics.Breakers) { m.OnStoreError("openai", "acquire", errors.New("timeout")) },
			series: func(m *metrics.Breakers) prometheus.Collector { return m.StoreErrorsCounter("acquire") },
			want:   1,
		},
		{
			name: "a tracked store degraded",
			do: func(m *metrics.Breakers) {
				_ = m.TrackStore(fakeStore(false))
				_ = m.TrackStore(fakeStore(true))
			},
			series: func(m *metrics.Breakers) prometheus.Collector { return m.StoreDegradedGauge() },
			want:   1,
		},
		{
			name:   "tracked stores healthy",
			do:     func(m *metrics.Breakers) { _ = m.TrackStore(fakeStore(false)) },
			series: func(m *metrics.Breakers) prometheus.Collector { return m.StoreDegradedGauge() },
			want:   0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newBreakers(t)
			tt.do(m)
			if got := testutil.ToFloat64(tt.series(m)); got != tt.want {
				t.Errorf("value %v, want %v", got, tt.want)
			}
		})
	}
}

// replica is one replica's breaker on a shared store, with its own metrics.
type replica struct {
	b *dbreaker.Breaker
	m *metrics.Breakers
}

func newReplica(t *testing.T, store dbreaker.Store, c clock.Clock) replica {
	t.Helper()
	m := newBreakers(t)
	b, err := dbreaker.New("openai", store, dbreaker.Config{OpenTimeout: time.Minute},
		dbreaker.WithClock(c), dbreaker.WithObserver(m), dbreaker.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	if err := m.Track(b); err != nil {
		t.Fatal(err)
	}
	return replica{b, m}
}

// countingStore is a MemoryStore that counts the snapshots asked of it.
type countingStore struct {
	*dbreaker.MemoryStore
	snapshots atomic.Int64
}

func (s *countingStore) Snapshot(ctx context.Context, name string, p dbreaker.Policy) (dbreaker.Snapshot, error) {
	s.snapshots.Add(1)
	return s.MemoryStore.Snapshot(ctx, name, p)
}

// downStore is a shared store that says it is unavailable: breakers on it
// decide locally.
type downStore struct{ dbreaker.Store }

func (downStore) Degraded() bool { return true }

// Every replica reports the state it applies, learned from the shared
// store, and a scrape never asks the store.
func TestBreakerStateIsTheStateTheReplicaApplies(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	store := &countingStore{MemoryStore: memStore(t, dbreaker.WithClock(clock))}
	a, b := newReplica(t, store, clock), newReplica(t, store, clock)
	fail := func(context.Context) error { return errors.New("503") }
	scrape := func(t *testing.T, want dbreaker.State, source string) {
		t.Helper()
		for _, r := range []struct {
			name string
			m    *metrics.Breakers
		}{{"a", a.m}, {"b", b.m}} {
			before := store.snapshots.Load()
			if err := testutil.CollectAndCompare(r.m, strings.NewReader(stateText("openai", want, source)), "circuit_breaker_state"); err != nil {
				t.Errorf("replica %s: %v", r.name, err)
			}
			if n := store.snapshots.Load() - before; n != 0 {
				t.Errorf("replica %s: a scrape asked the store %d times", r.name, n)
			}
		}
	}

	if n := testutil.CollectAndCount(a.m, "circuit_breaker_state"); n != 0 {
		t.Fatalf("a replica that learned nothing yet has %d state series, want none rather than a guess", n)
	}
	for _, r := range []replica{a, b} { // as the service does at start-up
		if _, err := r.b.State(ctx); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name string
		do   func(t *testing.T)
		want dbreaker.State
	}{
		{"a new breaker is closed", func(*testing.T) {}, dbreaker.Closed},
		{"replica b trips it: a applies open too", func(*testing.T) {
			for range 5 {
				_ = b.b.Do(ctx, fail)
			}
		}, dbreaker.Open},
		{"an operator forces it open through b", func(t *testing.T) {
			if _, err := b.b.ForceOpen(ctx); err != nil {
				t.Fatal(err)
			}
		}, dbreaker.ForcedOpen},
		{"reset through b", func(t *testing.T) {
			if _, err := b.b.Reset(ctx); err != nil {
				t.Fatal(err)
			}
		}, dbreaker.Closed},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.do(t)
			scrape(t, st.want, metrics.SourceShared)
		})
	}
	if got := testutil.ToFloat64(b.m.TransitionsCounter("openai", "closed", "open", metrics.SourceShared, metrics.CausePolicy)); got != 1 {
		t.Errorf("replica b counted %v closed→open transitions, want 1", got)
	}

}

// Across the fleet, a transition of the breaker's own counts once, on the
// replica that made it (cause policy: the replicas add up), and an
// operator's override once on every replica, whoever made it, a replica
// or the breakers CLI (cause operator: each replica holds the fleet's
// count). Mixing the two is what made one override read as three
// transitions on a dashboard that summed the replicas.
func TestTransitionsCountOnceAcrossTheFleet(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	store := memStore(t, dbreaker.WithClock(clock))
	replicas := []replica{newReplica(t, store, clock), newReplica(t, store, clock), newReplica(t, store, clock)}
	for _, r := range replicas {
		if _, err := r.b.State(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 { // replica 0 trips it
		_ = replicas[0].b.Do(ctx, func(context.Context) error { return errors.New("503") })
	}
	if _, err := replicas[1].b.ForceOpen(ctx); err != nil { // an operator, through replica 1's console
		t.Fatal(err)
	}
	if _, _, err := store.Override(ctx, "openai", dbreaker.ActionReset); err != nil { // the CLI: no replica
		t.Fatal(err)
	}
	count := func(r replica, from, to, cause string) float64 {
		return testutil.ToFloat64(r.m.TransitionsCounter("openai", from, to, metrics.SourceShared, cause))
	}
	trips := 0.0
	for i, r := range replicas {
		trips += count(r, "closed", "open", metrics.CausePolicy)
		if got := count(r, "open", "forced_open", metrics.CauseOperator); got != 1 {
			t.Errorf("replica %d counted the override open→forced_open %v times, want 1", i, got)
		}
		if got := count(r, "forced_open", "closed", metrics.CauseOperator); got != 1 {
			t.Errorf("replica %d counted the reset forced_open→closed %v times, want 1", i, got)
		}
		for _, tr := range [][2]string{{"open", "forced_open"}, {"forced_open", "closed"}} {
			if got := count(r, tr[0], tr[1], metrics.CausePolicy); got != 0 {
				t.Errorf("replica %d counted the override %s→%s as the breaker's own (%v)", i, tr[0], tr[1], got)
			}
		}
		if got := count(r, "closed", "open", metrics.CauseOperator); got != 0 {
			t.Errorf("replica %d counted the trip as an operator's (%v)", i, got)
		}
	}
	if trips != 1 {
		t.Errorf("the replicas counted %v trips in all, want 1", trips)
	}
}

// While the store is unavailable, each replica exports the state its local
// breaker applies, marked local, and counts its local transitions.
func TestLocalTripsShowAsLocal(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	store := downStore{memStore(t, dbreaker.WithClock(clock))}
	a, b := newReplica(t, store, clock), newReplica(t, store, clock)
	for range 5 {
		_ = a.b.Do(ctx, func(context.Context) error { return errors.New("503") })
	}
	if err := testutil.CollectAndCompare(a.m, strings.NewReader(stateText("openai", dbreaker.Open, metrics.SourceLocal)), "circuit_breaker_state"); err != nil {
		t.Errorf("replica a: %v", err)
	}
	if got := testutil.ToFloat64(a.m.TransitionsCounter("openai", "closed", "open", metrics.SourceLocal, metrics.CausePolicy)); got != 1 {
		t.Errorf("replica a counted %v local closed→open transitions, want 1", got)
	}
	// b's own local breaker saw nothing: closed, and known to be local.
	if err := testutil.CollectAndCompare(b.m, strings.NewReader(stateText("openai", dbreaker.Closed, metrics.SourceLocal)), "circuit_breaker_state"); err != nil {
		t.Errorf("replica b: %v", err)
	}
}

func TestTrack(t *testing.T) {
	m := newBreakers(t)
	r := &fakeReader{name: "openai"}
	if err := m.Track(r); err != nil {
		t.Fatal(err)
	}
	// Track creates the calls and stale series at zero, so rates start at 0.
	want := len(dbreaker.CallResults())
	if n := testutil.CollectAndCount(m, "circuit_breaker_calls_total"); n != want {
		t.Errorf("%d calls series after Track, want %d", n, want)
	}
	if n := testutil.CollectAndCount(m, "circuit_breaker_stale_reports_total"); n != 1 {
		t.Errorf("%d stale series after Track, want 1", n)
	}
	tests := []struct {
		name string
		r    metrics.StateReader
		want string
	}{
		{"twice", &fakeReader{name: "openai"}, `breaker "openai" is already tracked`},
		{"nil", nil, "nil breaker"},
		{"empty name", &fakeReader{}, "empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Track(tt.r)
			if err == nil || !strings.HasPrefix(err.Error(), "metrics: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Track = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestStoreErrorOpsStartAtZero(t *testing.T) {
	m := newBreakers(t)
	if n := testutil.CollectAndCount(m, "circuit_breaker_store_errors_total"); n != 4 {
		t.Errorf("%d store error series, want 4 (acquire, report, snapshot, override)", n)
	}
}

// fakeReader is a StateReader with a fixed view.
type fakeReader struct {
	name string
	view dbreaker.View
}

func (r *fakeReader) Name() string        { return r.name }
func (r *fakeReader) View() dbreaker.View { return r.view }

// fakeStore reports a fixed health.
type fakeStore bool

func (f fakeStore) Degraded() bool { return bool(f) }

// memStore returns a new MemoryStore made with opts.
func memStore(t *testing.T, opts ...dbreaker.Option) *dbreaker.MemoryStore {
	t.Helper()
	s, err := dbreaker.NewMemoryStore(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
