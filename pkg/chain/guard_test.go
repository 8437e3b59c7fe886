package chain_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/retry"
)

var err503 = &retry.HTTPError{Code: 503, Status: "503 Service Unavailable"}

// guardKit is a Guard on a MemoryStore breaker, with fake clocks for the
// breaker and the retry.
type guardKit struct {
	clock      *clocktest.Clock
	retryClock *clocktest.Clock
	breaker    *dbreaker.Breaker
	rec        *recorder
	ev         *events
	guard      *chain.Guard
}

// newGuardKit builds a Guard with a breaker (unless noBreaker) and a retry
// policy of maxRetries retries; the policy's OnRetry logs "retry" into the
// kit's events.
func newGuardKit(t *testing.T, maxRetries int, noBreaker bool) *guardKit {
	t.Helper()
	k := &guardKit{
		clock:      clocktest.New(start),
		retryClock: newRetryClock(),
		rec:        &recorder{},
		ev:         &events{},
	}
	cfg := chain.GuardConfig{
		AttemptTimeout: 5 * time.Second,
		Retry: newPolicy(t, "usda", retry.Config{MaxRetries: maxRetries, BaseDelay: time.Second},
			retry.WithClock(k.retryClock), retry.WithObserver(retryEvents{ev: k.ev})),
	}
	if !noBreaker {
		b, err := dbreaker.New("usda", memStore(t, dbreaker.WithClock(k.clock)), dbreaker.Config{},
			dbreaker.WithClock(k.clock), dbreaker.WithLogger(discardLogger()),
			dbreaker.WithObserver(breakerEvents{ev: k.ev}))
		if err != nil {
			t.Fatal(err)
		}
		k.breaker, cfg.Breaker = b, b
	}
	g, err := chain.NewGuard("usda", cfg, chain.WithObserver(k.rec), chain.WithClock(k.clock))
	if err != nil {
		t.Fatal(err)
	}
	k.guard = g
	return k
}

func TestGuardComposition(t *testing.T) {
	tests := []struct {
		name       string
		results    []error // what the call returns, attempt by attempt (nil: success)
		noBreaker  bool
		wantCode   int // the HTTP status of the error returned; 0: success
		wantEvents []string
		wantStatus []string
	}{
		{
			name:       "each attempt passes the breaker, inside the retry",
			results:    []error{err503, err503, nil},
			wantEvents: []string{"call", "breaker:failure", "retry", "call", "breaker:failure", "retry", "call", "breaker:success"},
			wantStatus: []string{"503", "503", "success"},
		},
		{
			name:       "a final error is not retried but still counts",
			results:    []error{&retry.HTTPError{Code: 400, Status: "400 Bad Request"}},
			wantCode:   400,
			wantEvents: []string{"call", "breaker:failure"},
			wantStatus: []string{"400"},
		},
		{
			name:       "nil breaker: straight to the call, retries unchanged",
			results:    []error{err503, nil},
			noBreaker:  true,
			wantEvents: []string{"call", "retry", "call"},
			wantStatus: []string{"503", "success"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newGuardKit(t, 5, tt.noBreaker)
			var n atomic.Int32
			before := time.Now()
			got, err := chain.Execute(context.Background(), k.guard, func(ctx context.Context) (string, error) {
				k.ev.add("call")
				// The per-attempt timeout is applied inside the breaker,
				// around the call alone.
				deadline, ok := ctx.Deadline()
				if !ok || deadline.Before(before.Add(5*time.Second)) || deadline.After(time.Now().Add(5*time.Second)) {
					t.Errorf("call context deadline %v (set %v), want now + AttemptTimeout (5s)", deadline, ok)
				}
				if e := tt.results[n.Add(1)-1]; e != nil {
					return "", e
				}
				return "apple", nil
			})
			var he *retry.HTTPError
			switch {
			case tt.wantCode == 0 && (err != nil || got != "apple"):
				t.Errorf("Execute = %q, %v; want apple", got, err)
			case tt.wantCode != 0 && (!errors.As(err, &he) || he.Code != tt.wantCode):
				t.Errorf("err = %v, want HTTP status %d", err, tt.wantCode)
			}
			if ev := k.ev.get(); !slices.Equal(ev, tt.wantEvents) {
				t.Errorf("events\n got %v\nwant %v", ev, tt.wantEvents)
			}
			if st := k.rec.statuses(); !slices.Equal(st, tt.wantStatus) {
				t.Errorf("recorded statuses %v, want %v", st, tt.wantStatus)
			}
			if k.rec.retryCount() != len(tt.wantStatus)-1 {
				t.Errorf("recorded %d retries, want %d", k.rec.retryCount(), len(tt.wantStatus)-1)
			}
		})
	}
}

