package retry

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
)

// Defaults used for the zero fields of a Policy.
const (
	DefaultMaxRetries     = 3
	DefaultBaseDelay      = time.Second
	DefaultMaxDelay       = 30 * time.Second
	DefaultJitterFraction = 0.1
)

// NoRetries, as Policy.MaxRetries, makes exactly one attempt. (Zero means
// DefaultMaxRetries, so that the zero Policy is the planned default.)
const NoRetries = -1

// Jitter selects how a computed backoff delay is randomised. Its zero value
// is JitterProportional.
type Jitter uint8

const (
	// JitterProportional spreads the exponential delay d uniformly over
	// [d·(1−f), d·(1+f)], f being Policy.JitterFraction (default 10 %).
	JitterProportional Jitter = iota
	// JitterFull picks uniformly in [0, d]: the widest spread, and on average
	// half the wait.
	JitterFull
	// JitterDecorrelated picks uniformly in [BaseDelay, 3·previous delay],
	// capped at MaxDelay: it grows like the exponential schedule without
	// keeping replicas in step.
	JitterDecorrelated
	// JitterNone uses the exponential delay as it is.
	JitterNone
)

var jitterNames = [...]string{"proportional", "full", "decorrelated", "none"}

// String returns "proportional", "full", "decorrelated" or "none".
func (j Jitter) String() string {
	if int(j) < len(jitterNames) {
		return jitterNames[j]
	}
	return fmt.Sprintf("jitter(%d)", uint8(j))
}

// Policy says how often and how long to retry. Its zero value is the
// planned default: 3 retries (4 attempts), exponential backoff from 1 s
// doubling up to 30 s, ±10 % jitter, DefaultClassifier, no budget, no hooks,
// the real clock. A Policy is read, never written, by Do: one Policy may be
// shared by any number of concurrent calls, as long as nobody changes it
// meanwhile.
//
// Zero means "default" for every numeric field. Invalid values are never
// replaced by defaults: Validate, Do and Run report them as a *ConfigError.
type Policy struct {
	// Name identifies the upstream ("openai", "usda") in events and logs.
	Name string

	// MaxRetries is the number of retries after the first attempt: 0 means
	// DefaultMaxRetries (3), NoRetries (-1) means a single attempt. Any other
	// negative value is invalid.
	MaxRetries int
	// BaseDelay is the delay before the first retry; the n-th retry waits
	// BaseDelay·2^(n−1), capped at MaxDelay, then jittered. 0 means
	// DefaultBaseDelay (1 s); negative is invalid.
	BaseDelay time.Duration
	// MaxDelay caps every wait, jitter and Retry-After included. 0 means
	// DefaultMaxDelay (30 s); negative, or less than BaseDelay, is invalid.
	MaxDelay time.Duration
	// Jitter selects the randomisation; the zero value is JitterProportional.
	Jitter Jitter
	// JitterFraction is f for JitterProportional, in [0, 1]; 0 means
	// DefaultJitterFraction (0.1). Use JitterNone for no jitter at all. It
	// must be left 0 with the other jitter modes.
	JitterFraction float64

	// Classifier reports whether an error is worth another attempt; nil means
	// DefaultClassifier. It is never asked about Permanent errors, circuit
	// breaker rejections (dbreaker.IsRejected) or errors returned after the
	// caller's context is done: those are never retried.
	Classifier func(err error) bool
	// Budget, if not nil, limits retries across every call sharing it: give
	// each upstream one Budget.
	Budget *Budget

	// BeforeWait, if not nil, is asked before each wait for a retry whether
	// an attempt made after waiting delay could run at all. An error (a
	// circuit breaker that will still be open by then) stops Do at once
	// instead of waiting in vain: Do returns a *GiveUpError with Reason
	// StopBlocked, which matches ErrBlocked and unwraps to both the last
	// attempt's error and this one. chain.Guard asks its breaker.
	BeforeWait func(ctx context.Context, delay time.Duration) error

	// OnRetry, if not nil, is called before each wait for a retry.
	OnRetry func(ctx context.Context, e RetryEvent)
	// OnStop, if not nil, is called once when Do returns, successful or not.
	OnStop func(ctx context.Context, e StopEvent)
	// Logger, if not nil, logs each retry and each give-up at level Warn with
	// messages starting "[RETRY]". Only the error text returned by the call
	// is logged.
	Logger *slog.Logger

	// Clock is the source of time; nil means clock.Real().
	Clock clock.Clock
	// Rand returns uniform random numbers in [0, 1) for jitter; nil means
	// math/rand/v2.Float64. It must be safe for concurrent use if the Policy
	// is shared. Values outside [0, 1] are clamped.
	Rand func() float64
}

