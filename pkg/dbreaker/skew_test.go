package dbreaker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// Replicas whose clocks disagree by minutes share one breaker exactly as
// replicas with true clocks do: every decision is taken on Redis' clock,
// and a replica converts "open until" with Redis' own reading.
func TestReplicaClockSkewChangesNothing(t *testing.T) {
	const openTimeout = 300 * time.Millisecond
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	var rs []*replica
	for _, skew := range []time.Duration{-7 * time.Minute, 0, 11 * time.Minute} {
		r := &replica{commands: &testredis.CommandCounter{}}
		r.client = redis.NewClient(&redis.Options{Addr: testredis.Addr(), ContextTimeoutEnabled: true})
		r.client.AddHook(r.commands)
		t.Cleanup(func() { r.client.Close() })
		var err error
		if r.store, err = NewRedisStore(r.client, WithKeyPrefix(prefix), WithLogger(discardLogger())); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.store.Close(context.Background()) })
		if r.b, err = New("usda", r.store, Config{OpenTimeout: openTimeout, StoreTimeout: roomy}, WithClock(clocktest.Offset(skew)), WithLogger(discardLogger())); err != nil {
			t.Fatal(err)
		}
		r.current(t)
		rs = append(rs, r)
	}
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		_ = rs[i%3].b.Do(ctx, failing)
	}
	for _, r := range rs {
		r.learned(t, Open)
		if v := r.b.View(); v.OpenFor <= 0 || v.OpenFor > openTimeout {
			t.Fatalf("a replica skewed by minutes thinks the breaker is open for %v, want at most %v", v.OpenFor, openTimeout)
		}
	}
	s, err := rs[0].b.State(ctx)
	if err != nil || s.Failures != 5 || s.Generation != 1 {
		t.Fatalf("shared state: %+v, %v", s, err)
	}
	// Every replica rejects locally now, and every one can probe once the
	// open timeout has passed on Redis' clock, not on its own.
	for _, r := range rs {
		if err := r.b.Do(ctx, succeeding); !errors.Is(err, ErrOpen) {
			t.Fatalf("while open: %v", err)
		}
	}
	redisAdvance(client)(t, openTimeout)
	testwait.For(t, 5*time.Second, "the skewed replica to probe", func() bool {
		return rs[2].b.Do(ctx, succeeding) == nil
	})
	for _, r := range rs {
		r.learned(t, Closed)
	}
}