func TestGuardAttemptTimeoutIsRetried(t *testing.T) {
	k := newGuardKit(t, 3, false)
	g, err := chain.NewGuard("usda", chain.GuardConfig{
		Breaker: k.breaker, AttemptTimeout: 5 * time.Millisecond,
		Retry: newPolicy(t, "usda", retry.Config{MaxRetries: 3}, retry.WithClock(k.retryClock)),
	}, chain.WithObserver(k.rec))
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	got, err := chain.Execute(context.Background(), g, func(ctx context.Context) (int, error) {
		if n.Add(1) == 1 {
			<-ctx.Done() // the first attempt hangs until its timeout
			return 0, ctx.Err()
		}
		return 7, nil
	})
	if err != nil || got != 7 {
		t.Fatalf("Execute = %d, %v; want 7 after one timed-out attempt", got, err)
	}
	if ev := k.ev.get(); !slices.Equal(ev, []string{"breaker:failure", "breaker:success"}) {
		t.Errorf("breaker saw %v, want the timeout as a failure, then a success", ev)
	}
	if st := k.rec.statuses(); !slices.Equal(st, []string{"timeout", "success"}) {
		t.Errorf("recorded %v, want [timeout success]", st)
	}
	k.rec.mu.Lock()
	first := k.rec.attempts[0].Err
	k.rec.mu.Unlock()
	if !errors.Is(first, context.DeadlineExceeded) || !strings.Contains(first.Error(), "usda: attempt timed out after 5ms") {
		t.Errorf("first attempt's error %v: want DeadlineExceeded naming the attempt timeout", first)
	}
}

func TestGuardOutageOpensBreakerAfterFiveAttemptsThenStops(t *testing.T) {
	k := newGuardKit(t, 10, false)
	var calls atomic.Int32
	err := k.guard.Do(context.Background(), func(context.Context) error {
		calls.Add(1)
		return err503
	})
	if !errors.Is(err, dbreaker.ErrOpen) {
		t.Fatalf("err = %v, want the open breaker's rejection", err)
	}
	if calls.Load() != 5 {
		t.Errorf("%d calls reached the upstream, want exactly 5 (the failure threshold)", calls.Load())
	}
	// One wait after each of the first four failures; the fifth tripped
	// the breaker, which stays open far longer than the next wait, so the
	// retry stopped at once instead of waiting to be rejected.
	if w := k.retryClock.Waits(); len(w) != 4 {
		t.Errorf("retry waited %d times (%v), want 4", len(w), w)
	}
	want := []string{"503", "503", "503", "503", "503"}
	if st := k.rec.statuses(); !slices.Equal(st, want) {
		t.Errorf("recorded %v, want %v", st, want)
	}
	if !errors.Is(err, retry.ErrBlocked) || !errors.Is(err, err503) {
		t.Errorf("err = %v, want a blocked retry that still names the last failure", err)
	}
}

