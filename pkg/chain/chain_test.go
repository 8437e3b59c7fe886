package chain_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/retry"
)

// stepKit builds steps that log their calls.
type stepKit struct{ calls events }

// ok returns a step that serves value.
func (k *stepKit) ok(name, value string) chain.Step[string] {
	return chain.Step[string]{Name: name, Fn: func(context.Context) (string, error) {
		k.calls.add(name)
		return value, nil
	}}
}

// fail returns a step that fails with err.
func (k *stepKit) fail(name string, err error) chain.Step[string] {
	return chain.Step[string]{Name: name, Fn: func(context.Context) (string, error) {
		k.calls.add(name)
		return "", err
	}}
}

// block returns a step that waits until its context is done.
func (k *stepKit) block(name string) chain.Step[string] {
	return chain.Step[string]{Name: name, Fn: func(ctx context.Context) (string, error) {
		k.calls.add(name)
		<-ctx.Done()
		return "", ctx.Err()
	}}
}

// cancelCaller returns a step that cancels the caller's context, as a user
// who leaves would, and returns what its context then says.
func (k *stepKit) cancelCaller(name string, cancel context.CancelFunc) chain.Step[string] {
	return chain.Step[string]{Name: name, Fn: func(ctx context.Context) (string, error) {
		k.calls.add(name)
		cancel()
		<-ctx.Done()
		return "", ctx.Err()
	}}
}

var (
	errA = errors.New("anthropic said 529")
	errB = errors.New("openai said 503")
	errC = errors.New("cache miss")
)

