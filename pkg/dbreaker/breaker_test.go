package dbreaker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/pkg/config"
)

var errUpstream = errors.New("upstream said 503")

// countingStore counts the calls that reach the store beneath it.
type countingStore struct {
	Store
	acquires, reports atomic.Int64
}

func (s *countingStore) Acquire(ctx context.Context, name string, p Policy, token string) (Decision, error) {
	s.acquires.Add(1)
	return s.Store.Acquire(ctx, name, p, token)
}

func (s *countingStore) Report(ctx context.Context, name string, p Policy, r []Report) (ReportResult, error) {
	s.reports.Add(1)
	return s.Store.Report(ctx, name, p, r)
}

// recorder is an Observer that keeps everything it is told.
type recorder struct {
	mu          sync.Mutex
	calls       map[CallResult]int
	transitions []Transition
	stale       int
	storeErrors []string
}

func (r *recorder) OnCall(_ string, res CallResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[CallResult]int{}
	}
	r.calls[res]++
}

func (r *recorder) OnTransition(t Transition) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.transitions = append(r.transitions, t)
}

func (r *recorder) OnStale(_ string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stale += n
}

func (r *recorder) OnStoreError(_, op string, _ error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.storeErrors = append(r.storeErrors, op)
}

func (r *recorder) count(res CallResult) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[res]
}

type fixture struct {
	clock *clocktest.Clock
	store *countingStore
	obs   *recorder
	b     *Breaker
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	clock := clocktest.New(time.UnixMilli(1_700_000_000_000))
	f := &fixture{clock: clock, store: &countingStore{Store: memStore(t, WithClock(clock))}, obs: &recorder{}}
	b, err := New("openai", f.store, cfg, WithClock(clock), WithObserver(f.obs), WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	f.b = b
	return f
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func failing(context.Context) error    { return errUpstream }
func succeeding(context.Context) error { return nil }

func TestBreakerTripsRejectsLocallyAndRecovers(t *testing.T) {
	f := newFixture(t, Config{OpenTimeout: 10 * time.Second})
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := f.b.Do(ctx, failing); !errors.Is(err, errUpstream) {
			t.Fatalf("call %d: err = %v, want the upstream error", i+1, err)
		}
	}
	acquires := f.store.acquires.Load()
	err := f.b.Do(ctx, succeeding)
	var rej *RejectedError
	if !errors.As(err, &rej) || !errors.Is(err, ErrOpen) || errors.Is(err, ErrForcedOpen) || rej.RetryAfter != 10*time.Second || rej.State != Open {
		t.Fatalf("after the trip: err = %v (%+v)", err, rej)
	}
	if !strings.Contains(err.Error(), `breaker "openai"`) || !strings.Contains(err.Error(), "10s") {
		t.Fatalf("message %q does not name the breaker and the wait", err)
	}
	for i := 0; i < 100; i++ {
		f.clock.Advance(50 * time.Millisecond)
		if err := f.b.Do(ctx, succeeding); !errors.Is(err, ErrOpen) {
			t.Fatalf("rejection %d: %v", i, err)
		}
	}
	if got := f.store.acquires.Load(); got != acquires {
		t.Fatalf("open-state rejections reached the store %d times, want 0", got-acquires)
	}
	f.clock.Advance(5 * time.Second)
	if err := f.b.Do(ctx, succeeding); err != nil {
		t.Fatalf("probe after the open timeout: %v", err)
	}
	s, err := f.b.State(ctx)
	if err != nil || s.State != Closed || s.Generation != 3 {
		t.Fatalf("after a successful probe: %+v, %v", s, err)
	}
	if got := f.obs.count(ResultRejected); got != 101 {
		t.Errorf("observer saw %d rejections, want 101", got)
	}
	var path []string
	for _, tr := range f.obs.transitions {
		path = append(path, tr.From.String()+"→"+tr.To.String())
	}
	if got := strings.Join(path, " "); got != "closed→open open→half_open half_open→closed" {
		t.Errorf("transitions: %s", got)
	}
}

func TestExecuteReturnsTheValue(t *testing.T) {
	f := newFixture(t, Config{})
	v, err := Execute(context.Background(), f.b, func(context.Context) (int, error) { return 42, nil })
	if v != 42 || err != nil {
		t.Fatalf("Execute = %d, %v", v, err)
	}
	v, err = Execute(context.Background(), f.b, func(context.Context) (int, error) { return 7, errUpstream })
	if v != 7 || !errors.Is(err, errUpstream) {
		t.Fatalf("Execute on failure = %d, %v; want the function's own results", v, err)
	}
}

func TestPanicIsReportedAsFailureAndReraised(t *testing.T) {
	f := newFixture(t, Config{FailureThreshold: 1})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the original panic", r)
			}
		}()
		_ = f.b.Do(context.Background(), func(context.Context) error { panic("boom") })
	}()
	s, _ := f.b.State(context.Background())
	if s.State != Open || !strings.Contains(s.LastError, "panicked: boom") {
		t.Fatalf("after a panic: %+v", s)
	}
}

