package chain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/redact"
	"github.com/healthagent/resilience/pkg/retry"
)

// GuardConfig configures a Guard for one upstream.
type GuardConfig struct {
	// Name identifies the upstream: the api label of the metrics ("openai",
	// "usda"). Required; the rules of dbreaker.ValidateName apply.
	Name string
	// Breaker guards each attempt. nil: no breaker, every attempt goes
	// straight to the call (breakers switched off).
	Breaker *dbreaker.Breaker
	// Retry is the upstream's retry policy, copied by NewGuard (later
	// changes to it are not seen). nil: a single attempt, no retry. An empty
	// Retry.Name takes Name.
	Retry *retry.Policy
	// AttemptTimeout bounds each attempt. Required with a Breaker, and then
	// shorter than the breaker's ProbeLease (see NewGuard); without one, 0
	// means no per-attempt timeout.
	AttemptTimeout time.Duration
	// Recorder, if not nil, is told about every attempt and retry.
	Recorder Recorder
	// Classify decides which errors of a call are failures of the upstream
	// for the Recorder when there is no Breaker (default
	// dbreaker.DefaultClassify). With a Breaker it must be nil: the
	// breaker's own Config().Classify decides, so the metrics count
	// exactly what the breaker counts.
	Classify func(error) dbreaker.Outcome
	// Clock times attempts for the Recorder; nil: the system clock.
	Clock clock.Clock
}

// Guard wraps every call to one upstream the same way: retry (outermost) →
// breaker → per-attempt timeout → call. Safe for concurrent use; share one
// Guard per upstream.
type Guard struct {
	name    string
	breaker *dbreaker.Breaker
	policy  *retry.Policy
	timeout time.Duration
	rec     Recorder
	outcome func(error) dbreaker.Outcome
	clock   clock.Clock
}

// NewGuard checks cfg and returns a Guard. With a Breaker it requires the
// breaker's ProbeLease to outlast AttemptTimeout plus two StoreTimeouts (the
// round trips that take and report the probe): a probe still running when
// its lease lapses would let a second probe start.
func NewGuard(cfg GuardConfig) (*Guard, error) {
	if err := dbreaker.ValidateName(cfg.Name); err != nil {
		return nil, fmt.Errorf("chain: NewGuard: invalid Name: %w", err)
	}
	if cfg.AttemptTimeout < 0 {
		return nil, fmt.Errorf("chain: NewGuard(%q): negative AttemptTimeout %s", cfg.Name, cfg.AttemptTimeout)
	}
	outcome := cfg.Classify
	if b := cfg.Breaker; b != nil {
		bc := b.Config()
		if cfg.Classify != nil {
			return nil, fmt.Errorf("chain: NewGuard(%q): Classify is set, but breaker %q classifies the errors: set Classify in its dbreaker.Config instead", cfg.Name, b.Name())
		}
		outcome = bc.Classify
		if cfg.AttemptTimeout == 0 {
			return nil, fmt.Errorf("chain: NewGuard(%q): AttemptTimeout is 0, but breaker %q needs attempts bounded below its ProbeLease %s", cfg.Name, b.Name(), bc.ProbeLease)
		}
		if need := cfg.AttemptTimeout + 2*bc.StoreTimeout; bc.ProbeLease <= need {
			return nil, fmt.Errorf("chain: NewGuard(%q): breaker %q ProbeLease %s does not outlast AttemptTimeout %s plus 2 × StoreTimeout %s (%s): a probe could lose its lease while it still runs and let a second probe start; raise ProbeLease or lower AttemptTimeout",
				cfg.Name, b.Name(), bc.ProbeLease, cfg.AttemptTimeout, bc.StoreTimeout, need)
		}
	}
	p := retry.Policy{MaxRetries: retry.NoRetries}
	if cfg.Retry != nil {
		p = *cfg.Retry
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("chain: NewGuard(%q): invalid Retry: %w", cfg.Name, err)
	}
	if p.Name == "" {
		p.Name = cfg.Name
	}
	if b := cfg.Breaker; b != nil {
		// Retrying makes sense only if the breaker will admit the attempt:
		// one it would still reject when the wait ends is not waited for.
		before := p.BeforeWait
		p.BeforeWait = func(ctx context.Context, delay time.Duration) error {
			if err := breakerBlocks(b, delay); err != nil {
				return err
			}
			if before != nil {
				return before(ctx, delay)
			}
			return nil
		}
	}
	if rec := cfg.Recorder; rec != nil {
		name, onRetry := cfg.Name, p.OnRetry
		p.OnRetry = func(ctx context.Context, e retry.RetryEvent) {
			rec.ObserveRetry(ctx, name, e)
			if onRetry != nil {
				onRetry(ctx, e)
			}
		}
	}
	if outcome == nil {
		outcome = dbreaker.DefaultClassify
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.Real()
	}
	return &Guard{
		name:    cfg.Name,
		breaker: cfg.Breaker,
		policy:  &p,
		timeout: cfg.AttemptTimeout,
		rec:     cfg.Recorder,
		outcome: outcome,
		clock:   clk,
	}, nil
}

