package dbreaker

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// roomy is a store timeout for tests that are not about store timeouts: a
// busy machine must not turn their calls into local decisions.
const roomy = 5 * time.Second

// The state vanishes while every subscription stays up (a hand DEL,
// FLUSHALL, eviction, a failover that lost writes) and the breaker trips
// again from generation 0: a Fast replica that knew generation 3 must take
// the new incarnation, not ignore its "lower" generation.
func TestFastReplicaFollowsAStateThatVanished(t *testing.T) {
	for _, how := range []struct {
		name string
		lose func(t *testing.T, admin *redis.Client, prefix string)
	}{
		{"DEL", func(t *testing.T, admin *redis.Client, prefix string) {
			k := prefix + ":{usda}"
			if err := admin.Del(context.Background(), k, k+":window", k+":probes").Err(); err != nil {
				t.Fatal(err)
			}
		}},
		{"FLUSHALL", func(t *testing.T, admin *redis.Client, _ string) {
			if err := admin.FlushAll(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(how.name, func(t *testing.T) {
			srv := testredis.StartServer(t) // FLUSHALL: a server of the test's own
			admin := srv.Client()
			prefix := "vanish"
			fast := newReplica(t, srv.Addr, prefix, "usda", Config{Consistency: Fast, StoreTimeout: roomy})
			strict := newReplica(t, srv.Addr, prefix, "usda", Config{StoreTimeout: roomy})
			ctx := context.Background()
			for i := 0; i < 3; i++ {
				if _, err := strict.b.Reset(ctx); err != nil {
					t.Fatal(err)
				}
			}
			fast.current(t)
			if v := fast.b.View(); v.Generation != 3 || v.State != Closed {
				t.Fatalf("fast replica before the loss: %+v", v)
			}
			before := fast.b.View().Incarnation

			how.lose(t, admin, prefix)
			for i := 0; i < 5; i++ {
				_ = strict.b.Do(ctx, failing)
			}
			s, err := strict.b.State(ctx)
			if err != nil || s.State != Open || s.Generation != 1 || s.Incarnation == before || s.Incarnation == "" {
				t.Fatalf("the breaker after the loss and 5 failures: %+v, %v (incarnation before %q)", s, err, before)
			}
			testwait.For(t, 10*time.Second, "the fast replica to learn of the new trip", func() bool {
				v := fast.b.View()
				return v.State == Open && v.Incarnation == s.Incarnation && v.Generation == 1
			})
			var upstream atomic.Int64
			for i := 0; i < 100; i++ {
				err := fast.b.Do(ctx, func(context.Context) error { upstream.Add(1); return nil })
				if !errors.Is(err, ErrOpen) {
					t.Fatalf("call %d on the fast replica after the trip: %v", i, err)
				}
			}
			if n := upstream.Load(); n != 0 {
				t.Fatalf("%d calls reached the upstream while the breaker was open", n)
			}
		})
	}
}

// A generation at the edge of what Lua represents exactly starts a new
// incarnation instead of writing an unreadable 2^53.
func TestGenerationOverflowStartsANewIncarnation(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	b, store := newRedisBreaker(t, client, prefix, "web", Config{FailureThreshold: 1, StoreTimeout: roomy})
	ctx := context.Background()
	if err := b.Do(ctx, succeeding); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reset(ctx); err != nil { // the hash exists, with an incarnation
		t.Fatal(err)
	}
	key, _, _ := store.Keys("web")
	inc, err := client.HGet(ctx, key, "inc").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := client.HSet(ctx, key, "gen", strconv.FormatInt(1<<53-1, 10)).Err(); err != nil {
		t.Fatal(err)
	}
	_ = b.Do(ctx, failing)
	s, err := b.State(ctx)
	if err != nil || s.Corrupt || s.State != Open || s.Generation != 1 || s.Incarnation == inc {
		t.Fatalf("after a trip from generation 2^53-1: %+v, %v (incarnation before %q)", s, err, inc)
	}
}

// A report admitted while there was no hash at all counts against the
// hash that the first of them creates: the first failures of a new
// breaker are exact, as at every later generation.
func TestFirstFailuresOfANewBreakerAllCount(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	b, _ := newRedisBreaker(t, client, prefix, "web", Config{FailureThreshold: 3, StoreTimeout: roomy})
	ctx := context.Background()
	var permits []*Permit
	for i := 0; i < 3; i++ { // three calls admitted before anything is written
		p, err := b.Allow(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.inc != "" || p.Generation() != 0 {
			t.Fatalf("permit of a breaker never written: incarnation %q, generation %d", p.inc, p.Generation())
		}
		permits = append(permits, p)
	}
	for _, p := range permits {
		p.Done(errUpstream)
	}
	s, err := b.State(ctx)
	if err != nil || s.State != Open || s.Failures != 3 || b.Stats().StaleReports != 0 {
		t.Fatalf("after 3 failures admitted before the hash existed: %+v, %v, stats %+v", s, err, b.Stats())
	}
}