func TestClassifier(t *testing.T) {
	errNotFound := errors.New("404")
	tests := []struct {
		name     string
		classify func(error) Outcome
		err      error
		failures int64
		result   CallResult
	}{
		{"default counts errors", nil, errUpstream, 1, ResultFailure},
		{"default ignores cancellation", nil, fmt.Errorf("call: %w", context.Canceled), 0, ResultIgnored},
		{"default counts deadline", nil, context.DeadlineExceeded, 1, ResultFailure},
		{"custom ignores 404", func(err error) Outcome {
			if errors.Is(err, errNotFound) {
				return Success
			}
			return DefaultClassify(err)
		}, errNotFound, 0, ResultSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{Classify: tt.classify})
			reports := f.store.reports.Load()
			_ = f.b.Do(context.Background(), func(context.Context) error { return tt.err })
			s, _ := f.b.State(context.Background())
			if s.Failures != tt.failures || f.obs.count(tt.result) != 1 {
				t.Fatalf("failures = %d (want %d), observer %v", s.Failures, tt.failures, f.obs.calls)
			}
			if tt.result == ResultIgnored && f.store.reports.Load() != reports {
				t.Fatal("an ignored closed-state outcome was sent to the store")
			}
		})
	}
}

func TestSlowCallsAreTimedWithTheClock(t *testing.T) {
	f := newFixture(t, Config{FailureThreshold: Off, SlowCallRate: 1, SlowCallDuration: time.Second, MinimumCalls: 2})
	slow := func(context.Context) error { f.clock.Advance(time.Second); return nil }
	_ = f.b.Do(context.Background(), slow)
	_ = f.b.Do(context.Background(), succeeding)
	if s, _ := f.b.State(context.Background()); s.State != Closed || s.Window != (WindowCounts{Calls: 2, Slow: 1}) {
		t.Fatalf("one slow call in two: %+v", s)
	}
	_ = f.b.Do(context.Background(), slow)
	_ = f.b.Do(context.Background(), slow)
	if s, _ := f.b.State(context.Background()); s.State != Closed {
		t.Fatalf("3 slow in 4 tripped a rate of 1: %+v", s)
	}
	f.clock.Advance(2 * time.Minute) // the window slides past
	_ = f.b.Do(context.Background(), slow)
	_ = f.b.Do(context.Background(), slow)
	if s, _ := f.b.State(context.Background()); s.State != Open {
		t.Fatalf("2 slow calls in 2 did not trip: %+v", s)
	}
}

func TestPermitDoneTwiceReportsOnce(t *testing.T) {
	f := newFixture(t, Config{})
	p, err := f.b.Allow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.Done(errUpstream)
	p.Done(errUpstream)
	if s, _ := f.b.State(context.Background()); s.Failures != 1 || f.store.reports.Load() != 1 {
		t.Fatalf("failures = %d, reports = %d; want 1 and 1", s.Failures, f.store.reports.Load())
	}
	var nilPermit *Permit
	nilPermit.Done(nil) // must not panic
}

