package chain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/redact"
)

// Step is one way to produce a T: a call to an upstream, a cache lookup, an
// estimate.
type Step[T any] struct {
	// Name identifies the step in results, errors, logs and metrics
	// ("anthropic", "cache"). Required and unique within a chain.
	Name string
	// Degraded marks what the step returns as less than the real answer (a
	// cached answer, an estimate), even when it is the first step. Every step
	// after the first is degraded anyway.
	Degraded bool
	// Timeout bounds the step, all its retries included (0: only the chain's
	// deadline applies; negative is invalid).
	Timeout time.Duration
	// Share bounds the step to this fraction of the time left before the
	// run's deadline (the caller's or WithTimeout's) when the step starts,
	// so that the steps after it keep time to answer: with 3 s left, a step
	// with Share 0.5 gets 1.5 s, retries included. 0 means no share; it must
	// not be negative or above 1. With Timeout too, the shorter bound
	// applies; without a deadline, Share has no effect.
	Share float64
	// Fn produces the value. It must return when ctx is done.
	Fn func(ctx context.Context) (T, error)
}

// Result is what a chain returns when a step served.
type Result[T any] struct {
	// Value is what the step returned.
	Value T
	// Step is the name of the step that served, Index its position (0: the
	// first step).
	Step  string
	Index int
	// Degraded: the answer came from a step after the first or from a step
	// flagged Degraded; the bot should say so.
	Degraded bool
	// Failures are the steps that failed before this one, in order; nil when
	// the first step served.
	Failures []*StepError
}

// Chain tries its steps in order; the first success wins. Safe for
// concurrent use: a Chain is never changed after New.
type Chain[T any] struct {
	name     string
	steps    []Step[T]
	timeout  time.Duration
	stopOn   func(error) bool
	notFound func(error) bool
	logger   *slog.Logger
	obs      []Observer
	clock    clock.Clock
}

type options struct {
	timeout   time.Duration
	stopOn    func(error) bool
	notFound  func(error) bool
	logger    *slog.Logger
	observers []Observer
	clock     clock.Clock

	given []string // the names of the options given, in order
}

// Option configures a Chain (New) or a Guard (NewGuard): its collaborators
// and, for a chain, its deadline and final errors. Each option's comment
// names the constructors that take it; the others refuse it with a
// *config.Error.
type Option func(*options) error

// WithTimeout bounds every run of the chain (default: none beyond the
// caller's own deadline). Steps that have not started when it passes are
// not tried. For New.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		o.given = append(o.given, "WithTimeout")
		if d < 0 {
			return invalid("WithTimeout", d, "negative timeout")
		}
		o.timeout = d
		return nil
	}
}

// WithStopOn makes the chain stop, without trying the next steps, when a step
// fails with an error for which final returns true (default: every failure
// falls through to the next step). IsBadRequest is a ready predicate. For
// New.
func WithStopOn(final func(error) bool) Option {
	return func(o *options) error { return config.Set("chain", &o.given, "WithStopOn", &o.stopOn, final) }
}

// WithNotFound names the errors by which a step says that it has nothing
// for this request rather than that it failed: a cache miss, a food no
// source knows (default: none). The chain moves on to the next step as
// after a failure, but the step is no failure for the observers
// (StepEvent.NotFound) nor the log, and a step after it is no fallback
// unless another step failed (StepEvent.Fallback). For New.
func WithNotFound(notFound func(error) bool) Option {
	return func(o *options) error {
		return config.Set("chain", &o.given, "WithNotFound", &o.notFound, notFound)
	}
}

// WithLogger sets the logger (default slog.Default()). Messages start with
// "[FALLBACK]". For New.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return config.Set("chain", &o.given, "WithLogger", &o.logger, l) }
}

// WithClock sets the clock (default clock.Real()): a chain tells with it
// how much time is left for a step's Share, a Guard times its attempts.
// For New and NewGuard.
func WithClock(c clock.Clock) Option {
	return func(o *options) error { return config.Set("chain", &o.given, "WithClock", &o.clock, c) }
}

// WithObserver adds an observer (metrics, tests); it may be given several
// times. For New and NewGuard.
func WithObserver(obs Observer) Option {
	return func(o *options) error { return config.Add("chain", &o.given, "WithObserver", &o.observers, obs) }
}

