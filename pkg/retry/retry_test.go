package retry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/dbreaker"
)

// start is when the tests' clocks start.
var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newClock returns a fake clock whose timers fire when the test advances
// it; newAutoClock one whose timers fire at once, so that Execute runs
// through its waits synchronously.
func newClock() *clocktest.Clock     { return clocktest.New(start) }
func newAutoClock() *clocktest.Clock { return clocktest.NewAuto(start) }

// newPolicy returns New(name, cfg, opts...), logging nowhere unless opts
// say otherwise, or fails the test.
func newPolicy(t testing.TB, name string, cfg Config, opts ...Option) *Policy {
	t.Helper()
	p, err := New(name, cfg, append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// deadlineCtx has a deadline but is never done by itself, so a test can set
// the deadline relative to a fake clock.
type deadlineCtx struct {
	context.Context
	deadline time.Time
}

func (c deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// fixedRand returns a Rand that always yields r.
func fixedRand(r float64) func() float64 { return func() float64 { return r } }

// script is a function under retry: call i returns errs[i], or success with
// the value i+1 once errs runs out; calls are counted.
type script struct {
	errs  []error
	calls atomic.Int64
}

func (s *script) fn(context.Context) (int, error) {
	i := int(s.calls.Add(1)) - 1
	if i < len(s.errs) && s.errs[i] != nil {
		return i + 1, s.errs[i]
	}
	return i + 1, nil
}

// failing returns a script whose every call fails with err.
func failing(err error, n int) *script {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return &script{errs: errs}
}

// recorder is an Observer that collects the events of a Policy.
type recorder struct {
	mu      sync.Mutex
	retries []RetryEvent
	stops   []StopEvent
}

func (r *recorder) OnRetry(_ context.Context, e RetryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = append(r.retries, e)
}

func (r *recorder) OnStop(_ context.Context, e StopEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stops = append(r.stops, e)
}

func (r *recorder) onlyStop(t *testing.T) StopEvent {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.stops) != 1 {
		t.Fatalf("OnStop called %d times, want once", len(r.stops))
	}
	return r.stops[0]
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var errReset = fmt.Errorf("openai: %w", syscall.ECONNRESET)

func TestNewRejectsInvalidConfigAndOptions(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		opts  []Option
		field string
	}{
		{"invalid config", Config{MaxDelay: -1}, nil, "MaxDelay"},
		{"nil clock", Config{}, []Option{WithClock(nil)}, "WithClock"},
		{"nil observer", Config{}, []Option{WithObserver(nil)}, "WithObserver"},
		{"nil check", Config{}, []Option{WithBeforeWait(nil)}, "WithBeforeWait"},
		{"nil option", Config{}, []Option{nil}, "option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New("x", tt.cfg, tt.opts...)
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Field != tt.field || p != nil {
				t.Fatalf("New = %v, %v; want a *config.Error for %s", p, err, tt.field)
			}
		})
	}
	if _, err := NewBudget(BudgetConfig{}, WithLogger(slog.Default())); err == nil || !strings.Contains(err.Error(), "NewBudget does not take it") {
		t.Errorf("NewBudget with a logger: %v, want an error naming WithLogger", err)
	}
}

func TestExecuteSucceedsFirstTime(t *testing.T) {
	for _, tt := range []struct {
		name   string
		policy *Policy
	}{
		{"nil policy", nil},
		{"zero policy", newPolicy(t, "", Config{})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{}
			v, err := Execute(context.Background(), tt.policy, s.fn)
			if v != 1 || err != nil || s.calls.Load() != 1 {
				t.Errorf("Execute = %d, %v after %d calls; want 1, nil after 1", v, err, s.calls.Load())
			}
		})
	}
	var rec recorder
	clock := newAutoClock()
	s := &script{}
	if _, err := Execute(context.Background(), newPolicy(t, "usda", Config{}, WithClock(clock), WithObserver(&rec)), s.fn); err != nil {
		t.Fatal(err)
	}
	if st := rec.onlyStop(t); st != (StopEvent{Name: "usda", Attempts: 1, Reason: StopSuccess}) {
		t.Errorf("stop event = %+v", st)
	}
	if len(rec.retries) != 0 || len(clock.Waits()) != 0 {
		t.Errorf("a first-time success made %d retries and %d waits", len(rec.retries), len(clock.Waits()))
	}
}