func TestDoneReportsEvenWhenTheCallContextIsCancelled(t *testing.T) {
	f := newFixture(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	p, err := f.b.Allow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	p.Done(errUpstream)
	if s, _ := f.b.State(context.Background()); s.Failures != 1 {
		t.Fatalf("failures = %d, want 1", s.Failures)
	}
}

func TestOverridesThroughTheBreaker(t *testing.T) {
	f := newFixture(t, Config{FailureThreshold: 1})
	ctx := context.Background()
	if _, err := f.b.ForceOpen(ctx); err != nil {
		t.Fatal(err)
	}
	err := f.b.Do(ctx, succeeding)
	if !errors.Is(err, ErrForcedOpen) || !errors.Is(err, ErrOpen) || errors.Is(err, ErrTooManyProbes) {
		t.Fatalf("forced open: %v", err)
	}
	if _, err := f.b.Disable(ctx); err != nil {
		t.Fatal(err)
	}
	reports := f.store.reports.Load()
	for i := 0; i < 3; i++ {
		if err := f.b.Do(ctx, failing); !errors.Is(err, errUpstream) {
			t.Fatalf("disabled: %v", err)
		}
	}
	if f.store.reports.Load() != reports {
		t.Fatal("a disabled breaker sent reports to the store")
	}
	if _, err := f.b.ForceClosed(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		_ = f.b.Do(ctx, failing)
	}
	if s, _ := f.b.State(ctx); s.State != ForcedClosed || s.Failures != 3 {
		t.Fatalf("forced closed: %+v", s)
	}
	if s, err := f.b.Reset(ctx); err != nil || s.State != Closed {
		t.Fatalf("reset: %+v %v", s, err)
	}
	if err := f.b.Do(ctx, failing); !errors.Is(err, errUpstream) {
		t.Fatal(err)
	}
	if err := f.b.Do(ctx, failing); !errors.Is(err, ErrOpen) {
		t.Fatalf("after reset the policy applies again: %v", err)
	}
}

// failingStore fails every call.
type failingStore struct{ err error }

func (s failingStore) Acquire(context.Context, string, Policy, string) (Decision, error) {
	return Decision{}, s.err
}
func (s failingStore) Report(context.Context, string, Policy, []Report) (ReportResult, error) {
	return ReportResult{}, s.err
}
func (s failingStore) Snapshot(context.Context, string, Policy) (Snapshot, error) {
	return Snapshot{}, s.err
}
func (s failingStore) Override(context.Context, string, Action) (Snapshot, []Transition, error) {
	return Snapshot{}, nil, s.err
}

func TestStoreFailurePolicies(t *testing.T) {
	tests := []struct {
		policy StoreFailure
		// what the 6th failing call gets: the upstream's error (admitted) or
		// a rejection
		sixth error
		first error
	}{
		{FallbackLocal, ErrOpen, errUpstream}, // the local breaker trips at 5
		{FailOpen, errUpstream, errUpstream},
		{FailClosed, ErrStoreUnavailable, ErrStoreUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.policy.String(), func(t *testing.T) {
			obs := &recorder{}
			b, err := New("web", failingStore{errors.New("connection refused")}, Config{OnStoreFailure: tt.policy}, WithObserver(obs), WithLogger(discardLogger()))
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Do(context.Background(), failing); !errors.Is(err, tt.first) {
				t.Fatalf("first call: %v, want %v", err, tt.first)
			}
			for i := 0; i < 4; i++ {
				_ = b.Do(context.Background(), failing)
			}
			if err := b.Do(context.Background(), failing); !errors.Is(err, tt.sixth) {
				t.Fatalf("sixth call: %v, want %v", err, tt.sixth)
			}
			if st := b.Stats(); st.StoreErrors != 6 || st.LocalDecisions != 6 {
				t.Fatalf("stats %+v: want 6 store errors and 6 local decisions", st)
			}
			if _, err := b.State(context.Background()); err == nil {
				t.Fatal("State hid the store error")
			}
		})
	}
}

func TestNewRejectsMissingParts(t *testing.T) {
	if _, err := New("x", nil, Config{}); err == nil || !strings.Contains(err.Error(), "nil store") {
		t.Errorf("nil store: %v", err)
	}
	if _, err := New("x", memStore(t), Config{}, WithClock(nil)); err == nil {
		t.Error("nil clock accepted")
	}
	if _, err := New("x", memStore(t), Config{}, WithObserver(nil)); err == nil {
		t.Error("nil observer accepted")
	}
}

func TestCorruptStateIsLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	corrupt := &corruptingStore{Store: memStore(t)}
	b, err := New("usda", corrupt, Config{}, WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		_ = b.Do(context.Background(), succeeding)
	}
	if n := strings.Count(logs.String(), "unreadable"); n != 1 {
		t.Fatalf("corrupt state logged %d times, want once:\n%s", n, logs.String())
	}
}

// corruptingStore flags every snapshot corrupt, as RedisStore does for a
// hash it cannot read.
type corruptingStore struct{ Store }