// A breaker that will be open for less than the next wait does not stop
// the retry: after the wait a probe may go through.
func TestGuardRetriesWhenTheBreakerReopensBeforeTheWaitEnds(t *testing.T) {
	// One clock for the breaker and the retry: the retry's wait moves the
	// breaker's time along.
	clock := newRetryClock()
	var calls atomic.Int32
	b, err := dbreaker.New("short", memStore(t, dbreaker.WithClock(clock)), dbreaker.Config{FailureThreshold: 1, OpenTimeout: 500 * time.Millisecond},
		dbreaker.WithClock(clock), dbreaker.WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	g, err := chain.NewGuard("short", chain.GuardConfig{Breaker: b, AttemptTimeout: time.Second,
		Retry: newPolicy(t, "short", retry.Config{MaxRetries: 1, BaseDelay: time.Second, JitterFraction: 0, Jitter: retry.JitterNone}, retry.WithClock(clock))},
		chain.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	err = g.Do(context.Background(), func(context.Context) error {
		if calls.Add(1) == 1 {
			return err503
		}
		return nil
	})
	if err != nil || calls.Load() != 2 {
		t.Fatalf("err = %v after %d calls; want the second attempt, a probe after the 1s wait, to succeed", err, calls.Load())
	}
}

func TestGuardRejectionStopsRetryWithoutSleeping(t *testing.T) {
	tests := []struct {
		name string
		open func(context.Context, *dbreaker.Breaker) error
		want error
	}{
		{
			name: "forced open",
			open: func(ctx context.Context, b *dbreaker.Breaker) error { _, err := b.ForceOpen(ctx); return err },
			want: dbreaker.ErrForcedOpen,
		},
		{
			name: "tripped by five failures",
			open: func(ctx context.Context, b *dbreaker.Breaker) error {
				for range dbreaker.DefaultFailureThreshold {
					_ = b.Do(ctx, func(context.Context) error { return err503 })
				}
				if s, err := b.State(ctx); err != nil || s.State != dbreaker.Open {
					return fmt.Errorf("breaker state %v (%v), want open", s.State, err)
				}
				return nil
			},
			want: dbreaker.ErrOpen,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newGuardKit(t, 10, false)
			if err := tt.open(context.Background(), k.breaker); err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			err := k.guard.Do(context.Background(), func(context.Context) error {
				calls.Add(1)
				return nil
			})
			if !errors.Is(err, tt.want) || !dbreaker.IsRejected(err) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if calls.Load() != 0 || len(k.retryClock.Waits()) != 0 || k.rec.retryCount() != 0 {
				t.Errorf("calls %d, waits %v, retries %d: want none", calls.Load(), k.retryClock.Waits(), k.rec.retryCount())
			}
			k.rec.mu.Lock()
			defer k.rec.mu.Unlock()
			if len(k.rec.attempts) != 1 || k.rec.attempts[0].Called || k.rec.attempts[0].ErrorType != "rejected" || k.rec.attempts[0].Duration != 0 {
				t.Errorf("attempts %+v, want one rejected attempt that made no call", k.rec.attempts)
			}
		})
	}
}

func TestNewGuardChecksConfig(t *testing.T) {
	breaker := func(lease, store time.Duration) *dbreaker.Breaker {
		b, err := dbreaker.New("openai", memStore(t), dbreaker.Config{ProbeLease: lease, StoreTimeout: store})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name  string
		guard string
		cfg   chain.GuardConfig
		want  []string // substrings of the error; none: valid
	}{
		{"valid", "openai", chain.GuardConfig{Breaker: breaker(30*time.Second, 0), AttemptTimeout: 20 * time.Second}, nil},
		{"lease just long enough", "openai", chain.GuardConfig{Breaker: breaker(time.Second, 50*time.Millisecond), AttemptTimeout: 899 * time.Millisecond}, nil},
		{"no breaker, no timeout", "openai", chain.GuardConfig{}, nil},
		{
			"lease equal to the attempt timeout",
			"openai", chain.GuardConfig{Breaker: breaker(30*time.Second, 0), AttemptTimeout: 30 * time.Second},
			[]string{`chain: invalid AttemptTimeout = 30s: NewGuard("openai")`, "ProbeLease 30s", "AttemptTimeout 30s", "StoreTimeout 50ms"},
		},
		{
			"lease shorter than the attempt timeout",
			"openai", chain.GuardConfig{Breaker: breaker(10*time.Second, 0), AttemptTimeout: time.Minute},
			[]string{"ProbeLease 10s", "AttemptTimeout 1m0s"},
		},
		{
			"no room for the store round trips",
			"openai", chain.GuardConfig{Breaker: breaker(time.Second, 50*time.Millisecond), AttemptTimeout: 900 * time.Millisecond},
			[]string{"ProbeLease 1s", "AttemptTimeout 900ms"},
		},
		{
			"breaker without an attempt timeout",
			"openai", chain.GuardConfig{Breaker: breaker(30*time.Second, 0)},
			[]string{"invalid AttemptTimeout = 0s", "ProbeLease 30s"},
		},
		{"negative attempt timeout", "openai", chain.GuardConfig{AttemptTimeout: -time.Second}, []string{"invalid AttemptTimeout = -1s", "negative"}},
		{"empty name", "", chain.GuardConfig{}, []string{"chain: invalid Name", "NewGuard"}},
		{"name with braces", "{x}", chain.GuardConfig{}, []string{"invalid Name"}},
		{"classifier without a breaker", "openai", chain.GuardConfig{Classify: dbreaker.DefaultClassify}, nil},
		{
			"classifier next to a breaker",
			"openai", chain.GuardConfig{Breaker: breaker(30*time.Second, 0), AttemptTimeout: 20 * time.Second, Classify: dbreaker.DefaultClassify},
			[]string{"invalid Classify", "dbreaker.Config"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := chain.NewGuard(tt.guard, tt.cfg)
			if len(tt.want) == 0 {
				if err != nil || g == nil {
					t.Fatalf("NewGuard: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("NewGuard accepted the config")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// A Guard takes the options of Guards only.
	if _, err := chain.NewGuard("openai", chain.GuardConfig{}, chain.WithTimeout(time.Second)); err == nil || !strings.Contains(err.Error(), "NewGuard does not take it") {
		t.Errorf("NewGuard with a chain's timeout: %v, want an error naming WithTimeout", err)
	}
	// A Guard takes a built retry policy: an invalid one never reaches it.
	if _, err := retry.New("openai", retry.Config{MaxRetries: -5}); err == nil || !strings.Contains(err.Error(), "MaxRetries") {
		t.Errorf("an invalid retry policy: %v, want an error naming MaxRetries", err)
	}
}

func TestGuardNilRetryMakesOneAttempt(t *testing.T) {
	g, err := chain.NewGuard("usda", chain.GuardConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	err = g.Do(context.Background(), func(context.Context) error { calls.Add(1); return err503 })
	if !errors.Is(err, err503) || calls.Load() != 1 {
		t.Errorf("err %v after %d calls, want the 503 after one call", err, calls.Load())
	}
}

func TestGuardDoesNotChangeTheCallersPolicy(t *testing.T) {
	p := newPolicy(t, "", retry.Config{MaxRetries: 1}, retry.WithClock(newRetryClock()))
	rec := &recorder{}
	if _, err := chain.NewGuard("usda", chain.GuardConfig{Retry: p}, chain.WithObserver(rec)); err != nil {
		t.Fatal(err)
	}
	_ = p.Do(context.Background(), func(context.Context) error { return err503 }) // retried once
	if p.Name() != "" || rec.retryCount() != 0 {
		t.Errorf("NewGuard changed the caller's policy: Name %q, the Guard's observer saw %d retries", p.Name(), rec.retryCount())
	}
}

func TestGuardPanicCountsAsFailure(t *testing.T) {
	k := newGuardKit(t, 3, false)
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want the call's panic re-raised", r)
		}
		if ev := k.ev.get(); !slices.Equal(ev, []string{"breaker:failure"}) {
			t.Errorf("breaker saw %v, want one failure", ev)
		}
	}()
	_ = k.guard.Do(context.Background(), func(context.Context) error { panic("boom") })
}

func TestGuardNilArguments(t *testing.T) {
	g, err := chain.NewGuard("usda", chain.GuardConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Do(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "nil function") {
		t.Errorf("Do(nil) = %v, want a nil function error", err)
	}
	if _, err := chain.Execute[int](context.Background(), nil, func(context.Context) (int, error) { return 1, nil }); err == nil || !strings.Contains(err.Error(), "nil Guard") {
		t.Errorf("Execute(nil guard) = %v, want a nil Guard error", err)
	}
	if _, err := chain.New("text", []chain.Step[int]{chain.GuardedStep[int](nil, nil)}); err == nil {
		t.Error("New accepted the step of a nil Guard")
	}
}

func TestGuardedStepIsNamedAfterTheGuard(t *testing.T) {
	k := newGuardKit(t, 0, false)
	s := chain.GuardedStep(k.guard, func(context.Context) (string, error) { return "x", nil })
	if s.Name != "usda" || s.Degraded || s.Timeout != 0 {
		t.Errorf("step %+v, want named usda, not degraded, no timeout", s)
	}
	c, err := chain.New("nutrition", []chain.Step[string]{s})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute(context.Background())
	if err != nil || res.Value != "x" || res.Step != "usda" {
		t.Errorf("Execute = %+v, %v", res, err)
	}
	if ev := k.ev.get(); !slices.Equal(ev, []string{"breaker:success"}) {
		t.Errorf("breaker saw %v, want the step's call", ev)
	}
}

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

// rejection returns what a breaker forced open returns.
func rejection(t *testing.T) error {
	t.Helper()
	b, err := dbreaker.New("openai", memStore(t), dbreaker.Config{}, dbreaker.WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ForceOpen(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = b.Allow(context.Background())
	if err == nil {
		t.Fatal("a breaker forced open admitted a call")
	}
	return err
}

func TestLabels(t *testing.T) {
	tests := []struct {
		name           string
		err            error
		status, errTyp string
	}{
		{"success", nil, "success", ""},
		{"503", err503, "503", "http_5xx"},
		{"529 wrapped", fmt.Errorf("anthropic: %w", &retry.HTTPError{Code: 529}), "529", "http_5xx"},
		{"429", &retry.HTTPError{Code: 429}, "429", "http_4xx"},
		{"304", &retry.HTTPError{Code: 304}, "304", "http_other"},
		{"rejected", rejection(t), "rejected", "rejected"},
		{"rejected sentinel", fmt.Errorf("x: %w", dbreaker.ErrTooManyProbes), "rejected", "rejected"},
		{"store unavailable", fmt.Errorf("%w: boom", dbreaker.ErrStoreUnavailable), "store_unavailable", "store_unavailable"},
		{"canceled", context.Canceled, "canceled", "canceled"},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), "timeout", "timeout"},
		{"net timeout", &url.Error{Op: "Get", URL: "http://h/", Err: timeoutErr{}}, "timeout", "timeout"},
		{"refused", &url.Error{Op: "Get", URL: "http://h/", Err: syscall.ECONNREFUSED}, "connection", "connection"},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), "connection", "connection"},
		{"cut short", io.ErrUnexpectedEOF, "connection", "connection"},
		{"other", errors.New("malformed JSON"), "other", "other"},
		{"bad response", fmt.Errorf("openai: %w", badResponse{true}), "bad_response", "bad_response"},
		{"a BadResponse method saying no", badResponse{false}, "other", "other"},
		{"a bad response with a status is its status", fmt.Errorf("%w: %w", badResponse{true}, &retry.HTTPError{Code: 502}), "502", "http_5xx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, errType := chain.Labels(tt.err)
			if status != tt.status || errType != tt.errTyp {
				t.Errorf("Classify = %q, %q; want %q, %q", status, errType, tt.status, tt.errTyp)
			}
		})
	}
}

// badResponse is an answer with a success status that is not what was
// asked for, when bad is true.
type badResponse struct{ bad bool }

func (e badResponse) Error() string     { return "the model answered prose, not the JSON asked for" }
func (e badResponse) BadResponse() bool { return e.bad }

// errNoFood stands for an answer that is an error to the caller but no
// failure of the upstream ("no such food").
var errNoFood = errors.New("no such food")

func countNoFoodAsSuccess(err error) dbreaker.Outcome {
	if errors.Is(err, errNoFood) {
		return dbreaker.Success
	}
	return dbreaker.DefaultClassify(err)
}

// The observer counts as failures exactly what the breaker counts: an
// answer the classifier calls a success is no failure, with or without a
// breaker.
func TestGuardRecordsFailuresAsTheClassifierCountsThem(t *testing.T) {
	tests := []struct {
		name              string
		err               error
		status, errorType string
		breakerResult     string
	}{
		{"an answer without a status code", fmt.Errorf("openai: %w", errNoFood), "success", "", "success"},
		{"an answer with a status code", &codedErr{code: 404, err: errNoFood}, "404", "", "success"},
		{"the caller's cancellation", fmt.Errorf("read: %w", context.Canceled), "canceled", "", "ignored"},
		{"a failure", err503, "503", "http_5xx", "failure"},
		{"a failure without a status code", errors.New("malformed JSON"), "other", "other", "failure"},
	}
	for _, withBreaker := range []bool{true, false} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/breaker=%v", tt.name, withBreaker), func(t *testing.T) {
				rec, ev := &recorder{}, &events{}
				cfg := chain.GuardConfig{AttemptTimeout: time.Second}
				if withBreaker {
					b, err := dbreaker.New("openai", memStore(t), dbreaker.Config{Classify: countNoFoodAsSuccess},
						dbreaker.WithLogger(discardLogger()), dbreaker.WithObserver(breakerEvents{ev: ev}))
					if err != nil {
						t.Fatal(err)
					}
					cfg.Breaker = b
				} else {
					cfg.Classify = countNoFoodAsSuccess
				}
				g, err := chain.NewGuard("openai", cfg, chain.WithObserver(rec))
				if err != nil {
					t.Fatal(err)
				}
				if err := g.Do(context.Background(), func(context.Context) error { return tt.err }); !errors.Is(err, tt.err) {
					t.Fatalf("Do = %v, want %v", err, tt.err)
				}
				if len(rec.attempts) != 1 || rec.attempts[0].Status != tt.status || rec.attempts[0].ErrorType != tt.errorType {
					t.Fatalf("recorded %+v, want status %q, error type %q", rec.attempts, tt.status, tt.errorType)
				}
				if got := ev.get(); withBreaker && !slices.Equal(got, []string{"breaker:" + tt.breakerResult}) {
					t.Errorf("breaker saw %v, want %s", got, tt.breakerResult)
				}
			})
		}
	}
}

// codedErr is an error with an HTTP status code.
type codedErr struct {
	code int
	err  error
}

func (e *codedErr) Error() string   { return fmt.Sprintf("HTTP %d: %v", e.code, e.err) }
func (e *codedErr) Unwrap() error   { return e.err }
func (e *codedErr) StatusCode() int { return e.code }

func TestGuardMakesNoAttemptForADoneContext(t *testing.T) {
	k := newGuardKit(t, 3, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var calls atomic.Int32
	err := k.guard.Do(ctx, func(context.Context) error { calls.Add(1); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if calls.Load() != 0 || len(k.ev.get()) != 0 || len(k.rec.statuses()) != 0 {
		t.Errorf("calls %d, breaker events %v, attempts %v: want none", calls.Load(), k.ev.get(), k.rec.statuses())
	}
	if st := k.breaker.Stats(); st.StoreErrors != 0 {
		t.Errorf("%d store errors, want 0", st.StoreErrors)
	}
}