func TestExecuteRetriesUntilSuccess(t *testing.T) {
	var rec recorder
	clock := newAutoClock()
	first, second := &HTTPError{Code: 503, Status: "503 Service Unavailable"}, errReset
	s := &script{errs: []error{first, second}}
	p := newPolicy(t, "openai", Config{Jitter: JitterNone}, WithClock(clock), WithObserver(&rec))
	v, err := Execute(context.Background(), p, s.fn)
	if v != 3 || err != nil {
		t.Fatalf("Execute = %d, %v; want 3, nil", v, err)
	}
	if got, want := clock.Waits(), []time.Duration{time.Second, 2 * time.Second}; !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
	wantRetries := []RetryEvent{
		{Name: "openai", Attempt: 1, Delay: time.Second, Err: first},
		{Name: "openai", Attempt: 2, Delay: 2 * time.Second, Err: second},
	}
	if len(rec.retries) != len(wantRetries) {
		t.Fatalf("retry events = %+v, want %+v", rec.retries, wantRetries)
	}
	for i, want := range wantRetries {
		if rec.retries[i] != want {
			t.Errorf("retry event %d = %+v, want %+v", i, rec.retries[i], want)
		}
	}
	if st := rec.onlyStop(t); st != (StopEvent{Name: "openai", Attempts: 3, Reason: StopSuccess}) {
		t.Errorf("stop event = %+v", st)
	}
}

// TestExecuteWaitsForTheTimer runs the real select path: the retry happens
// only when the fake clock passes the wait.
func TestExecuteWaitsForTheTimer(t *testing.T) {
	clock := newClock()
	s := &script{errs: []error{errReset}}
	done := make(chan error, 1)
	go func() {
		_, err := Execute(context.Background(), newPolicy(t, "", Config{Jitter: JitterNone}, WithClock(clock)), s.fn)
		done <- err
	}()
	clock.AwaitTimer(t)
	clock.Advance(999 * time.Millisecond)
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("%d calls before the wait ended, want 1", n)
	}
	clock.Advance(time.Millisecond)
	select {
	case err := <-done:
		if err != nil || s.calls.Load() != 2 {
			t.Errorf("Execute = %v after %d calls, want success after 2", err, s.calls.Load())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Execute did not return within 10s after its timer fired")
	}
}