func (s *corruptingStore) Acquire(ctx context.Context, name string, p Policy, token string) (Decision, error) {
	d, err := s.Store.Acquire(ctx, name, p, token)
	d.Snapshot.Corrupt = true
	return d, err
}

// memStore returns a new MemoryStore made with opts.
func memStore(t testing.TB, opts ...Option) *MemoryStore {
	t.Helper()
	s, err := NewMemoryStore(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every rejection is a *RejectedError matching the sentinel of its reason
// and no other (but ErrOpen besides, for a forced-open breaker), failing
// closed included, and says it is a rejection through its Rejected method.
func TestEveryRejectionMatchesTheSentinelOfItsReason(t *testing.T) {
	sentinels := []error{ErrOpen, ErrForcedOpen, ErrTooManyProbes, ErrStoreUnavailable}
	tests := []struct {
		name string
		make func(t *testing.T) *Breaker
		want []error // the sentinels it matches
	}{
		{"open", func(t *testing.T) *Breaker {
			b, _ := New("a", memStore(t), Config{FailureThreshold: 1}, WithLogger(discardLogger()))
			_ = b.Do(context.Background(), failing)
			return b
		}, []error{ErrOpen}},
		{"forced open", func(t *testing.T) *Breaker {
			b, _ := New("a", memStore(t), Config{}, WithLogger(discardLogger()))
			if _, err := b.ForceOpen(context.Background()); err != nil {
				t.Fatal(err)
			}
			return b
		}, []error{ErrOpen, ErrForcedOpen}},
		{"probes busy", func(t *testing.T) *Breaker {
			clock := clocktest.New(time.UnixMilli(1_700_000_000_000))
			b, _ := New("a", memStore(t, WithClock(clock)), Config{FailureThreshold: 1}, WithClock(clock), WithLogger(discardLogger()))
			_ = b.Do(context.Background(), failing)
			clock.Advance(DefaultOpenTimeout)
			if _, err := b.Allow(context.Background()); err != nil { // the one probe, never done
				t.Fatal(err)
			}
			return b
		}, []error{ErrTooManyProbes}},
		{"failing closed", func(t *testing.T) *Breaker {
			b, _ := New("a", failingStore{errors.New("connection refused")}, Config{OnStoreFailure: FailClosed}, WithLogger(discardLogger()))
			return b
		}, []error{ErrStoreUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.make(t).Do(context.Background(), succeeding)
			var rej *RejectedError
			if !errors.As(err, &rej) || !IsRejected(err) {
				t.Fatalf("err = %v, want a *RejectedError", err)
			}
			for _, s := range sentinels {
				if got, want := errors.Is(err, s), slices.Contains(tt.want, s); got != want {
					t.Errorf("errors.Is(err, %v) = %v, want %v", s, got, want)
				}
			}
			var r interface{ Rejected() bool }
			if !errors.As(fmt.Errorf("wrapped: %w", err), &r) || !r.Rejected() {
				t.Errorf("no Rejected method found on %v", err)
			}
		})
	}
	if IsRejected(errUpstream) {
		t.Error("an upstream error is taken for a rejection")
	}
}

// Each constructor takes the options that concern what it builds, and
// names the one it does not take.
func TestConstructorsRefuseOptionsTheyDoNotTake(t *testing.T) {
	client := testredis.Client(t)
	tests := []struct {
		name string
		make func() error
		want string
	}{
		{"New with a key prefix", func() error {
			_, err := New("x", memStore(t), Config{}, WithKeyPrefix("p"))
			return err
		}, "WithKeyPrefix"},
		{"NewMemoryStore with a logger", func() error {
			_, err := NewMemoryStore(WithLogger(discardLogger()))
			return err
		}, "WithLogger"},
		{"NewRedisStore with a clock", func() error {
			_, err := NewRedisStore(client, WithClock(clocktest.New(time.Unix(0, 0))))
			return err
		}, "WithClock"},
		{"NewMemoryStore with a nil clock", func() error {
			_, err := NewMemoryStore(WithClock(nil))
			return err
		}, "WithClock"},
		{"a nil option", func() error {
			_, err := NewMemoryStore(nil)
			return err
		}, "option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.make()
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Field != tt.want || !strings.HasPrefix(err.Error(), "dbreaker: invalid "+tt.want) {
				t.Fatalf("err = %v, want a *config.Error for %s", err, tt.want)
			}
		})
	}
}
