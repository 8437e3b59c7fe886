package dbreaker

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/config"
)

// Option configures what New, NewRedisStore or NewMemoryStore builds: its
// collaborators (clock, logger, observers) and, for a RedisStore, the
// settings of its machinery. Each option's comment names the constructors
// that take it; the others refuse it with a *config.Error, as they refuse
// an invalid value.
type Option func(*options) error

// options are the options given to one constructor.
type options struct {
	clock     clock.Clock
	logger    *slog.Logger
	observers observers

	prefix         string
	flushInterval  time.Duration
	flushBatch     int
	maxQueue       int
	healthInterval time.Duration
	replica        string

	given []string // the names of the options given, in order
}

// WithClock sets the clock (default clock.Real()): the Breaker times calls
// and holds a known-open state with it, a MemoryStore runs its state
// machine on it. For New and NewMemoryStore.
func WithClock(c clock.Clock) Option {
	return func(o *options) error { return config.Set("dbreaker", &o.given, "WithClock", &o.clock, c) }
}

// WithLogger sets the logger (default slog.Default()), whose messages
// start with "[CIRCUIT_BREAKER]": a Breaker logs transitions and operator
// actions, a RedisStore says once when Redis becomes unreachable and once
// when it is back. For New and NewRedisStore.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return config.Set("dbreaker", &o.given, "WithLogger", &o.logger, l) }
}

// WithObserver adds an observer (metrics, tests) of a Breaker; it may be
// given several times. For New.
func WithObserver(obs Observer) Option {
	return func(o *options) error { return config.Add("dbreaker", &o.given, "WithObserver", &o.observers, obs) }
}

// WithKeyPrefix sets the prefix of every key and of the events channel of
// a RedisStore (default "dbreaker": keys "dbreaker:{name}", channel
// "dbreaker:events"). The same rules as for breaker names apply. For
// NewRedisStore.
func WithKeyPrefix(prefix string) Option {
	return func(o *options) error {
		o.given = append(o.given, "WithKeyPrefix")
		if err := validateIdent("key prefix", prefix); err != nil {
			return err
		}
		o.prefix = prefix
		return nil
	}
}

// WithFlushInterval sets how often a RedisStore flushes queued Fast-mode
// reports (default 5ms). For NewRedisStore.
func WithFlushInterval(d time.Duration) Option {
	return func(o *options) error {
		o.given = append(o.given, "WithFlushInterval")
		return positiveDuration("FlushInterval", d, &o.flushInterval)
	}
}

// WithFlushBatch makes a RedisStore flush a breaker's queue early once it
// holds n reports (default 64). For NewRedisStore.
func WithFlushBatch(n int) Option {
	return func(o *options) error {
		o.given = append(o.given, "WithFlushBatch")
		return intBetween("FlushBatch", n, 1, 100000, &o.flushBatch)
	}
}

// WithMaxQueue bounds a breaker's queue of Fast-mode reports in a
// RedisStore (default 1024). The call that fills it flushes it at once and
// waits for the reply: outcomes keep their order and none is dropped. For
// NewRedisStore.
func WithMaxQueue(n int) Option {
	return func(o *options) error {
		o.given = append(o.given, "WithMaxQueue")
		return intBetween("MaxQueue", n, 2, 1000000, &o.maxQueue)
	}
}

// WithHealthCheckInterval sets how often a degraded RedisStore checks Redis
// (default 1s) by writing a short-lived key; the first check that passes
// ends the degraded mode. For
// NewRedisStore.
func WithHealthCheckInterval(d time.Duration) Option {
	return func(o *options) error {
		o.given = append(o.given, "WithHealthCheckInterval")
		return positiveDuration("HealthCheckInterval", d, &o.healthInterval)
	}
}

func intBetween(name string, n, lo, hi int, dst *int) error {
	if n < lo || n > hi {
		return invalid(name, n, fmt.Sprintf("want %d to %d", lo, hi))
	}
	*dst = n
	return nil
}

func positiveDuration(name string, d time.Duration, dst *time.Duration) error {
	if d < time.Millisecond || d > time.Hour {
		return invalid(name, d, "want a duration from 1ms to 1h")
	}
	*dst = d
	return nil
}

// resolve applies opts over the defaults for constructor what, which takes
// the options named in accepted.
func resolve(what string, opts []Option, accepted ...string) (options, error) {
	o := options{
		clock: clock.Real(), logger: slog.Default(),
		prefix: DefaultKeyPrefix, flushInterval: 5 * time.Millisecond, flushBatch: 64, maxQueue: 1024, healthInterval: time.Second,
	}
	err := config.ApplyOptions("dbreaker", what, &o, &o.given, opts, accepted...)
	return o, err
}

// invalid returns the *config.Error of this package for field.
func invalid(field string, value any, reason string) error {
	return &config.Error{Package: "dbreaker", Field: field, Value: value, Reason: reason}
}