func TestExecuteScheduleByJitter(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		jitter Jitter
		r      float64
		want   []time.Duration
	}{
		{JitterNone, 0.3, []time.Duration{1000 * ms, 2000 * ms, 4000 * ms, 8000 * ms, 16000 * ms}},
		{JitterProportional, 1, []time.Duration{1100 * ms, 2200 * ms, 4400 * ms, 8800 * ms, 17600 * ms}},
		{JitterProportional, 0.25, []time.Duration{950 * ms, 1900 * ms, 3800 * ms, 7600 * ms, 15200 * ms}},
		{JitterFull, 0.5, []time.Duration{500 * ms, 1000 * ms, 2000 * ms, 4000 * ms, 8000 * ms}},
		// d(n) = 1 s + 0.5·(3·d(n−1) − 1 s), d(0) = 1 s: Execute feeds each wait back.
		{JitterDecorrelated, 0.5, []time.Duration{2000 * ms, 3500 * ms, 5750 * ms, 9125 * ms, 14187500 * time.Microsecond}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s r=%v", tt.jitter, tt.r), func(t *testing.T) {
			clock := newAutoClock()
			p := newPolicy(t, "", Config{MaxRetries: 5, Jitter: tt.jitter}, WithClock(clock), WithRand(fixedRand(tt.r)))
			s := failing(errReset, 100)
			_, err := Execute(context.Background(), p, s.fn)
			if !errors.Is(err, ErrExhausted) || s.calls.Load() != 6 {
				t.Fatalf("Execute = %v after %d calls, want ErrExhausted after 6", err, s.calls.Load())
			}
			if got := clock.Waits(); !equalDurations(got, tt.want) {
				t.Errorf("waits = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExecuteExhausted(t *testing.T) {
	tests := []struct {
		name         string
		maxRetries   int
		wantAttempts int
		wantMessage  string
	}{
		{"default: 3 retries", 0, 4, "retry: gave up after 4 attempts: unexpected EOF"},
		{"no retries", NoRetries, 1, "retry: gave up after 1 attempt: unexpected EOF"},
		{"one retry", 1, 2, "retry: gave up after 2 attempts: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			clock := newAutoClock()
			s := failing(io.ErrUnexpectedEOF, 100)
			v, err := Execute(context.Background(), newPolicy(t, "", Config{MaxRetries: tt.maxRetries}, WithClock(clock), WithObserver(&rec)), s.fn)
			if got := int(s.calls.Load()); got != tt.wantAttempts {
				t.Errorf("%d calls, want %d", got, tt.wantAttempts)
			}
			if v != tt.wantAttempts {
				t.Errorf("Execute returned %d, want the last attempt's result %d", v, tt.wantAttempts)
			}
			if err == nil || err.Error() != tt.wantMessage {
				t.Fatalf("error %q, want %q", err, tt.wantMessage)
			}
			if !errors.Is(err, ErrExhausted) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Error("the error must match ErrExhausted and the last error")
			}
			if errors.Is(err, ErrBudgetExhausted) || errors.Is(err, ErrDeadline) {
				t.Error("the error matches a sentinel of another reason")
			}
			var gu *GiveUpError
			if !errors.As(err, &gu) || gu.Attempts != tt.wantAttempts || gu.Reason != StopExhausted {
				t.Errorf("GiveUpError = %+v", gu)
			}
			if n := len(clock.Waits()); n != tt.wantAttempts-1 {
				t.Errorf("%d waits, want %d", n, tt.wantAttempts-1)
			}
			if st := rec.onlyStop(t); st.Reason != StopExhausted || st.Attempts != tt.wantAttempts || st.Err != err {
				t.Errorf("stop event = %+v", st)
			}
		})
	}
}

func TestExecuteStopsOnNonRetryable(t *testing.T) {
	notFound := &HTTPError{Code: 404, Status: "404 Not Found"}
	unavailable := &HTTPError{Code: 503, Status: "503 Service Unavailable"}
	unknown := errors.New("json: cannot unmarshal")
	open := fmt.Errorf("openai: %w", dbreaker.ErrOpen)
	probes := fmt.Errorf("openai: %w", dbreaker.ErrTooManyProbes)
	wrappedPermanent := fmt.Errorf("step: %w", Permanent(unavailable))
	always := func(error) bool { return true }
	retryUnknown := func(err error) bool { return err == unknown || DefaultRetryable(err) }
	tests := []struct {
		name       string
		classifier func(error) bool
		errs       []error
		want       error // the very error Execute must return
		wantCalls  int
	}{
		{"404", nil, []error{notFound}, notFound, 1},
		{"unknown error", nil, []error{unknown}, unknown, 1},
		{"context canceled from the call", nil, []error{context.Canceled}, context.Canceled, 1},
		{"breaker open", nil, []error{open}, open, 1},
		{"permanent is unwrapped", nil, []error{Permanent(unavailable)}, unavailable, 1},
		{"wrapped permanent is kept", nil, []error{wrappedPermanent}, wrappedPermanent, 1},
		{"retryable then 404", nil, []error{unavailable, notFound}, notFound, 2},
		{"classifier refuses", func(error) bool { return false }, []error{unavailable}, unavailable, 1},
		{"permanent beats the classifier", always, []error{Permanent(unknown)}, unknown, 1},
		{"rejection beats the classifier", always, []error{probes}, probes, 1},
		{"forced open beats the classifier", always, []error{dbreaker.ErrForcedOpen}, dbreaker.ErrForcedOpen, 1},
		{"custom classifier retries unknown", retryUnknown, []error{unknown, notFound}, notFound, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			s := &script{errs: append(tt.errs, errors.New("not reached"))}
			p := newPolicy(t, "", Config{Retryable: tt.classifier}, WithClock(newAutoClock()), WithObserver(&rec))
			_, err := Execute(context.Background(), p, s.fn)
			if err != tt.want {
				t.Errorf("Execute returned %v, want exactly %v", err, tt.want)
			}
			if got := int(s.calls.Load()); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
			if st := rec.onlyStop(t); st.Reason != StopNotRetryable || st.Attempts != tt.wantCalls {
				t.Errorf("stop event = %+v", st)
			}
		})
	}
}