// resolve applies opts over the defaults for constructor what, which takes
// the options named in accepted.
func resolve(what string, opts []Option, accepted ...string) (options, error) {
	o := options{logger: slog.Default(), clock: clock.Real()}
	err := config.ApplyOptions("chain", what, &o, &o.given, opts, accepted...)
	return o, err
}

// invalid returns the *config.Error of this package for field.
func invalid(field string, value any, reason string) error {
	return &config.Error{Package: "chain", Field: field, Value: value, Reason: reason}
}

// New returns a chain named name ("text", "vision") that tries steps in
// order. It takes WithTimeout, WithStopOn, WithNotFound, WithLogger,
// WithClock and WithObserver. It checks the name, every step and every option, and names
// what is wrong in a *config.Error.
func New[T any](name string, steps []Step[T], opts ...Option) (*Chain[T], error) {
	if name == "" {
		return nil, invalid("name", name, "New: empty chain name")
	}
	call := fmt.Sprintf("New(%q): ", name)
	if len(steps) == 0 {
		return nil, invalid("steps", len(steps), call+"no steps")
	}
	for i, s := range steps {
		field := fmt.Sprintf("steps[%d]", i)
		switch {
		case s.Name == "":
			return nil, invalid(field+".Name", s.Name, call+fmt.Sprintf("step %d has no name", i))
		case s.Fn == nil:
			return nil, invalid(field+".Fn", nil, call+fmt.Sprintf("step %d (%q) has a nil Fn", i, s.Name))
		case s.Timeout < 0:
			return nil, invalid(field+".Timeout", s.Timeout, call+fmt.Sprintf("step %d (%q) has a negative Timeout", i, s.Name))
		case !(s.Share >= 0 && s.Share <= 1):
			return nil, invalid(field+".Share", s.Share, call+fmt.Sprintf("step %d (%q): want 0 to 1", i, s.Name))
		}
		for j := range i {
			if steps[j].Name == s.Name {
				return nil, invalid(field+".Name", s.Name, call+fmt.Sprintf("steps %d and %d are both named %q", j, i, s.Name))
			}
		}
	}
	o, err := resolve(fmt.Sprintf("New(%q)", name), opts, "WithTimeout", "WithStopOn", "WithNotFound", "WithLogger", "WithClock", "WithObserver")
	if err != nil {
		return nil, err
	}
	return &Chain[T]{
		name:     name,
		steps:    slices.Clone(steps),
		timeout:  o.timeout,
		stopOn:   o.stopOn,
		notFound: o.notFound,
		logger:   o.logger,
		obs:      o.observers,
		clock:    o.clock,
	}, nil
}

// Name returns the chain's name.
func (c *Chain[T]) Name() string { return c.name }

// Execute tries the steps in order and returns the first success. When no
// step serves it returns an *Error: every step failed (ErrAllFailed), a
// step failed with a final error (ErrFinal), the deadline passed
// (context.DeadlineExceeded), or the caller cancelled ctx
// (context.Canceled).
func (c *Chain[T]) Execute(ctx context.Context) (Result[T], error) {
	runCtx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var failures []*StepError
	failed := 0 // the failures that were not a step's "not found"
	for i := range c.steps {
		s := &c.steps[i]
		if runCtx.Err() != nil {
			return Result[T]{}, c.stop(ctx, runCtx, i, "", failures)
		}
		v, err := c.runStep(runCtx, s)
		if err == nil {
			c.served(ctx, i, failed)
			return Result[T]{Value: v, Step: s.Name, Index: i, Degraded: i > 0 || s.Degraded, Failures: failures}, nil
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			// The caller gave up: what the step returned says nothing about
			// the upstream.
			return Result[T]{}, c.stop(ctx, runCtx, i+1, s.Name, failures)
		}
		failures = append(failures, &StepError{Step: s.Name, Index: i, Err: err})
		notFound := c.notFound != nil && c.notFound(err)
		c.notify(ctx, i, err, notFound, failed)
		if !notFound {
			failed++
		}
		if runCtx.Err() != nil {
			return Result[T]{}, c.stop(ctx, runCtx, i+1, "", failures)
		}
		if c.stopOn != nil && c.stopOn(err) {
			return Result[T]{}, c.fail(ctx, &Error{Chain: c.name, Reason: ReasonFinal, Failures: failures, NotTried: c.names(i + 1)}, failed)
		}
		if i+1 < len(c.steps) {
			level, msg := slog.LevelWarn, "[FALLBACK] step failed, trying next"
			if notFound {
				level, msg = slog.LevelDebug, "[FALLBACK] step found nothing, trying next"
			}
			c.logger.LogAttrs(ctx, level, msg,
				slog.String("chain", c.name),
				slog.String("step", s.Name),
				slog.Int("index", i),
				slog.String("next", c.steps[i+1].Name),
				slog.String("error", redact.ErrorText(err.Error())))
		}
	}
	return Result[T]{}, c.fail(ctx, &Error{Chain: c.name, Reason: ReasonAllFailed, Failures: failures}, failed)
}

