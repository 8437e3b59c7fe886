package retry

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/redact"
)

// Policy retries calls to one upstream: the validated form of a Config,
// with its collaborators. Safe for concurrent use: one Policy may be shared by any
// number of calls; give each upstream one. A nil *Policy is the default
// Config with the default options.
type Policy struct {
	name       string
	s          settings
	logger     *slog.Logger
	observers  []Observer
	budget     *Budget
	beforeWait []func(ctx context.Context, delay time.Duration) error
	clock      clock.Clock
	rand       func() float64
	opts       options // as given, for With
}

// New checks cfg and returns a Policy named name (the upstream, "openai",
// as events and logs call it). It takes WithClock, WithLogger,
// WithObserver, WithBudget, WithBeforeWait and WithRand. An invalid field
// or option is a *config.Error.
func New(name string, cfg Config, opts ...Option) (*Policy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return assemble(name, cfg.settings(), options{}, opts)
}

// policyOptions are the options New takes.
var policyOptions = []string{"WithClock", "WithLogger", "WithObserver", "WithBudget", "WithBeforeWait", "WithRand"}

func assemble(name string, s settings, o options, opts []Option) (*Policy, error) {
	if err := o.apply("New", opts, policyOptions...); err != nil {
		return nil, err
	}
	p := &Policy{name: name, s: s, logger: o.logger, observers: o.observers, budget: o.budget, beforeWait: o.beforeWait,
		clock: o.clock, rand: o.rand, opts: o}
	if p.logger == nil {
		p.logger = slog.Default()
	}
	if p.clock == nil {
		p.clock = clock.Real()
	}
	if p.rand == nil {
		p.rand = rand.Float64
	}
	return p, nil
}

// With returns a copy of p with more options: observers and checks before
// a wait add to p's, a clock, logger, budget or source of randomness
// replaces p's. p itself is unchanged. chain.Guard uses it to add its
// breaker's check and its observer to the Policy it is given.
func (p *Policy) With(opts ...Option) (*Policy, error) {
	if p == nil {
		return New("", Config{}, opts...)
	}
	o := p.opts
	o.observers, o.beforeWait, o.given = slices.Clone(o.observers), slices.Clone(o.beforeWait), slices.Clone(o.given)
	return assemble(p.name, p.s, o, opts)
}

// Name returns the name given to New.
func (p *Policy) Name() string {
	if p == nil {
		return ""
	}
	return p.name
}

// defaultPolicy is what a nil *Policy stands for.
func defaultPolicy() *Policy {
	p, _ := New("", Config{}) // the zero Config is valid
	return p
}

// Execute calls fn until it succeeds or p says to stop, and returns what
// the last call returned. A nil p means the default Config and options.
//
// After a failed attempt Execute stops, in this order, when
//
//   - the error is not retryable: a Permanent error (then Execute returns
//     the error inside), a rejection (see Rejection), or an error
//     Config.Retryable refuses (returned as it is);
//   - the caller's context is done (a *GiveUpError matching ctx.Err());
//   - the attempts are exhausted (a *GiveUpError matching ErrExhausted);
//   - the next wait would end at or after the context deadline (ErrDeadline);
//   - a check given with WithBeforeWait says the attempt after the wait
//     could not run (ErrBlocked), as when a circuit breaker will still be
//     open;
//   - the retry budget is empty (ErrBudgetExhausted);
//   - the context is done during the wait.
//
// The wait is the server's Retry-After hint when the error has one (see
// RetryAfterer), else the jittered exponential backoff; either way at most
// Config.MaxDelay. fn receives ctx unchanged: apply a per-attempt timeout
// inside fn. Results returned together with an error by a retried attempt
// are dropped, so fn should release them itself.
func Execute[T any](ctx context.Context, p *Policy, fn func(ctx context.Context) (T, error)) (T, error) {
	if p != nil && p.budget != nil {
		p.budget.Deposit()
	}
	v, err := fn(ctx)
	if err != nil {
		if p == nil {
			p = defaultPolicy()
		}
		return retryAfterFailure(ctx, p, fn, v, err)
	}
	if p != nil && len(p.observers) > 0 {
		p.stopped(ctx, StopEvent{Name: p.name, Attempts: 1, Reason: StopSuccess})
	}
	return v, nil
}

// Do is Execute for a function without a result.
func (p *Policy) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	_, err := Execute(ctx, p, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(ctx)
	})
	return err
}