// hint is an error with a Retry-After hint, as an SDK adapter would make.
type hint struct {
	d  time.Duration
	ok bool
}

func (h hint) Error() string                     { return "rate limited" }
func (h hint) StatusCode() int                   { return 429 }
func (h hint) RetryAfter() (time.Duration, bool) { return h.d, h.ok }

func TestExecuteHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantWaits []time.Duration
		wantDelay time.Duration
		wantHint  bool
	}{
		{"hint replaces backoff", &HTTPError{Code: 429, Wait: 7 * time.Second, HasWait: true}, []time.Duration{7 * time.Second}, 7 * time.Second, true},
		{"hint is capped", &HTTPError{Code: 503, Wait: 5 * time.Minute, HasWait: true}, []time.Duration{30 * time.Second}, 30 * time.Second, true},
		{"overflowing hint is capped", &HTTPError{Code: 503, Wait: maxDuration, HasWait: true}, []time.Duration{30 * time.Second}, 30 * time.Second, true},
		{"zero hint retries at once", &HTTPError{Code: 503, HasWait: true}, nil, 0, true},
		{"negative hint counts as zero", hint{-time.Second, true}, nil, 0, true},
		{"wrapped hint", fmt.Errorf("anthropic: %w", hint{3 * time.Second, true}), []time.Duration{3 * time.Second}, 3 * time.Second, true},
		{"no hint: backoff", &HTTPError{Code: 503}, []time.Duration{time.Second}, time.Second, false},
		{"hint not valid: backoff", hint{time.Hour, false}, []time.Duration{time.Second}, time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			clock := newAutoClock()
			s := &script{errs: []error{tt.err}}
			p := newPolicy(t, "", Config{Jitter: JitterNone}, WithClock(clock), WithObserver(&rec))
			if _, err := Execute(context.Background(), p, s.fn); err != nil {
				t.Fatalf("Execute = %v, want success on the second attempt", err)
			}
			if got := clock.Waits(); !equalDurations(got, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tt.wantWaits)
			}
			if len(rec.retries) != 1 || rec.retries[0].Delay != tt.wantDelay || rec.retries[0].FromRetryAfter != tt.wantHint {
				t.Errorf("retry events = %+v, want one with delay %s, FromRetryAfter %v", rec.retries, tt.wantDelay, tt.wantHint)
			}
		})
	}
}