func TestChainRun(t *testing.T) {
	type env struct {
		k      *stepKit
		cancel context.CancelFunc
	}
	tests := []struct {
		name  string
		steps func(e env) []chain.Step[string]
		opts  []chain.Option
		// ctx returns the caller's context; nil: a cancellable Background.
		ctx   func() (context.Context, context.CancelFunc)
		calls []string
		// want* apply when the chain serves.
		wantValue    string
		wantStep     string
		wantIndex    int
		wantDegraded bool
		wantFailed   []string // steps listed in Result.Failures
		// checkErr applies when the chain fails.
		checkErr func(t *testing.T, err error)
	}{
		{
			name: "first step wins",
			steps: func(e env) []chain.Step[string] {
				return []chain.Step[string]{e.k.ok("anthropic", "A"), e.k.ok("openai", "B"), e.k.ok("cache", "C")}
			},
			calls:     []string{"anthropic"},
			wantValue: "A", wantStep: "anthropic", wantIndex: 0,
		},
		{
			name: "falls through to the second step",
			steps: func(e env) []chain.Step[string] {
				return []chain.Step[string]{e.k.fail("anthropic", errA), e.k.ok("openai", "B"), e.k.ok("cache", "C")}
			},
			calls:     []string{"anthropic", "openai"},
			wantValue: "B", wantStep: "openai", wantIndex: 1, wantDegraded: true,
			wantFailed: []string{"anthropic"},
		},
		{
			name: "falls through to the last step",
			steps: func(e env) []chain.Step[string] {
				return []chain.Step[string]{e.k.fail("anthropic", errA), e.k.fail("openai", errB), e.k.ok("cache", "C")}
			},
			calls:     []string{"anthropic", "openai", "cache"},
			wantValue: "C", wantStep: "cache", wantIndex: 2, wantDegraded: true,
			wantFailed: []string{"anthropic", "openai"},
		},
		{
			name: "a first step flagged degraded is degraded",
			steps: func(e env) []chain.Step[string] {
				mock := e.k.ok("mock_vision", "estimated: 300 kcal")
				mock.Degraded = true
				return []chain.Step[string]{mock}
			},
			calls:     []string{"mock_vision"},
			wantValue: "estimated: 300 kcal", wantStep: "mock_vision", wantIndex: 0, wantDegraded: true,
		},
		{
			name: "every step fails: one error naming each",
			steps: func(e env) []chain.Step[string] {
				return []chain.Step[string]{e.k.fail("anthropic", errA), e.k.fail("openai", errB), e.k.fail("cache", errC)}
			},
			calls: []string{"anthropic", "openai", "cache"},
			checkErr: func(t *testing.T, err error) {
				want := `chain: every step of "text" failed: anthropic: anthropic said 529; openai: openai said 503; cache: cache miss`
				if err.Error() != want {
					t.Errorf("error\n got %q\nwant %q", err, want)
				}
				for _, target := range []error{errA, errB, errC, chain.ErrAllFailed} {
					if !errors.Is(err, target) {
						t.Errorf("errors.Is(err, %v) = false", target)
					}
				}
				if errors.Is(err, chain.ErrFinal) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error matches a sentinel of another reason: %v", err)
				}
				var se *chain.StepError
				if !errors.As(err, &se) || se.Step != "anthropic" || se.Index != 0 {
					t.Errorf("errors.As StepError = %+v, want the first step", se)
				}
			},
		},
		{
			name: "a step's own timeout falls through",
			steps: func(e env) []chain.Step[string] {
				slow := e.k.block("anthropic")
				slow.Timeout = 5 * time.Millisecond
				return []chain.Step[string]{slow, e.k.ok("openai", "B")}
			},
			calls:     []string{"anthropic", "openai"},
			wantValue: "B", wantStep: "openai", wantIndex: 1, wantDegraded: true,
			wantFailed: []string{"anthropic"},
		},
		{
			name: "the total deadline stops the chain; later steps are not tried",
			steps: func(e env) []chain.Step[string] {
				return []chain.Step[string]{e.k.block("anthropic"), e.k.ok("openai", "B"), e.k.ok("cache", "C")}
			},
			opts:  []chain.Option{chain.WithTimeout(10 * time.Millisecond)},
			calls: []string{"anthropic"},
			checkErr: func(t *testing.T, err error) {
				var ce *chain.Error
				if !errors.As(err, &ce) || ce.Reason != chain.ReasonDeadline {
					t.Fatalf("err = %v, want a chain.Error with ReasonDeadline", err)
				}
				if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, chain.ErrAllFailed) {
					t.Errorf("errors.Is: DeadlineExceeded %v, ErrAllFailed %v; want true, false",
						errors.Is(err, context.DeadlineExceeded), errors.Is(err, chain.ErrAllFailed))
				}
				if !slices.Equal(ce.NotTried, []string{"openai", "cache"}) || len(ce.Failures) != 1 || ce.Failures[0].Step != "anthropic" {
					t.Errorf("NotTried %v, Failures %v", ce.NotTried, ce.Failures)
				}
				if want := `chain: "text" ran out of time (not tried: openai, cache): anthropic: context deadline exceeded`; err.Error() != want {
					t.Errorf("error\n got %q\nwant %q", err, want)
				}
			},
		},
		{
			name: "no step starts once the caller's deadline has passed",
			steps: func(e env) []chain.Step[string] {
				return []chain.Step[string]{e.k.ok("anthropic", "A"), e.k.ok("openai", "B")}
			},
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			},
			calls: nil,
			checkErr: func(t *testing.T, err error) {
				var ce *chain.Error
				if !errors.As(err, &ce) || ce.Reason != chain.ReasonDeadline || !slices.Equal(ce.NotTried, []string{"anthropic", "openai"}) {
					t.Fatalf("err = %#v, want ReasonDeadline with every step not tried", err)
				}
				if want := `chain: "text" ran out of time (not tried: anthropic, openai): context deadline exceeded`; err.Error() != want {
					t.Errorf("error\n got %q\nwant %q", err, want)
				}
			},
		},
		{
			name: "caller cancellation stops at once and is not a step failure",
			steps: func(e env) []chain.Step[string] {
				return []chain.Step[string]{e.k.cancelCaller("anthropic", e.cancel), e.k.ok("openai", "B")}
			},
			calls: []string{"anthropic"},
			checkErr: func(t *testing.T, err error) {
				var ce *chain.Error
				if !errors.As(err, &ce) || ce.Reason != chain.ReasonCanceled {
					t.Fatalf("err = %v, want ReasonCanceled", err)
				}
				if !errors.Is(err, context.Canceled) || errors.Is(err, chain.ErrAllFailed) {
					t.Errorf("errors.Is: Canceled %v, ErrAllFailed %v", errors.Is(err, context.Canceled), errors.Is(err, chain.ErrAllFailed))
				}
				if len(ce.Failures) != 0 || ce.Interrupted != "anthropic" || !slices.Equal(ce.NotTried, []string{"openai"}) {
					t.Errorf("Failures %v, Interrupted %q, NotTried %v", ce.Failures, ce.Interrupted, ce.NotTried)
				}
			},
		},
		{
			name: "cancellation after a failed step keeps that failure",
			steps: func(e env) []chain.Step[string] {
				return []chain.Step[string]{e.k.fail("anthropic", errA), e.k.cancelCaller("openai", e.cancel), e.k.ok("cache", "C")}
			},
			calls: []string{"anthropic", "openai"},
			checkErr: func(t *testing.T, err error) {
				want := `chain: "text" canceled by the caller during step "openai" (not tried: cache): anthropic: anthropic said 529`
				if err.Error() != want {
					t.Errorf("error\n got %q\nwant %q", err, want)
				}
				if !errors.Is(err, errA) || !errors.Is(err, context.Canceled) {
					t.Errorf("errors.Is(errA) %v, errors.Is(Canceled) %v", errors.Is(err, errA), errors.Is(err, context.Canceled))
				}
			},
		},
		{
			name: "a bad request falls through by default",
			steps: func(e env) []chain.Step[string] {
				return []chain.Step[string]{e.k.fail("anthropic", &retry.HTTPError{Code: 400, Status: "400 Bad Request"}), e.k.ok("openai", "B")}
			},
			calls:     []string{"anthropic", "openai"},
			wantValue: "B", wantStep: "openai", wantIndex: 1, wantDegraded: true,
			wantFailed: []string{"anthropic"},
		},
		{
			name: "WithStopOn stops on a final error",
			steps: func(e env) []chain.Step[string] {
				return []chain.Step[string]{e.k.fail("anthropic", &retry.HTTPError{Code: 400, Status: "400 Bad Request"}), e.k.ok("openai", "B")}
			},
			opts:  []chain.Option{chain.WithStopOn(chain.IsBadRequest)},
			calls: []string{"anthropic"},
			checkErr: func(t *testing.T, err error) {
				var he *retry.HTTPError
				if !errors.Is(err, chain.ErrFinal) || !errors.As(err, &he) || he.Code != 400 {
					t.Errorf("err = %v: want ErrFinal wrapping the 400", err)
				}
				want := `chain: "text" stopped on a final error from step "anthropic" (not tried: openai): anthropic: retry: HTTP status 400 Bad Request`
				if err.Error() != want {
					t.Errorf("error\n got %q\nwant %q", err, want)
				}
			},
		},
		{
			name: "WithStopOn lets other errors fall through",
			steps: func(e env) []chain.Step[string] {
				return []chain.Step[string]{e.k.fail("anthropic", &retry.HTTPError{Code: 401, Status: "401 Unauthorized"}), e.k.ok("openai", "B")}
			},
			opts:      []chain.Option{chain.WithStopOn(chain.IsBadRequest)},
			calls:     []string{"anthropic", "openai"},
			wantValue: "B", wantStep: "openai", wantIndex: 1, wantDegraded: true,
			wantFailed: []string{"anthropic"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			k := &stepKit{}
			opts := append([]chain.Option{chain.WithLogger(discardLogger())}, tt.opts...)
			c, err := chain.New("text", tt.steps(env{k: k, cancel: cancel}), opts...)
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Execute(ctx)
			if got := k.calls.get(); !slices.Equal(got, tt.calls) {
				t.Errorf("steps called %v, want %v", got, tt.calls)
			}
			if tt.checkErr != nil {
				if err == nil {
					t.Fatalf("Execute served %+v, want an error", res)
				}
				tt.checkErr(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if res.Value != tt.wantValue || res.Step != tt.wantStep || res.Index != tt.wantIndex || res.Degraded != tt.wantDegraded {
				t.Errorf("result %+v, want value %q step %q index %d degraded %v", res, tt.wantValue, tt.wantStep, tt.wantIndex, tt.wantDegraded)
			}
			var failed []string
			for _, f := range res.Failures {
				failed = append(failed, f.Step)
			}
			if !slices.Equal(failed, tt.wantFailed) {
				t.Errorf("Failures %v, want %v", failed, tt.wantFailed)
			}
		})
	}
}