// breakerBlocks returns an error when the breaker, as this replica knows
// it, will reject a call made after delay: forced open, or open for longer.
func breakerBlocks(b *dbreaker.Breaker, delay time.Duration) error {
	v := b.View()
	switch {
	case v.State == dbreaker.ForcedOpen:
		return fmt.Errorf("chain: breaker %q is forced open: %w", b.Name(), dbreaker.ErrForcedOpen)
	case v.State == dbreaker.Open && v.OpenFor > delay:
		return fmt.Errorf("chain: breaker %q stays open %s, longer than the retry's wait of %s: %w",
			b.Name(), v.OpenFor.Round(time.Millisecond), delay, dbreaker.ErrOpen)
	}
	return nil
}

// Name returns the upstream's name.
func (g *Guard) Name() string { return g.name }

// Breaker returns the Guard's breaker (nil when breakers are off).
func (g *Guard) Breaker() *dbreaker.Breaker { return g.breaker }

// Errors for calls with a nil *Guard or a nil function.
var (
	errNilGuard = errors.New("chain: nil Guard")
	errNilFunc  = errors.New("chain: nil function")
)

// Do calls fn through the Guard and returns its error: nil, the error of the
// last attempt (its text redacted), a *dbreaker.RejectedError when the
// breaker refused, or a *retry.GiveUpError when retrying stopped.
func (g *Guard) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	if fn == nil {
		return errNilFunc
	}
	_, err := Guarded(ctx, g, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(ctx)
	})
	return err
}

// Guarded calls fn through g and returns what the last attempt returned;
// see Guard.Do for the errors.
func Guarded[T any](ctx context.Context, g *Guard, fn func(ctx context.Context) (T, error)) (T, error) {
	if g == nil || fn == nil {
		var zero T
		if g == nil {
			return zero, errNilGuard
		}
		return zero, errNilFunc
	}
	return retry.Do(ctx, g.policy, func(ctx context.Context) (T, error) {
		return attempt(ctx, g, fn)
	})
}

// GuardedStep returns a chain step named after g that calls fn through g.
func GuardedStep[T any](g *Guard, fn func(ctx context.Context) (T, error)) Step[T] {
	if g == nil {
		return Step[T]{Fn: func(context.Context) (T, error) {
			var zero T
			return zero, errNilGuard
		}}
	}
	return Step[T]{Name: g.name, Fn: func(ctx context.Context) (T, error) {
		return Guarded(ctx, g, fn)
	}}
}

// attempt is one attempt: breaker admission, then the call under its own
// timeout, then the outcome reported to the breaker and the recorder.
func attempt[T any](ctx context.Context, g *Guard, fn func(context.Context) (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		// The caller is gone: no attempt, and no store call that would
		// only fail and count as a store error.
		var zero T
		return zero, err
	}
	var permit *dbreaker.Permit
	if g.breaker != nil {
		var err error
		if permit, err = g.breaker.Allow(ctx); err != nil {
			g.record(ctx, false, 0, err)
			var zero T
			return zero, err
		}
	}
	start := g.clock.Now()
	v, err := call(ctx, g, permit, fn)
	d := g.clock.Now().Sub(start)
	permit.Done(err) // a nil permit ignores Done
	g.record(ctx, true, d, err)
	return v, err
}

// call runs fn under the attempt timeout. A panic in fn is reported to the
// breaker as a failure and raised again.
func call[T any](ctx context.Context, g *Guard, permit *dbreaker.Permit, fn func(context.Context) (T, error)) (T, error) {
	actx := ctx
	if g.timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, g.timeout)
		defer cancel()
	}
	if permit != nil {
		defer func() {
			if r := recover(); r != nil {
				permit.Done(fmt.Errorf("chain: %s: call panicked: %v", g.name, r))
				panic(r)
			}
		}()
	}
	v, err := fn(actx)
	if err != nil {
		if actx != ctx && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			err = &attemptTimeoutError{api: g.name, timeout: g.timeout, err: err}
		}
		err = redact.Error(err)
	}
	return v, err
}

func (g *Guard) record(ctx context.Context, called bool, d time.Duration, err error) {
	if g.rec == nil {
		return
	}
	status, errType := Classify(err)
	if called && err != nil {
		switch g.outcome(err) {
		case dbreaker.Success: // an answer, such as "no such food"
			errType = ""
			if !hasStatusCode(err) {
				status = "success"
			}
		case dbreaker.Ignored: // the caller's own cancellation
			errType = ""
		}
	}
	g.rec.ObserveAttempt(ctx, Attempt{API: g.name, Status: status, ErrorType: errType, Called: called, Duration: d, Err: err})
}

// attemptTimeoutError says that one attempt ran out of AttemptTimeout. It
// matches context.DeadlineExceeded, so retry sees a retryable timeout.
type attemptTimeoutError struct {
	api     string
	timeout time.Duration
	err     error
}

func (e *attemptTimeoutError) Error() string {
	return e.api + ": attempt timed out after " + e.timeout.String() + ": " + e.err.Error()
}

func (e *attemptTimeoutError) Unwrap() error { return e.err }