func TestExecuteNeverSleepsPastTheDeadline(t *testing.T) {
	tests := []struct {
		name          string
		untilDeadline time.Duration
		err           error
		wantAttempts  int
		wantWaits     []time.Duration
		wantDelay     time.Duration // the refused wait
	}{
		{"second wait would pass", 1500 * time.Millisecond, errReset, 2, []time.Duration{time.Second}, 2 * time.Second},
		{"first wait ends exactly at the deadline", time.Second, errReset, 1, nil, time.Second},
		{"Retry-After beyond the deadline", 5 * time.Second, &HTTPError{Code: 429, Wait: 10 * time.Second, HasWait: true}, 1, nil, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			clock := newAutoClock()
			budget, err := NewBudget(BudgetConfig{}, WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			ctx := deadlineCtx{context.Background(), clock.Now().Add(tt.untilDeadline)}
			s := failing(tt.err, 100)
			p := newPolicy(t, "", Config{Jitter: JitterNone}, WithClock(clock), WithBudget(budget), WithObserver(&rec))
			_, err = Execute(ctx, p, s.fn)
			if got := int(s.calls.Load()); got != tt.wantAttempts {
				t.Errorf("%d calls, want %d", got, tt.wantAttempts)
			}
			if got := clock.Waits(); !equalDurations(got, tt.wantWaits) {
				t.Errorf("waits = %v, want %v: Execute must return without the refused wait", got, tt.wantWaits)
			}
			if !errors.Is(err, ErrDeadline) || !errors.Is(err, tt.err) {
				t.Fatalf("Execute = %v, want ErrDeadline around the last error", err)
			}
			var gu *GiveUpError
			if !errors.As(err, &gu) || gu.Reason != StopDeadline || gu.Delay != tt.wantDelay || gu.Attempts != tt.wantAttempts {
				t.Errorf("GiveUpError = %+v, want delay %s", gu, tt.wantDelay)
			}
			if want := fmt.Sprintf("next delay %s would pass the context deadline", tt.wantDelay); !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not say %q", err, want)
			}
			// 10 floor tokens; only the retries made may have used any.
			if got, want := budget.Available(), 10+0.1*1-float64(tt.wantAttempts-1); got != want {
				t.Errorf("budget has %v tokens, want %v: the refused retry must not use one", got, want)
			}
			if st := rec.onlyStop(t); st.Reason != StopDeadline {
				t.Errorf("stop reason %s, want deadline", st.Reason)
			}
		})
	}
}

func TestExecuteStopsWhenContextCanceledDuringWait(t *testing.T) {
	clock := newClock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := failing(errReset, 100)
	var rec recorder
	done := make(chan error, 1)
	go func() {
		_, err := Execute(ctx, newPolicy(t, "", Config{}, WithClock(clock), WithObserver(&rec)), s.fn)
		done <- err
	}()
	clock.AwaitTimer(t)
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Execute did not return within 10s of the cancellation")
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("Execute = %v, want it to match context.Canceled and the last error", err)
	}
	if errors.Is(err, ErrExhausted) {
		t.Error("a cancelled wait is not exhaustion")
	}
	var gu *GiveUpError
	if !errors.As(err, &gu) || gu.Reason != StopContextDone || gu.Attempts != 1 {
		t.Errorf("GiveUpError = %+v", gu)
	}
	if want := "retry: gave up after 1 attempt: context canceled: openai: connection reset by peer"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if n := s.calls.Load(); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
	if len(clock.Waits()) != 1 || clock.Pending() != 0 {
		t.Error("the timer of the abandoned wait was not stopped")
	}
	if st := rec.onlyStop(t); st.Reason != StopContextDone {
		t.Errorf("stop reason %s, want context_done", st.Reason)
	}
}

func TestExecuteCallerContextVersusAttemptTimeout(t *testing.T) {
	expired, cancelExpired := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancelExpired()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	unavailable := &HTTPError{Code: 503}
	tests := []struct {
		name      string
		ctx       context.Context
		errs      []error
		wantCalls int
		wantErr   []error // errors.Is targets; nil means success
	}{
		{"per-attempt timeout is retried", context.Background(), []error{context.DeadlineExceeded}, 2, nil},
		{"caller's deadline passed", expired, []error{expired.Err()}, 1, []error{context.DeadlineExceeded}},
		{"caller cancelled, retryable error", canceled, []error{unavailable}, 1, []error{context.Canceled, unavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{errs: tt.errs}
			_, err := Execute(tt.ctx, newPolicy(t, "", Config{}, WithClock(newAutoClock())), s.fn)
			if got := int(s.calls.Load()); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Errorf("Execute = %v, want success", err)
				}
				return
			}
			for _, target := range tt.wantErr {
				if !errors.Is(err, target) {
					t.Errorf("Execute = %v, does not match %v", err, target)
				}
			}
			var gu *GiveUpError
			if !errors.As(err, &gu) || gu.Reason != StopContextDone {
				t.Errorf("GiveUpError = %+v, want reason context_done", gu)
			}
		})
	}
}

