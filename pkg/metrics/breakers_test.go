package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/metrics"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newBreakers(t *testing.T, opts ...metrics.Option) *metrics.Breakers {
	t.Helper()
	m, err := metrics.NewBreakers(prometheus.NewRegistry(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// stateText is the exposition of circuit_breaker_state for one breaker in
// state current.
func stateText(breaker string, current dbreaker.State) string {
	var b strings.Builder
	b.WriteString("# HELP circuit_breaker_state Shared state of each circuit breaker, read from the store at scrape time: 1 for the current state, 0 for the others.\n")
	b.WriteString("# TYPE circuit_breaker_state gauge\n")
	for _, s := range dbreaker.States() {
		v := 0
		if s == current {
			v = 1
		}
		fmt.Fprintf(&b, "circuit_breaker_state{breaker=%q,state=%q} %d\n", breaker, s.String(), v)
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
				return m.TransitionsCounter("openai", "closed", "open")
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

func newReplica(t *testing.T, store dbreaker.Store, clock dbreaker.Clock) replica {
	t.Helper()
	m := newBreakers(t)
	b, err := dbreaker.New("openai", store, dbreaker.Config{OpenTimeout: time.Minute},
		dbreaker.WithClock(clock), dbreaker.WithObserver(m), dbreaker.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Track(b); err != nil {
		t.Fatal(err)
	}
	return replica{b, m}
}

func TestBreakerStateIsReadFromTheSharedStore(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	store := dbreaker.NewMemoryStore(clock)
	a, b := newReplica(t, store, clock), newReplica(t, store, clock)
	fail := func(context.Context) error { return errors.New("503") }

	steps := []struct {
		name string
		do   func(t *testing.T)
		want dbreaker.State
	}{
		{"new breaker: closed", func(*testing.T) {}, dbreaker.Closed},
		{"replica b trips it: a reports open too", func(*testing.T) {
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
			for _, r := range []struct {
				name string
				m    *metrics.Breakers
			}{{"a", a.m}, {"b", b.m}} {
				if err := testutil.CollectAndCompare(r.m, strings.NewReader(stateText("openai", st.want)), "circuit_breaker_state"); err != nil {
					t.Errorf("replica %s: %v", r.name, err)
				}
			}
		})
	}
	// Replica a saw none of the transitions: its state metric came from the
	// store alone.
	if got := testutil.ToFloat64(a.m.TransitionsCounter("openai", "closed", "open")); got != 0 {
		t.Errorf("replica a counted %v closed→open transitions, want 0 (b committed it)", got)
	}
	if got := testutil.ToFloat64(b.m.TransitionsCounter("openai", "closed", "open")); got != 1 {
		t.Errorf("replica b counted %v closed→open transitions, want 1", got)
	}
}

// fakeReader is a StateReader whose answers the test sets.
type fakeReader struct {
	name  string
	mu    sync.Mutex
	state dbreaker.State
	err   error
	block bool // wait for ctx to be done, then fail
	reads int
}

func (r *fakeReader) Name() string { return r.name }

func (r *fakeReader) State(ctx context.Context) (dbreaker.Snapshot, error) {
	r.mu.Lock()
	r.reads++
	state, err, block := r.state, r.err, r.block
	r.mu.Unlock()
	if block {
		if _, ok := ctx.Deadline(); !ok {
			return dbreaker.Snapshot{}, errors.New("no deadline on the scrape context")
		}
		<-ctx.Done()
		return dbreaker.Snapshot{}, ctx.Err()
	}
	if err != nil {
		return dbreaker.Snapshot{}, err
	}
	return dbreaker.Snapshot{Name: r.name, State: state}, nil
}

func (r *fakeReader) set(state dbreaker.State, err error, block bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state, r.err, r.block = state, err, block
}

func TestBreakerStateFallsBackToTheLastKnownState(t *testing.T) {
	m := newBreakers(t, metrics.WithStateTimeout(5*time.Millisecond))
	r := &fakeReader{name: "usda"}
	if err := m.Track(r); err != nil {
		t.Fatal(err)
	}
	count := func() int { return testutil.CollectAndCount(m, "circuit_breaker_state") }

	r.set(0, errors.New("redis: connection refused"), false)
	if n := count(); n != 0 {
		t.Errorf("never read and never seen: %d series, want none", n)
	}

	r.set(dbreaker.HalfOpen, nil, false)
	if err := testutil.CollectAndCompare(m, strings.NewReader(stateText("usda", dbreaker.HalfOpen)), "circuit_breaker_state"); err != nil {
		t.Error(err)
	}

	r.set(0, errors.New("redis: connection refused"), false)
	if err := testutil.CollectAndCompare(m, strings.NewReader(stateText("usda", dbreaker.HalfOpen)), "circuit_breaker_state"); err != nil {
		t.Errorf("after a failed read: %v", err)
	}

	r.set(0, nil, true) // the store hangs: the read is cut at the state timeout
	if err := testutil.CollectAndCompare(m, strings.NewReader(stateText("usda", dbreaker.HalfOpen)), "circuit_breaker_state"); err != nil {
		t.Errorf("after a read that timed out: %v", err)
	}

	// A transition this replica learns of is the last known state too.
	m.OnTransition(dbreaker.Transition{Breaker: "usda", From: dbreaker.HalfOpen, To: dbreaker.Closed})
	r.set(0, errors.New("redis: connection refused"), false)
	if err := testutil.CollectAndCompare(m, strings.NewReader(stateText("usda", dbreaker.Closed)), "circuit_breaker_state"); err != nil {
		t.Errorf("after a transition: %v", err)
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

// fakeStore reports a fixed health.
type fakeStore bool

func (f fakeStore) Degraded() bool { return bool(f) }
