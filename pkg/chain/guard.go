package chain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/redact"
	"github.com/healthagent/resilience/pkg/retry"
)

// GuardConfig is what a Guard composes for one upstream. Its zero value
// works: a Guard that calls straight through, without breaker, retry or
// timeout.
type GuardConfig struct {
	// Breaker guards each attempt. nil: no breaker, every attempt goes
	// straight to the call (breakers switched off).
	Breaker *dbreaker.Breaker
	// Retry is the upstream's retry policy (retry.New). nil: a single
	// attempt, no retry. The Guard adds its breaker's check before each
	// wait and its observers to a copy (retry.Policy.With); the policy's
	// own clock times the waits.
	Retry *retry.Policy
	// AttemptTimeout bounds each attempt. Required with a Breaker, and then
	// shorter than the breaker's ProbeLease (see NewGuard); without one, 0
	// means no per-attempt timeout.
	AttemptTimeout time.Duration
	// Classify decides which errors of a call are failures of the upstream
	// for the observers when there is no Breaker (default
	// dbreaker.DefaultClassify). With a Breaker it must be nil: the
	// breaker's own Config().Classify decides, so the metrics count
	// exactly what the breaker counts.
	Classify func(error) dbreaker.Outcome
}

// Guard wraps every call to one upstream the same way: retry (outermost) →
// breaker → per-attempt timeout → call. Safe for concurrent use; share one
// Guard per upstream.
type Guard struct {
	name    string
	breaker *dbreaker.Breaker
	policy  *retry.Policy
	timeout time.Duration
	obs     []Observer
	outcome func(error) dbreaker.Outcome
	clock   clock.Clock
}

// NewGuard checks cfg and returns a Guard for the upstream name (the api
// label of the metrics: "openai", "usda"; the rules of
// dbreaker.ValidateName apply). It takes WithClock (which times attempts
// for the observers) and WithObserver. With a Breaker it requires the
// breaker's ProbeLease to outlast AttemptTimeout plus two StoreTimeouts
// (the round trips that take and report the probe): a probe still running
// when its lease lapses would let a second probe start. Invalid
// configuration is a *config.Error.
func NewGuard(name string, cfg GuardConfig, opts ...Option) (*Guard, error) {
	if err := dbreaker.ValidateName(name); err != nil {
		return nil, invalid("Name", name, "NewGuard: "+err.Error())
	}
	call := fmt.Sprintf("NewGuard(%q): ", name)
	if cfg.AttemptTimeout < 0 {
		return nil, invalid("AttemptTimeout", cfg.AttemptTimeout, call+"negative")
	}
	outcome := cfg.Classify
	if b := cfg.Breaker; b != nil {
		bc := b.Config()
		if cfg.Classify != nil {
			return nil, invalid("Classify", "set", call+fmt.Sprintf("breaker %q classifies the errors: set Classify in its dbreaker.Config instead", b.Name()))
		}
		outcome = bc.Classify
		if cfg.AttemptTimeout == 0 {
			return nil, invalid("AttemptTimeout", cfg.AttemptTimeout, call+fmt.Sprintf("breaker %q needs attempts bounded below its ProbeLease %s", b.Name(), bc.ProbeLease))
		}
		if need := cfg.AttemptTimeout + 2*bc.StoreTimeout; bc.ProbeLease <= need {
			return nil, invalid("AttemptTimeout", cfg.AttemptTimeout, call+fmt.Sprintf("breaker %q ProbeLease %s does not outlast AttemptTimeout %s plus 2 × StoreTimeout %s (%s): a probe could lose its lease while it still runs and let a second probe start; raise ProbeLease or lower AttemptTimeout",
				b.Name(), bc.ProbeLease, cfg.AttemptTimeout, bc.StoreTimeout, need))
		}
	}
	o, err := resolve("NewGuard", opts, "WithClock", "WithObserver")
	if err != nil {
		return nil, err
	}
	g := &Guard{name: name, breaker: cfg.Breaker, timeout: cfg.AttemptTimeout, obs: o.observers, outcome: outcome, clock: o.clock}
	if g.outcome == nil {
		g.outcome = dbreaker.DefaultClassify
	}
	var retryOpts []retry.Option
	if b := cfg.Breaker; b != nil {
		// Retrying makes sense only if the breaker will admit the attempt:
		// one it would still reject when the wait ends is not waited for.
		retryOpts = append(retryOpts, retry.WithBeforeWait(func(_ context.Context, delay time.Duration) error {
			return breakerBlocks(b, delay)
		}))
	}
	if len(g.obs) > 0 {
		retryOpts = append(retryOpts, retry.WithObserver(retryObserver{g}))
	}
	if cfg.Retry == nil {
		// A single attempt, which logs nothing: the Guard's observers see it.
		retryOpts = append(retryOpts, retry.WithLogger(slog.New(slog.DiscardHandler)))
		g.policy, err = retry.New(name, retry.Config{MaxRetries: retry.NoRetries}, retryOpts...)
	} else {
		g.policy, err = cfg.Retry.With(retryOpts...)
	}
	if err != nil {
		return nil, err
	}
	return g, nil
}

// retryObserver tells the Guard's observers of each retry, under the
// Guard's name.
type retryObserver struct{ g *Guard }

func (r retryObserver) OnRetry(ctx context.Context, e retry.RetryEvent) {
	e.Name = r.g.name
	for _, o := range r.g.obs {
		o.OnRetry(ctx, e)
	}
}

func (retryObserver) OnStop(context.Context, retry.StopEvent) {}

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
	_, err := Execute(ctx, g, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(ctx)
	})
	return err
}

// Execute calls fn through g and returns what the last attempt returned;
// see Guard.Do for the errors.
func Execute[T any](ctx context.Context, g *Guard, fn func(ctx context.Context) (T, error)) (T, error) {
	if g == nil || fn == nil {
		var zero T
		if g == nil {
			return zero, errNilGuard
		}
		return zero, errNilFunc
	}
	return retry.Execute(ctx, g.policy, func(ctx context.Context) (T, error) {
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
		return Execute(ctx, g, fn)
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
	if len(g.obs) == 0 {
		return
	}
	status, errType := Labels(err)
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
	a := Attempt{API: g.name, Status: status, ErrorType: errType, Called: called, Duration: d, Err: err}
	for _, o := range g.obs {
		o.OnAttempt(ctx, a)
	}
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