// retryAfterFailure is the slow path of Execute, entered after the first
// attempt failed with err.
func retryAfterFailure[T any](ctx context.Context, p *Policy, fn func(context.Context) (T, error), v T, err error) (T, error) {
	s := &p.s
	attempts := 1
	var prev time.Duration
	for {
		if pe, ok := err.(*permanentError); ok {
			return v, p.stop(ctx, attempts, StopNotRetryable, pe.err)
		}
		if IsPermanent(err) || IsRejection(err) || !s.retryable(err) {
			return v, p.stop(ctx, attempts, StopNotRetryable, err)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return v, p.giveUp(ctx, &GiveUpError{Attempts: attempts, Reason: StopContextDone, Err: err, ctxErr: ctxErr})
		}
		if attempts > s.maxRetries {
			return v, p.giveUp(ctx, &GiveUpError{Attempts: attempts, Reason: StopExhausted, Err: err})
		}

		delay, hinted := retryAfterHint(err, s.max)
		if !hinted {
			delay = s.backoff(attempts, prev, p.rand())
		}
		if deadline, ok := ctx.Deadline(); ok && !p.clock.Now().Add(delay).Before(deadline) {
			return v, p.giveUp(ctx, &GiveUpError{Attempts: attempts, Reason: StopDeadline, Delay: delay, Err: err})
		}
		if blocked := p.blocked(ctx, delay); blocked != nil {
			return v, p.giveUp(ctx, &GiveUpError{Attempts: attempts, Reason: StopBlocked, Delay: delay, Err: err, blocked: blocked})
		}
		if p.budget != nil && !p.budget.Withdraw() {
			return v, p.giveUp(ctx, &GiveUpError{Attempts: attempts, Reason: StopBudgetExhausted, Err: err})
		}

		p.retrying(ctx, RetryEvent{Name: p.name, Attempt: attempts, Delay: delay, FromRetryAfter: hinted, Err: err})
		if ctxErr := wait(ctx, p.clock, delay); ctxErr != nil {
			return v, p.giveUp(ctx, &GiveUpError{Attempts: attempts, Reason: StopContextDone, Err: err, ctxErr: ctxErr})
		}
		prev = delay
		attempts++
		if v, err = fn(ctx); err == nil {
			return v, p.stop(ctx, attempts, StopSuccess, nil)
		}
	}
}

// retryAfterHint returns the wait hint carried by err, capped at maxDelay.
func retryAfterHint(err error, maxDelay time.Duration) (time.Duration, bool) {
	var ra RetryAfterer
	if !errors.As(err, &ra) {
		return 0, false
	}
	d, ok := ra.RetryAfter()
	if !ok {
		return 0, false
	}
	return min(max(d, 0), maxDelay), true
}

// wait blocks for d, or until ctx is done, and returns ctx.Err() in that case.
func wait(ctx context.Context, c clock.Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := c.NewTimer(d)
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}

// blocked asks the checks given with WithBeforeWait, in order, whether an
// attempt after delay could run, and returns the first one's error.
func (p *Policy) blocked(ctx context.Context, delay time.Duration) error {
	for _, check := range p.beforeWait {
		if err := check(ctx, delay); err != nil {
			return err
		}
	}
	return nil
}

func (p *Policy) retrying(ctx context.Context, e RetryEvent) {
	for _, o := range p.observers {
		o.OnRetry(ctx, e)
	}
	if !p.logger.Enabled(ctx, slog.LevelWarn) {
		return // the redaction below costs an allocation
	}
	p.logger.LogAttrs(ctx, slog.LevelWarn, "[RETRY] retrying after a failed attempt",
		slog.String("upstream", e.Name),
		slog.Int("attempt", e.Attempt),
		slog.Duration("delay", e.Delay),
		slog.Bool("retry_after", e.FromRetryAfter),
		slog.String("error", redact.ErrorText(e.Err.Error())))
}

// giveUp logs and reports a stop with a retryable last error.
func (p *Policy) giveUp(ctx context.Context, e *GiveUpError) error {
	if p.logger.Enabled(ctx, slog.LevelWarn) {
		p.logger.LogAttrs(ctx, slog.LevelWarn, "[RETRY] giving up",
			slog.String("upstream", p.name),
			slog.Int("attempts", e.Attempts),
			slog.String("reason", e.Reason.String()),
			slog.String("error", redact.ErrorText(e.Err.Error())))
	}
	return p.stop(ctx, e.Attempts, e.Reason, e)
}

// stop reports the end of an Execute call to the observers and returns
// err.
func (p *Policy) stop(ctx context.Context, attempts int, reason StopReason, err error) error {
	p.stopped(ctx, StopEvent{Name: p.name, Attempts: attempts, Reason: reason, Err: err})
	return err
}

func (p *Policy) stopped(ctx context.Context, e StopEvent) {
	for _, o := range p.observers {
		o.OnStop(ctx, e)
	}
}
