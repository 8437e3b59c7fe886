package retry

import (
	"fmt"
	"math"
	"time"

	"github.com/healthagent/resilience/pkg/config"
)

// Defaults used for the zero fields of a Config.
const (
	DefaultMaxRetries     = 3
	DefaultBaseDelay      = time.Second
	DefaultMaxDelay       = 30 * time.Second
	DefaultJitterFraction = 0.1
)

// NoRetries, as Config.MaxRetries, makes exactly one attempt. (Zero means
// DefaultMaxRetries, so that the zero Config is the planned default.)
const NoRetries = -1

// Retries returns the Config.MaxRetries that makes exactly n retries, for a
// count that means what it says, such as one read from the environment: 0
// becomes NoRetries, since a zero MaxRetries means the default. A negative
// n is no count, -1 included (it is not NoRetries here): Retries returns a
// *config.Error for it.
func Retries(n int) (int, error) {
	switch {
	case n < 0:
		return 0, invalid("Retries(n)", n, "a count of retries must not be negative (0: a single attempt)")
	case n == 0:
		return NoRetries, nil
	}
	return n, nil
}

// Jitter selects how a computed backoff delay is randomised. Its zero value
// is JitterProportional.
type Jitter uint8

const (
	// JitterProportional spreads the exponential delay d uniformly over
	// [d·(1−f), d·(1+f)], f being Config.JitterFraction (default 10 %).
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

// Config says how often and how long to retry. Its zero value is the
// planned default: 3 retries (4 attempts), exponential backoff from 1 s
// doubling up to 30 s, ±10 % jitter, DefaultRetryable.
//
// Zero means "default" for every numeric field. Invalid values are never
// replaced by defaults: Validate and New report them as a *config.Error.
type Config struct {
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

	// Retryable reports whether an error is worth another attempt; nil means
	// DefaultRetryable. It is never asked about Permanent errors,
	// rejections (see Rejection) or errors returned after the caller's
	// context is done: those are never retried.
	Retryable func(err error) bool
}

// Validate reports the first invalid field as a *config.Error, or nil.
func (c Config) Validate() error {
	if c.MaxRetries < NoRetries {
		return invalid("MaxRetries", c.MaxRetries, "must be at least 0 (0 means the default 3), or NoRetries (-1) for a single attempt")
	}
	if c.BaseDelay < 0 {
		return invalid("BaseDelay", c.BaseDelay, "must not be negative")
	}
	if c.MaxDelay < 0 {
		return invalid("MaxDelay", c.MaxDelay, "must not be negative")
	}
	base, maxDelay := c.delays()
	if maxDelay < base {
		if c.MaxDelay == 0 {
			return invalid("BaseDelay", c.BaseDelay, fmt.Sprintf("must not exceed MaxDelay (default %s)", DefaultMaxDelay))
		}
		return invalid("MaxDelay", c.MaxDelay, fmt.Sprintf("must not be less than BaseDelay (%s)", base))
	}
	if c.Jitter > JitterNone {
		return invalid("Jitter", c.Jitter, "unknown jitter mode")
	}
	if math.IsNaN(c.JitterFraction) || c.JitterFraction < 0 || c.JitterFraction > 1 {
		return invalid("JitterFraction", c.JitterFraction, "must be in [0, 1]")
	}
	if c.JitterFraction != 0 && c.Jitter != JitterProportional {
		return invalid("JitterFraction", c.JitterFraction, fmt.Sprintf("is only used with JitterProportional, not %s", c.Jitter))
	}
	return nil
}

func (c Config) delays() (base, maxDelay time.Duration) {
	base, maxDelay = c.BaseDelay, c.MaxDelay
	if base == 0 {
		base = DefaultBaseDelay
	}
	if maxDelay == 0 {
		maxDelay = DefaultMaxDelay
	}
	return base, maxDelay
}

// settings is a valid Config with its defaults filled in.
type settings struct {
	maxRetries int
	base       time.Duration
	max        time.Duration
	jitter     Jitter
	fraction   float64
	retryable  func(error) bool
}

// settings assumes c is valid.
func (c Config) settings() settings {
	s := settings{
		maxRetries: c.MaxRetries,
		jitter:     c.Jitter,
		fraction:   c.JitterFraction,
		retryable:  c.Retryable,
	}
	s.base, s.max = c.delays()
	switch s.maxRetries {
	case 0:
		s.maxRetries = DefaultMaxRetries
	case NoRetries:
		s.maxRetries = 0
	}
	if s.fraction == 0 && s.jitter == JitterProportional {
		s.fraction = DefaultJitterFraction
	}
	if s.retryable == nil {
		s.retryable = DefaultRetryable
	}
	return s
}

// invalid returns the *config.Error of this package for field.
func invalid(field string, value any, reason string) error {
	return &config.Error{Package: "retry", Field: field, Value: value, Reason: reason}
}
