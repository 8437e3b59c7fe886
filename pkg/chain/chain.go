package chain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
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
	name    string
	steps   []Step[T]
	timeout time.Duration
	stopOn  func(error) bool
	logger  *slog.Logger
	obs     []Observer
	clock   clock.Clock
}

type options struct {
	timeout   time.Duration
	stopOn    func(error) bool
	logger    *slog.Logger
	observers []Observer
	clock     clock.Clock
}

// Option configures a Chain.
type Option func(*options)

// WithTimeout bounds every run of the chain (default: none beyond the
// caller's own deadline). Steps that have not started when it passes are
// not tried.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithStopOn makes the chain stop, without trying the next steps, when a step
// fails with an error for which final returns true (default: every failure
// falls through to the next step). IsBadRequest is a ready predicate.
func WithStopOn(final func(error) bool) Option { return func(o *options) { o.stopOn = final } }

// WithLogger sets the logger (default slog.Default()). Messages start with
// "[FALLBACK]".
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClock sets the clock that tells how much time is left for a step's
// Share (default: the system clock).
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// WithObserver adds an observer (metrics, tests); it may be given several
// times.
func WithObserver(obs Observer) Option {
	return func(o *options) { o.observers = append(o.observers, obs) }
}

// New returns a chain named name ("text", "vision") that tries steps in
// order. It checks the name, every step and every option, and names what is
// wrong.
func New[T any](name string, steps []Step[T], opts ...Option) (*Chain[T], error) {
	if name == "" {
		return nil, errors.New("chain: New: empty chain name")
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("chain: New(%q): no steps", name)
	}
	for i, s := range steps {
		switch {
		case s.Name == "":
			return nil, fmt.Errorf("chain: New(%q): step %d has no name", name, i)
		case s.Fn == nil:
			return nil, fmt.Errorf("chain: New(%q): step %d (%q) has a nil Fn", name, i, s.Name)
		case s.Timeout < 0:
			return nil, fmt.Errorf("chain: New(%q): step %d (%q) has a negative Timeout %s", name, i, s.Name, s.Timeout)
		case !(s.Share >= 0 && s.Share <= 1):
			return nil, fmt.Errorf("chain: New(%q): step %d (%q) has Share %v, want 0 to 1", name, i, s.Name, s.Share)
		}
		for j := range i {
			if steps[j].Name == s.Name {
				return nil, fmt.Errorf("chain: New(%q): steps %d and %d are both named %q", name, j, i, s.Name)
			}
		}
	}
	o := options{logger: slog.Default(), clock: clock.Real()}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("chain: New(%q): nil option", name)
		}
		opt(&o)
	}
	switch {
	case o.timeout < 0:
		return nil, fmt.Errorf("chain: New(%q): negative timeout %s", name, o.timeout)
	case o.logger == nil:
		return nil, fmt.Errorf("chain: New(%q): nil logger", name)
	case slices.Contains(o.observers, nil):
		return nil, fmt.Errorf("chain: New(%q): nil observer", name)
	case o.clock == nil:
		return nil, fmt.Errorf("chain: New(%q): nil clock", name)
	}
	return &Chain[T]{
		name:    name,
		steps:   slices.Clone(steps),
		timeout: o.timeout,
		stopOn:  o.stopOn,
		logger:  o.logger,
		obs:     o.observers,
		clock:   o.clock,
	}, nil
}

// Run builds a chain of steps with the default options and runs it once.
// Keep a Chain made with New for a chain that runs often.
func Run[T any](ctx context.Context, name string, steps ...Step[T]) (Result[T], error) {
	c, err := New(name, steps)
	if err != nil {
		return Result[T]{}, err
	}
	return c.Run(ctx)
}

// Name returns the chain's name.
func (c *Chain[T]) Name() string { return c.name }

// Run tries the steps in order and returns the first success. When no step
// serves it returns an *Error: every step failed (ErrAllFailed), a step
// failed with a final error (ErrFinal), the deadline passed
// (context.DeadlineExceeded), or the caller cancelled ctx (context.Canceled).
func (c *Chain[T]) Run(ctx context.Context) (Result[T], error) {
	runCtx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var failures []*StepError
	for i := range c.steps {
		s := &c.steps[i]
		if runCtx.Err() != nil {
			return Result[T]{}, c.stop(ctx, runCtx, i, "", failures)
		}
		v, err := c.runStep(runCtx, s)
		if err == nil {
			c.served(ctx, i)
			return Result[T]{Value: v, Step: s.Name, Index: i, Degraded: i > 0 || s.Degraded, Failures: failures}, nil
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			// The caller gave up: what the step returned says nothing about
			// the upstream.
			return Result[T]{}, c.stop(ctx, runCtx, i+1, s.Name, failures)
		}
		failures = append(failures, &StepError{Step: s.Name, Index: i, Err: err})
		c.notify(ctx, i, err)
		if runCtx.Err() != nil {
			return Result[T]{}, c.stop(ctx, runCtx, i+1, "", failures)
		}
		if c.stopOn != nil && c.stopOn(err) {
			return Result[T]{}, c.fail(ctx, &Error{Chain: c.name, Reason: ReasonFinal, Failures: failures, NotTried: c.names(i + 1)})
		}
		if i+1 < len(c.steps) {
			c.logger.LogAttrs(ctx, slog.LevelWarn, "[FALLBACK] step failed, trying next",
				slog.String("chain", c.name),
				slog.String("step", s.Name),
				slog.Int("index", i),
				slog.String("next", c.steps[i+1].Name),
				slog.String("error", redact.ErrorText(err.Error())))
		}
	}
	return Result[T]{}, c.fail(ctx, &Error{Chain: c.name, Reason: ReasonAllFailed, Failures: failures})
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
	return c.fail(ctx, e)
}

// fail logs a run that ended without an answer.
func (c *Chain[T]) fail(ctx context.Context, e *Error) *Error {
	c.logger.LogAttrs(ctx, slog.LevelError, "[FALLBACK] no step served",
		slog.String("chain", c.name),
		slog.String("reason", e.Reason.String()),
		slog.String("error", e.Error()))
	return e
}

// served tells the observers and the log which step served.
func (c *Chain[T]) served(ctx context.Context, i int) {
	c.notify(ctx, i, nil)
	if i > 0 {
		c.logger.LogAttrs(ctx, slog.LevelInfo, "[FALLBACK] served by fallback",
			slog.String("chain", c.name),
			slog.String("step", c.steps[i].Name),
			slog.Int("index", i),
			slog.String("primary", c.steps[0].Name))
	}
}

func (c *Chain[T]) notify(ctx context.Context, i int, err error) {
	if len(c.obs) == 0 {
		return
	}
	s := &c.steps[i]
	e := StepEvent{
		Chain:    c.name,
		Primary:  c.steps[0].Name,
		Step:     s.Name,
		Index:    i,
		Degraded: i > 0 || s.Degraded,
		Err:      err,
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