// Validate reports the first invalid field as a *ConfigError, or nil.
func (p *Policy) Validate() error {
	if p == nil {
		return nil
	}
	if p.MaxRetries < NoRetries {
		return &ConfigError{"MaxRetries", p.MaxRetries, "must be at least 0 (0 means the default 3), or NoRetries (-1) for a single attempt"}
	}
	if p.BaseDelay < 0 {
		return &ConfigError{"BaseDelay", p.BaseDelay, "must not be negative"}
	}
	if p.MaxDelay < 0 {
		return &ConfigError{"MaxDelay", p.MaxDelay, "must not be negative"}
	}
	base, maxDelay := p.delays()
	if maxDelay < base {
		if p.MaxDelay == 0 {
			return &ConfigError{"BaseDelay", p.BaseDelay, fmt.Sprintf("must not exceed MaxDelay (default %s)", DefaultMaxDelay)}
		}
		return &ConfigError{"MaxDelay", p.MaxDelay, fmt.Sprintf("must not be less than BaseDelay (%s)", base)}
	}
	if p.Jitter > JitterNone {
		return &ConfigError{"Jitter", p.Jitter, "unknown jitter mode"}
	}
	if math.IsNaN(p.JitterFraction) || p.JitterFraction < 0 || p.JitterFraction > 1 {
		return &ConfigError{"JitterFraction", p.JitterFraction, "must be in [0, 1]"}
	}
	if p.JitterFraction != 0 && p.Jitter != JitterProportional {
		return &ConfigError{"JitterFraction", p.JitterFraction, fmt.Sprintf("is only used with JitterProportional, not %s", p.Jitter)}
	}
	return nil
}

func (p *Policy) delays() (base, maxDelay time.Duration) {
	base, maxDelay = p.BaseDelay, p.MaxDelay
	if base == 0 {
		base = DefaultBaseDelay
	}
	if maxDelay == 0 {
		maxDelay = DefaultMaxDelay
	}
	return base, maxDelay
}

// settings is a valid Policy with its defaults filled in.
type settings struct {
	maxRetries int
	base       time.Duration
	max        time.Duration
	jitter     Jitter
	fraction   float64
	classify   func(error) bool
	clock      clock.Clock
	rand       func() float64
}

// settings assumes p is valid.
func (p *Policy) settings() settings {
	s := settings{
		maxRetries: p.MaxRetries,
		jitter:     p.Jitter,
		fraction:   p.JitterFraction,
		classify:   p.Classifier,
		clock:      p.Clock,
		rand:       p.Rand,
	}
	s.base, s.max = p.delays()
	switch s.maxRetries {
	case 0:
		s.maxRetries = DefaultMaxRetries
	case NoRetries:
		s.maxRetries = 0
	}
	if s.fraction == 0 && s.jitter == JitterProportional {
		s.fraction = DefaultJitterFraction
	}
	if s.classify == nil {
		s.classify = DefaultClassifier
	}
	if s.clock == nil {
		s.clock = clock.Real()
	}
	if s.rand == nil {
		s.rand = rand.Float64
	}
	return s
}