func TestExecuteStopsWhenBudgetIsEmpty(t *testing.T) {
	clock := newAutoClock()
	budget, err := NewBudget(BudgetConfig{Ratio: 1, MinRetriesPerSecond: NoMinRetries}, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	p := newPolicy(t, "", Config{MaxRetries: 5, Jitter: JitterFull}, WithBudget(budget), WithClock(clock), WithRand(fixedRand(0)), WithObserver(&rec))
	s := failing(errReset, 100)
	_, err = Execute(context.Background(), p, s.fn)
	// The first attempt deposits one token, which pays for one retry.
	if n := s.calls.Load(); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
	if !errors.Is(err, ErrBudgetExhausted) || !errors.Is(err, syscall.ECONNRESET) || errors.Is(err, ErrExhausted) {
		t.Errorf("Execute = %v, want ErrBudgetExhausted around the last error", err)
	}
	if want := "retry: retry budget exhausted after 2 attempts: openai: connection reset by peer"; err == nil || err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if st := rec.onlyStop(t); st.Reason != StopBudgetExhausted || st.Attempts != 2 {
		t.Errorf("stop event = %+v", st)
	}
}

func TestExecuteLogsRetries(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	p := newPolicy(t, "anthropic", Config{MaxRetries: 2, Jitter: JitterNone}, WithClock(newAutoClock()), WithLogger(logger))
	s := failing(&HTTPError{Code: 529, Status: "529"}, 100)
	if _, err := Execute(context.Background(), p, s.fn); !errors.Is(err, ErrExhausted) {
		t.Fatalf("Execute = %v, want exhaustion", err)
	}
	type line struct {
		Level    string
		Msg      string
		Upstream string
		Attempt  int
		Attempts int
		Delay    int64
		Reason   string
		Error    string
	}
	var lines []line
	for _, raw := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var l line
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		lines = append(lines, l)
	}
	want := []line{
		{"WARN", "[RETRY] retrying after a failed attempt", "anthropic", 1, 0, int64(time.Second), "", "retry: HTTP status 529"},
		{"WARN", "[RETRY] retrying after a failed attempt", "anthropic", 2, 0, int64(2 * time.Second), "", "retry: HTTP status 529"},
		{"WARN", "[RETRY] giving up", "anthropic", 0, 3, 0, "exhausted", "retry: HTTP status 529"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d log lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("log line %d = %+v, want %+v", i, lines[i], want[i])
		}
	}

	buf.Reset()
	if _, err := Execute(context.Background(), p, (&script{}).fn); err != nil || buf.Len() != 0 {
		t.Errorf("a success logged %q (err %v), want nothing", buf.String(), err)
	}
}

func TestPolicyDo(t *testing.T) {
	notFound := &HTTPError{Code: 404}
	tests := []struct {
		name      string
		errs      []error
		wantCalls int
		check     func(error) bool
	}{
		{"success", nil, 1, func(err error) bool { return err == nil }},
		{"retried then success", []error{errReset}, 2, func(err error) bool { return err == nil }},
		{"not retryable", []error{notFound}, 1, func(err error) bool { return err == notFound }},
		{"exhausted", []error{errReset, errReset, errReset, errReset}, 4, func(err error) bool { return errors.Is(err, ErrExhausted) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{errs: tt.errs}
			err := newPolicy(t, "", Config{}, WithClock(newAutoClock())).Do(context.Background(), func(ctx context.Context) error {
				_, err := s.fn(ctx)
				return err
			})
			if !tt.check(err) || int(s.calls.Load()) != tt.wantCalls {
				t.Errorf("Do = %v after %d calls", err, s.calls.Load())
			}
		})
	}
}

