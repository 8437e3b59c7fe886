package dbreaker

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/pkg/redact"
)

// errDegraded is returned at once, without I/O, while Redis is known to be
// unreachable: this is the small breaker that guards the store, so calls
// stop paying the store timeout.
var errDegraded = fmt.Errorf("%w: Redis is unreachable; waiting for a health check", ErrStoreUnavailable)

// errStoreTimeout is the cause of a store call's context when StoreTimeout
// ends it, which tells the store's own timeout from the caller's deadline.
var errStoreTimeout = fmt.Errorf("%w: store timeout", ErrStoreUnavailable)

// healthCheckTimeout bounds one health check: room for a busy Redis, and
// none for a stalled one.
const healthCheckTimeout = time.Second

// failuresToDegrade is how many store calls in a row must fail before the
// store is taken for unavailable without a failed health check: one slow
// call on a busy machine decides that call locally and nothing more.
const failuresToDegrade = 3

// healthGuard says whether Redis is known to be unavailable. The first
// failed store call starts a health check at once; the store degrades when
// that check fails or failuresToDegrade calls in a row have failed, and
// stays degraded until a health check passes.
type healthGuard struct {
	degraded atomic.Bool
	failures atomic.Int32 // consecutive failed store calls
	checking atomic.Bool  // a health check started by a failed call runs
}

// Degraded reports whether Redis is known to be unavailable: breakers on
// the store then decide by their StoreFailure policy without trying it,
// until a health check (every HealthCheckInterval) passes.
func (s *RedisStore) Degraded() bool { return s.health.degraded.Load() }

// callerGaveUp reports whether a failed store call ended because of the
// caller's own context (cancelled, or a deadline of its own) rather than
// the store's timeout: the caller's business, not the store's failure.
func callerGaveUp(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(context.Cause(ctx), errStoreTimeout)
}

// call runs a script through the health guard. Every error but the
// caller's own cancellation counts against the store: Redis unreachable or
// too slow, and Redis answering with an error (OOM, READONLY, LOADING,
// MASTERDOWN, BUSY, a script error) or with a reply the store cannot read.
func (s *RedisStore) call(ctx context.Context, script luaScript, keys []string, args ...any) (any, error) {
	if s.health.degraded.Load() {
		return nil, errDegraded
	}
	v, err := script.run(ctx, s.client, keys, args...)
	if err != nil {
		s.noteCall(ctx, err)
	}
	return v, err
}

// decoded counts a store call whose script ran as answered, or as failed
// when its reply could not be read (err, from the decoder), and returns err.
// Every caller of call decodes the reply and ends with it.
func (s *RedisStore) decoded(ctx context.Context, err error) error {
	s.noteCall(ctx, err)
	return err
}

// noteCall counts a store call's outcome toward the health guard.
func (s *RedisStore) noteCall(ctx context.Context, err error) {
	switch {
	case err == nil:
		s.health.failures.Store(0)
	case callerGaveUp(ctx):
	default:
		s.failed(err)
	}
}

// refusals are the error replies by which Redis says it cannot serve the
// store now, whatever the next call: it takes no writes (out of memory, a
// read-only replica, a failed save), is loading, has no master, or runs a
// script that holds it. The store degrades on the first, as the health
// check would: reads may still work (a read-only acquire under OOM), so
// counting failures in a row would let every call's acquire reset the
// count while every report failed.
var refusals = []string{"OOM", "READONLY", "MISCONF", "NOREPLICAS", "LOADING", "MASTERDOWN", "BUSY", "CLUSTERDOWN"}

func refused(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	for _, prefix := range refusals {
		if redis.HasErrorPrefix(rerr, prefix) {
			return true
		}
	}
	return false
}

// failed counts one failed store call: a refusal, or enough in a row,
// degrade the store; the first starts a health check, whose failure
// degrades it at once.
func (s *RedisStore) failed(err error) {
	if s.health.degraded.Load() {
		return
	}
	if refused(err) || s.health.failures.Add(1) >= failuresToDegrade {
		s.markDown(err)
		return
	}
	if s.health.checking.CompareAndSwap(false, true) {
		started := s.background(func() {
			defer s.health.checking.Store(false)
			if err := s.healthCheck(context.Background()); err != nil {
				s.markDown(err)
			}
		})
		if !started {
			s.health.checking.Store(false)
		}
	}
}

// healthCheck writes a short-lived key, so a server that answers PING but
// refuses writes (out of memory, a read-only replica) fails it too.
func (s *RedisStore) healthCheck(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthCheckTimeout)
	defer cancel()
	return s.client.Set(ctx, s.prefix+":health", "1", time.Minute).Err()
}

// Check runs one health check now. When it fails, the store enters its
// degraded mode at once (breakers decide by their StoreFailure policy, and
// the health check runs every HealthCheckInterval until Redis answers) and
// the error says why. A service calls it at start-up, so that a replica
// started while Redis is down says so, and joins the shared state as soon as
// Redis answers.
func (s *RedisStore) Check(ctx context.Context) error {
	if err := s.healthCheck(ctx); err != nil {
		s.markDown(err)
		return fmt.Errorf("dbreaker: Redis health check: %w", err)
	}
	return nil
}

// markDown enters the degraded mode (logged once) and starts the health
// check.
func (s *RedisStore) markDown(err error) {
	if !s.health.degraded.CompareAndSwap(false, true) {
		return
	}
	s.logger.Warn("[CIRCUIT_BREAKER] Redis is unavailable; breakers decide locally until it answers again",
		"error", redact.ErrorText(err.Error()), "health_check_interval", s.healthInterval)
	_ = s.background(s.healthLoop)
}

// healthLoop checks Redis until it answers, then leaves the degraded mode.
// What replicas learned before may be stale (Redis may have restarted
// empty, events may have been lost): a new event epoch makes every view
// untrusted until the next reply, which restores Fast mode's local
// admission.
func (s *RedisStore) healthLoop() {
	for s.sleep(s.healthInterval) {
		if s.healthCheck(context.Background()) == nil {
			s.sub.bump()
			s.health.failures.Store(0)
			s.health.degraded.Store(false)
			s.logger.Info("[CIRCUIT_BREAKER] Redis answers again; breakers use the shared state")
			return
		}
	}
}
