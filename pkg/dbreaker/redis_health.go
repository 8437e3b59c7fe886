package dbreaker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// errDegraded is returned at once, without I/O, while Redis is known to be
// unreachable: this is the small breaker that guards the store, so calls
// stop paying the store timeout.
var errDegraded = fmt.Errorf("%w: Redis is unreachable; waiting for a health check", ErrStoreUnavailable)

// healthGuard trips on the first availability error and is reset by a
// successful PING from the health check.
type healthGuard struct {
	degraded atomic.Bool
}

// Degraded reports whether Redis is known to be unreachable: breakers on
// the store then decide by their StoreFailure policy without trying it,
// until a health check (a PING every HealthCheckInterval) passes.
func (s *RedisStore) Degraded() bool { return s.health.degraded.Load() }

// call runs a script through the health guard.
func (s *RedisStore) call(ctx context.Context, script luaScript, keys []string, args ...any) (any, error) {
	if s.health.degraded.Load() {
		return nil, errDegraded
	}
	v, err := script.run(ctx, s.client, keys, args...)
	if err != nil && unavailable(err) {
		s.markDown(err)
	}
	return v, err
}

// unavailable tells errors that mean "Redis cannot answer now" (network,
// timeouts, a server loading or without a master) from answers that are
// errors (a script error, a wrong type), which do not degrade the store.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, errReplyShape) {
		return false // the caller gave up, or Redis answered
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		for _, prefix := range []string{"LOADING", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "READONLY", "BUSY"} {
			if strings.HasPrefix(msg, prefix) {
				return true
			}
		}
		return false
	}
	return true
}

// markDown enters the degraded mode (logged once) and starts the health
// check.
func (s *RedisStore) markDown(err error) {
	if !s.health.degraded.CompareAndSwap(false, true) {
		return
	}
	s.sub.live.Store(false)
	s.logger.Warn("[CIRCUIT_BREAKER] Redis is unreachable; breakers decide locally until it answers again",
		"error", RedactErrorText(err.Error()), "health_check_interval", s.healthInterval)
	s.background(s.healthLoop)
}

// healthLoop pings Redis until it answers, then leaves the degraded mode.
func (s *RedisStore) healthLoop() {
	for s.sleep(s.healthInterval) {
		ctx, cancel := context.WithTimeout(context.Background(), min(s.healthInterval, time.Second))
		err := s.client.Ping(ctx).Err()
		cancel()
		if err == nil {
			s.sub.bump() // what we learned before may be stale: Redis may have restarted empty
			s.health.degraded.Store(false)
			s.logger.Info("[CIRCUIT_BREAKER] Redis answers again; breakers use the shared state")
			return
		}
	}
}