// runStep calls one step under its own timeout: its Timeout, or its Share
// of the time left, whichever is shorter.
func (c *Chain[T]) runStep(ctx context.Context, s *Step[T]) (T, error) {
	timeout := s.Timeout
	if deadline, ok := ctx.Deadline(); ok && s.Share > 0 {
		share := time.Duration(float64(deadline.Sub(c.clock.Now())) * s.Share)
		if timeout <= 0 || share < timeout {
			timeout = max(share, time.Nanosecond)
		}
	}
	if timeout <= 0 {
		return s.Fn(ctx)
	}
	sctx, cancel := context.WithDeadline(ctx, c.clock.Now().Add(timeout))
	defer cancel()
	v, err := s.Fn(sctx)
	if err != nil && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) {
		err = &stepTimeoutError{timeout: timeout, err: err}
	}
	return v, err
}

// stop ends a run because the context is done: the steps from index next on
// were not tried, and interrupted names the step the caller cancelled, if
// any.
func (c *Chain[T]) stop(ctx, runCtx context.Context, next int, interrupted string, failures []*StepError) error {
	e := &Error{Chain: c.name, Failures: failures, NotTried: c.names(next), Interrupted: interrupted, ctxErr: runCtx.Err()}
	if errors.Is(ctx.Err(), context.Canceled) {
		e.Reason, e.ctxErr = ReasonCanceled, ctx.Err()
		c.logger.LogAttrs(ctx, slog.LevelDebug, "[FALLBACK] canceled by the caller",
			slog.String("chain", c.name),
			slog.String("step", e.Interrupted))
		return e
	}
	e.Reason = ReasonDeadline
	return c.fail(ctx, e, len(failures))
}

// fail logs a run that ended without an answer; failed counts the steps
// that failed rather than found nothing. A run in which every step found
// nothing is an answer ("nobody knows"), logged at debug level.
func (c *Chain[T]) fail(ctx context.Context, e *Error, failed int) *Error {
	level := slog.LevelError
	if failed == 0 && e.Reason == ReasonAllFailed {
		level = slog.LevelDebug
	}
	c.logger.LogAttrs(ctx, level, "[FALLBACK] no step served",
		slog.String("chain", c.name),
		slog.String("reason", e.Reason.String()),
		slog.String("error", e.Error()))
	return e
}

// served tells the observers and the log which step served; failed
// steps before it failed (rather than found nothing).
func (c *Chain[T]) served(ctx context.Context, i, failed int) {
	c.notify(ctx, i, nil, false, failed)
	if i == 0 {
		return
	}
	level, msg := slog.LevelInfo, "[FALLBACK] served by fallback"
	if failed == 0 {
		level, msg = slog.LevelDebug, "[FALLBACK] served by a later step: the steps before it found nothing"
	}
	c.logger.LogAttrs(ctx, level, msg,
		slog.String("chain", c.name),
		slog.String("step", c.steps[i].Name),
		slog.Int("index", i),
		slog.String("primary", c.steps[0].Name))
}

func (c *Chain[T]) notify(ctx context.Context, i int, err error, notFound bool, failedBefore int) {
	if len(c.obs) == 0 {
		return
	}
	s := &c.steps[i]
	e := StepEvent{
		Chain:        c.name,
		Primary:      c.steps[0].Name,
		Step:         s.Name,
		Index:        i,
		Degraded:     i > 0 || s.Degraded,
		Err:          err,
		NotFound:     notFound,
		FailedBefore: failedBefore,
	}
	for _, o := range c.obs {
		o.OnStep(ctx, e)
	}
}

// names lists the names of the steps from index i on (nil when none).
func (c *Chain[T]) names(i int) []string {
	if i >= len(c.steps) {
		return nil
	}
	out := make([]string, 0, len(c.steps)-i)
	for _, s := range c.steps[i:] {
		out = append(out, s.Name)
	}
	return out
}
