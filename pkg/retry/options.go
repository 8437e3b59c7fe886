package retry

import (
	"context"
	"log/slog"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/config"
)

// Option gives New or NewBudget a collaborator: a clock, a logger, an
// observer, a budget, a check before each wait, a source of randomness.
// Each option's comment names the constructors that take it; the others
// refuse it with a *config.Error.
type Option func(*options) error

type options struct {
	clock      clock.Clock
	logger     *slog.Logger
	observers  []Observer
	budget     *Budget
	beforeWait []func(ctx context.Context, delay time.Duration) error
	rand       func() float64

	given []string // the names of the options given, in order
}

// WithClock sets the source of time (default clock.Real()): a Policy waits
// on its timers, a Budget expires deposits by it. Tests inject a fake one
// so that nothing really sleeps. For New and NewBudget.
func WithClock(c clock.Clock) Option {
	return func(o *options) error { return config.Set("retry", &o.given, "WithClock", &o.clock, c) }
}

// WithLogger sets the logger (default slog.Default()): each retry and each
// give-up is logged at level Warn with a message starting "[RETRY]". Only
// the error text returned by the call is logged, its URLs' queries and
// user info removed. For New.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return config.Set("retry", &o.given, "WithLogger", &o.logger, l) }
}

// WithObserver adds an observer of retries and stops (metrics, tests); it
// may be given several times. For New.
func WithObserver(obs Observer) Option {
	return func(o *options) error { return config.Add("retry", &o.given, "WithObserver", &o.observers, obs) }
}

// WithBudget limits retries with b, shared by every call of every Policy
// given it: give each upstream one Budget (default: no budget). For New.
func WithBudget(b *Budget) Option {
	return func(o *options) error { return config.Set("retry", &o.given, "WithBudget", &o.budget, b) }
}

// WithBeforeWait adds a check asked before each wait for a retry whether an
// attempt made after waiting delay could run at all. An error (a circuit
// breaker that will still be open by then) stops the retry at once instead
// of waiting in vain: Execute returns a *GiveUpError with Reason
// StopBlocked, which matches ErrBlocked and unwraps to both the last
// attempt's error and the check's. It may be given several times; the
// checks are asked in order. chain.Guard adds one that asks its breaker.
// For New.
func WithBeforeWait(check func(ctx context.Context, delay time.Duration) error) Option {
	return func(o *options) error { return config.Add("retry", &o.given, "WithBeforeWait", &o.beforeWait, check) }
}

// WithRand sets the source of uniform random numbers in [0, 1) for jitter
// (default math/rand/v2.Float64). It must be safe for concurrent use if the
// Policy is shared. Values outside [0, 1] are clamped. For New.
func WithRand(r func() float64) Option {
	return func(o *options) error { return config.Set("retry", &o.given, "WithRand", &o.rand, r) }
}

// apply applies opts for constructor what, which takes the options named
// in accepted.
func (o *options) apply(what string, opts []Option, accepted ...string) error {
	return config.ApplyOptions("retry", what, o, &o.given, opts, accepted...)
}