// TestExecuteSharedPolicyConcurrently runs many calls through one Policy
// and one Budget (under -race); waits are zero so the shared clock stands
// still.
func TestExecuteSharedPolicyConcurrently(t *testing.T) {
	const calls = 320
	clock := newAutoClock()
	budget, err := NewBudget(BudgetConfig{}, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	var retries retryCounter
	p := newPolicy(t, "", Config{Jitter: JitterFull}, WithBudget(budget), WithClock(clock), WithRand(fixedRand(0)), WithObserver(&retries))
	var succeeded, refused atomic.Int64
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			s := &script{errs: []error{errReset}}
			_, err := Execute(context.Background(), p, s.fn)
			switch {
			case err == nil && s.calls.Load() == 2:
				succeeded.Add(1)
			case errors.Is(err, ErrBudgetExhausted) && s.calls.Load() == 1:
				refused.Add(1)
			default:
				t.Errorf("unexpected outcome: %v after %d calls", err, s.calls.Load())
			}
		})
	}
	wg.Wait()
	if succeeded.Load()+refused.Load() != calls {
		t.Fatalf("%d succeeded + %d refused, want %d in all", succeeded.Load(), refused.Load(), calls)
	}
	if retries.Load() != succeeded.Load() {
		t.Errorf("%d retries reported for %d retried successes", retries.Load(), succeeded.Load())
	}
	// The floor grants 10; deposits at most 0.1 × 320 = 32 more.
	if got := succeeded.Load(); got < 10 || got > 42 {
		t.Errorf("%d retries granted, want between 10 and 42", got)
	}
}

func TestLoggerRedactsURLSecrets(t *testing.T) {
	var logs strings.Builder
	p := newPolicy(t, "", Config{MaxRetries: 1}, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))), WithClock(newAutoClock()), WithRand(func() float64 { return 0.5 }))
	err := p.Do(context.Background(), func(context.Context) error {
		return &url.Error{Op: "Get", URL: "https://api.nal.usda.gov/fdc/v1/foods/search?api_key=SECRET", Err: syscall.ECONNREFUSED}
	})
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(logs.String(), "SECRET") || !strings.Contains(logs.String(), "[RETRY]") {
		t.Fatalf("logs:\n%s", logs.String())
	}
}

// A retry whose next attempt BeforeWait blocks (a breaker still open when
// the wait would end) stops at once: no wait, no further attempt, and the
// error says both why the attempt failed and why no other was tried.
func TestBeforeWaitStopsWithoutWaiting(t *testing.T) {
	clock := newAutoClock()
	open := fmt.Errorf("breaker usda: %w", dbreaker.ErrOpen)
	var asked []time.Duration
	p := newPolicy(t, "", Config{MaxRetries: 3, Jitter: JitterNone}, WithClock(clock), WithBeforeWait(func(_ context.Context, d time.Duration) error {
		asked = append(asked, d)
		if len(asked) == 2 {
			return open
		}
		return nil
	}))
	s := failing(syscall.ECONNRESET, 10)
	_, err := Execute(context.Background(), p, s.fn)
	if got := s.calls.Load(); got != 2 {
		t.Fatalf("%d attempts, want 2: the third was blocked", got)
	}
	if w := clock.Waits(); len(w) != 1 || w[0] != time.Second {
		t.Fatalf("waits %v, want only the first retry's 1s", w)
	}
	if len(asked) != 2 || asked[1] != 2*time.Second {
		t.Fatalf("BeforeWait asked about %v, want [1s 2s]", asked)
	}
	var ge *GiveUpError
	if !errors.As(err, &ge) || ge.Reason != StopBlocked || ge.Attempts != 2 || ge.Delay != 2*time.Second {
		t.Fatalf("error %#v, want a StopBlocked give-up after 2 attempts", err)
	}
	if !errors.Is(err, ErrBlocked) || !errors.Is(err, dbreaker.ErrOpen) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("error %v: want it to match ErrBlocked, the breaker's ErrOpen and the attempt's error", err)
	}
	if ge.Reason.String() != "blocked" {
		t.Fatalf("reason %q", ge.Reason)
	}
}

// retryCounter is an Observer that counts retries.
type retryCounter struct {
	NopObserver
	n atomic.Int64
}

func (c *retryCounter) OnRetry(context.Context, RetryEvent) { c.n.Add(1) }
func (c *retryCounter) Load() int64                         { return c.n.Load() }