func TestStepTimeoutErrorSaysSo(t *testing.T) {
	k := &stepKit{}
	slow := k.block("anthropic")
	slow.Timeout = 3 * time.Millisecond
	c, err := chain.New("text", []chain.Step[string]{slow}, chain.WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Execute(context.Background())
	if err == nil {
		t.Fatal("Execute succeeded, want a timeout")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "anthropic: step timed out after 3ms") {
		t.Errorf("err = %v: want DeadlineExceeded and the step's timeout named", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	fn := func(context.Context) (int, error) { return 1, nil }
	tests := []struct {
		name  string
		chain string
		steps []chain.Step[int]
		opts  []chain.Option
		want  string
	}{
		{"empty name", "", []chain.Step[int]{{Name: "a", Fn: fn}}, nil, "empty chain name"},
		{"no steps", "text", nil, nil, `chain: invalid steps = 0: New("text"): no steps`},
		{"unnamed step", "text", []chain.Step[int]{{Name: "a", Fn: fn}, {Fn: fn}}, nil, "step 1 has no name"},
		{"nil Fn", "text", []chain.Step[int]{{Name: "a"}}, nil, `step 0 ("a") has a nil Fn`},
		{"negative step timeout", "text", []chain.Step[int]{{Name: "a", Fn: fn, Timeout: -time.Second}}, nil, `invalid steps[0].Timeout = -1s: New("text"): step 0 ("a") has a negative Timeout`},
		{"duplicate names", "text", []chain.Step[int]{{Name: "a", Fn: fn}, {Name: "a", Fn: fn}}, nil, `steps 0 and 1 are both named "a"`},
		{"negative chain timeout", "text", []chain.Step[int]{{Name: "a", Fn: fn}}, []chain.Option{chain.WithTimeout(-time.Second)}, "invalid WithTimeout = -1s: negative timeout"},
		{"nil logger", "text", []chain.Step[int]{{Name: "a", Fn: fn}}, []chain.Option{chain.WithLogger(nil)}, "invalid WithLogger = <nil>"},
		{"nil observer", "text", []chain.Step[int]{{Name: "a", Fn: fn}}, []chain.Option{chain.WithObserver(nil)}, "invalid WithObserver = <nil>"},
		{"nil option", "text", []chain.Step[int]{{Name: "a", Fn: fn}}, []chain.Option{nil}, "option 0 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := chain.New(tt.chain, tt.steps, tt.opts...)
			if err == nil {
				t.Fatalf("New returned %v, want an error", c)
			}
			if !strings.HasPrefix(err.Error(), "chain: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestNewCopiesSteps(t *testing.T) {
	steps := []chain.Step[int]{{Name: "a", Fn: func(context.Context) (int, error) { return 1, nil }}}
	c, err := chain.New("n", steps)
	if err != nil {
		t.Fatal(err)
	}
	steps[0].Fn = func(context.Context) (int, error) { return 2, nil }
	res, err := c.Execute(context.Background())
	if err != nil || res.Value != 1 {
		t.Errorf("Execute = %v, %v; want 1: the chain must not see later changes to the caller's slice", res.Value, err)
	}
}

func TestChainHooksAndLogs(t *testing.T) {
	tests := []struct {
		name       string
		steps      string // per step: o (serves), f (fails), n (finds nothing)
		wantEvents []string
		wantLogs   []string
		noLogs     []string
	}{
		{
			name:       "primary serves: one event, no fallback log",
			steps:      "ooo",
			wantEvents: []string{"anthropic#0 primary=anthropic ok"},
			noLogs:     []string{"[FALLBACK]"},
		},
		{
			name:       "fallback serves",
			steps:      "foo",
			wantEvents: []string{"anthropic#0 primary=anthropic failed", "openai#1 primary=anthropic ok degraded fallback"},
			wantLogs: []string{
				`level=WARN msg="[FALLBACK] step failed, trying next" chain=text step=anthropic index=0 next=openai error="anthropic down"`,
				`level=INFO msg="[FALLBACK] served by fallback" chain=text step=openai index=1 primary=anthropic`,
			},
		},
		{
			name:  "every step fails",
			steps: "fff",
			wantEvents: []string{
				"anthropic#0 primary=anthropic failed",
				"openai#1 primary=anthropic failed degraded fallback",
				"cache#2 primary=anthropic failed degraded fallback",
			},
			wantLogs: []string{
				`msg="[FALLBACK] step failed, trying next" chain=text step=openai index=1 next=cache`,
				`level=ERROR msg="[FALLBACK] no step served" chain=text reason=all_failed error="chain: every step of \"text\" failed: anthropic: anthropic down; openai: openai down; cache: cache down"`,
			},
		},
		{
			name:       "the primary finds nothing: the next step serves, no fallback",
			steps:      "noo",
			wantEvents: []string{"anthropic#0 primary=anthropic not_found", "openai#1 primary=anthropic ok degraded"},
			wantLogs: []string{
				`level=DEBUG msg="[FALLBACK] step found nothing, trying next" chain=text step=anthropic index=0 next=openai error="anthropic: nothing here"`,
				`level=DEBUG msg="[FALLBACK] served by a later step: the steps before it found nothing" chain=text step=openai`,
			},
			noLogs: []string{"level=WARN", "level=INFO", "level=ERROR"},
		},
		{
			name:  "no step knows: an answer, not an error",
			steps: "nnn",
			wantEvents: []string{
				"anthropic#0 primary=anthropic not_found",
				"openai#1 primary=anthropic not_found degraded",
				"cache#2 primary=anthropic not_found degraded",
			},
			wantLogs: []string{`level=DEBUG msg="[FALLBACK] no step served" chain=text reason=all_failed`},
			noLogs:   []string{"level=WARN", "level=INFO", "level=ERROR"},
		},
		{
			name:  "a failure, then a step that finds nothing: the steps after the failure are fallbacks",
			steps: "nfno",
			wantEvents: []string{
				"anthropic#0 primary=anthropic not_found",
				"openai#1 primary=anthropic failed degraded",
				"cache#2 primary=anthropic not_found degraded fallback",
				"web#3 primary=anthropic ok degraded fallback",
			},
			wantLogs: []string{`level=INFO msg="[FALLBACK] served by fallback" chain=text step=web index=3 primary=anthropic`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs logBuffer
			var got events
			obs := chain.ObserverFunc(func(_ context.Context, e chain.StepEvent) {
				s := e.Step + "#" + string(rune('0'+e.Index)) + " primary=" + e.Primary
				switch {
				case e.Err != nil && e.NotFound:
					s += " not_found"
				case e.Err != nil:
					s += " failed"
				default:
					s += " ok"
				}
				if e.Degraded {
					s += " degraded"
				}
				if e.Fallback() {
					s += " fallback"
				}
				got.add(s)
			})
			errNothing := errors.New("nothing here")
			var steps []chain.Step[string]
			for i, name := range []string{"anthropic", "openai", "cache", "web"}[:len(tt.steps)] {
				outcome := tt.steps[i]
				steps = append(steps, chain.Step[string]{Name: name, Fn: func(context.Context) (string, error) {
					switch outcome {
					case 'f':
						return "", errors.New(name + " down")
					case 'n':
						return "", fmt.Errorf("%s: %w", name, errNothing)
					}
					return name, nil
				}})
			}
			notFound := func(err error) bool { return errors.Is(err, errNothing) }
			c, err := chain.New("text", steps, chain.WithLogger(newLogger(&logs)), chain.WithObserver(obs), chain.WithNotFound(notFound))
			if err != nil {
				t.Fatal(err)
			}
			_, _ = c.Execute(context.Background())
			if !slices.Equal(got.get(), tt.wantEvents) {
				t.Errorf("events\n got %q\nwant %q", got.get(), tt.wantEvents)
			}
			out := logs.String()
			for _, w := range tt.wantLogs {
				if !strings.Contains(out, w) {
					t.Errorf("logs lack %s\nlogs:\n%s", w, out)
				}
			}
			for _, n := range tt.noLogs {
				if strings.Contains(out, n) {
					t.Errorf("logs contain %s\nlogs:\n%s", n, out)
				}
			}
		})
	}
}

func TestStopReasonString(t *testing.T) {
	tests := []struct {
		r    chain.StopReason
		want string
	}{
		{chain.ReasonAllFailed, "all_failed"},
		{chain.ReasonFinal, "final_error"},
		{chain.ReasonDeadline, "deadline"},
		{chain.ReasonCanceled, "canceled"},
		{chain.StopReason(42), "reason(42)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.r.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIsBadRequest(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&retry.HTTPError{Code: 400}, true},
		{&retry.HTTPError{Code: 422}, true},
		{&retry.HTTPError{Code: 401}, false},
		{&retry.HTTPError{Code: 404}, false},
		{&retry.HTTPError{Code: 503}, false},
		{errors.New("400 in the text only"), false},
		{nil, false},
	}
	for _, tt := range tests {
		name := "nil"
		if tt.err != nil {
			name = tt.err.Error()
		}
		t.Run(name, func(t *testing.T) {
			if got := chain.IsBadRequest(tt.err); got != tt.want {
				t.Errorf("IsBadRequest = %v, want %v", got, tt.want)
			}
		})
	}
}

// A step's Share bounds it to that fraction of the time left when it
// starts, so the steps after it keep time to answer; the shorter of Share
// and Timeout applies; a step without either has the run's deadline.
func TestStepShareOfTheTimeLeft(t *testing.T) {
	clock := clocktest.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) // a deadline then never fires in the test
	deadline := clock.Now().Add(4 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	seen := map[string]time.Time{}
	step := func(name string, share float64, timeout time.Duration, spend time.Duration, fail bool) chain.Step[string] {
		return chain.Step[string]{Name: name, Share: share, Timeout: timeout, Fn: func(ctx context.Context) (string, error) {
			d, _ := ctx.Deadline()
			seen[name] = d
			clock.Advance(spend)
			if fail {
				return "", errors.New(name + " failed")
			}
			return name, nil
		}}
	}
	c, err := chain.New("budget", []chain.Step[string]{
		step("primary", 0.5, 0, time.Second, true),   // 4 s left: 2 s
		step("secondary", 0.5, time.Second, 0, true), // 3 s left, 1.5 s, but Timeout 1 s
		step("last", 0, 0, 0, false),                 // the run's deadline
	}, chain.WithClock(clock), chain.WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	start := clock.Now()
	res, err := c.Execute(ctx)
	if err != nil || res.Step != "last" {
		t.Fatalf("Execute = %v, %v", res, err)
	}
	for name, want := range map[string]time.Time{
		"primary":   start.Add(2 * time.Second),
		"secondary": start.Add(time.Second).Add(time.Second),
		"last":      deadline,
	} {
		if !seen[name].Equal(want) {
			t.Errorf("step %s had deadline %s after the start, want %s", name, seen[name].Sub(start), want.Sub(start))
		}
	}
}

func TestStepShareMustBeAFraction(t *testing.T) {
	for _, share := range []float64{-0.1, 1.5, math.NaN()} {
		_, err := chain.New("c", []chain.Step[string]{{Name: "s", Share: share, Fn: func(context.Context) (string, error) { return "", nil }}})
		if err == nil || !strings.Contains(err.Error(), "Share") {
			t.Errorf("Share %v: err = %v, want one naming Share", share, err)
		}
	}
}
