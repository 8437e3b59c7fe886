package dbreaker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// replica is one process's view of Redis: its own client and store.
type replica struct {
	client   *redis.Client
	store    *RedisStore
	b        *Breaker
	commands *testredis.CommandCounter
}

func newReplica(t *testing.T, addr, prefix, name string, cfg Config, storeOpts ...Option) *replica {
	t.Helper()
	return newObservedReplica(t, addr, prefix, name, cfg, nil, storeOpts...)
}

// newObservedReplica is newReplica with an observer on the breaker (nil:
// none). Without a StoreTimeout of its own, the breaker gets a roomy one:
// on a busy machine a store call that times out is decided locally, and
// only the tests about timeouts want that.
func newObservedReplica(t *testing.T, addr, prefix, name string, cfg Config, obs Observer, storeOpts ...Option) *replica {
	t.Helper()
	if cfg.StoreTimeout == 0 {
		cfg.StoreTimeout = roomy // tests about the store timeout set their own
	}
	r := &replica{commands: &testredis.CommandCounter{}}
	r.client = redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	r.client.AddHook(r.commands)
	t.Cleanup(func() { r.client.Close() })
	opts := append([]Option{WithKeyPrefix(prefix), WithLogger(discardLogger()), WithHealthCheckInterval(20 * time.Millisecond)}, storeOpts...)
	var err error
	if r.store, err = NewRedisStore(r.client, opts...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.store.Close(context.Background()) })
	bopts := []Option{WithLogger(discardLogger())}
	if obs != nil {
		bopts = append(bopts, WithObserver(obs))
	}
	if r.b, err = New(name, r.store, cfg, bopts...); err != nil {
		t.Fatal(err)
	}
	return r
}

// learned waits until the replica's view is current and shows state.
func (r *replica) learned(t *testing.T, state State) {
	t.Helper()
	testwait.For(t, 5*time.Second, "the view to show "+state.String(), func() bool {
		v := r.b.View()
		return v.Current && v.State == state
	})
}

// current waits for the replica's view to be current, asking the store
// once the subscription is live.
func (r *replica) current(t *testing.T) {
	t.Helper()
	testwait.For(t, 5*time.Second, "a live subscription", func() bool {
		if _, live := r.store.events(); !live {
			return false
		}
		if _, err := r.b.State(context.Background()); err != nil {
			t.Fatal(err)
		}
		return r.b.View().Current
	})
}

func TestEventsLetAnotherReplicaRejectLocally(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	a := newReplica(t, testredis.Addr(), prefix, "openai", Config{OpenTimeout: time.Minute})
	b := newReplica(t, testredis.Addr(), prefix, "openai", Config{OpenTimeout: time.Minute})
	b.current(t)
	for i := 0; i < 5; i++ {
		_ = a.b.Do(context.Background(), failing)
	}
	b.learned(t, Open) // from the event: b made no call since
	before := b.commands.Count()
	for i := 0; i < 100; i++ {
		if err := b.b.Do(context.Background(), succeeding); !errors.Is(err, ErrOpen) {
			t.Fatalf("call %d on b: %v", i, err)
		}
	}
	if n := b.commands.Count() - before; n != 0 {
		t.Fatalf("b sent %d Redis commands to reject 100 calls, want 0", n)
	}
	if v := b.b.View(); v.OpenFor <= 50*time.Second || v.OpenFor > time.Minute {
		t.Fatalf("b's view: open for %v, want about a minute", v.OpenFor)
	}
	// An operator's reset reaches b too.
	if _, err := a.b.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.learned(t, Closed)
	if err := b.b.Do(context.Background(), succeeding); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
}

func TestFastModeAdmitsLocallyAndFlushesInBatches(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	cfg := Config{Consistency: Fast, FailureThreshold: 5}
	a := newReplica(t, testredis.Addr(), prefix, "usda", cfg, WithFlushInterval(time.Hour), WithFlushBatch(100000))
	b := newReplica(t, testredis.Addr(), prefix, "usda", cfg, WithFlushInterval(time.Hour), WithFlushBatch(100000))
	a.current(t)
	b.current(t)
	ctx := context.Background()

	// Healthy: 1000 calls, no command until the flush, which folds them.
	before := a.commands.Count()
	for i := 0; i < 1000; i++ {
		if err := a.b.Do(ctx, succeeding); err != nil {
			t.Fatal(err)
		}
	}
	if n := a.commands.Count() - before; n != 0 {
		t.Fatalf("%d commands for 1000 Fast closed-state calls before a flush, want 0", n)
	}
	if q, _ := a.b.queue.take(); len(q) != 1 || q[0].Count != 1000 {
		t.Fatalf("queue = %+v, want one report of 1000 successes", q)
	}

	// An outage: the replica admits failing calls until it holds as many
	// failures that Redis has not seen as the threshold, then rejects at
	// once, long before its flush interval ends, and asks for the flush that
	// trips the breaker. The overshoot is bounded in calls, not in time.
	for i := 0; i < 5; i++ {
		if err := a.b.Do(ctx, failing); !errors.Is(err, errUpstream) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	upstream := 0
	for i := 0; i < 20; i++ {
		if err := a.b.Do(ctx, func(context.Context) error { upstream++; return errUpstream }); !errors.Is(err, ErrOpen) {
			t.Fatalf("call %d after 5 unseen failures: %v, want ErrOpen", i, err)
		}
	}
	if upstream != 0 {
		t.Fatalf("%d calls reached the upstream after 5 unseen failures", upstream)
	}
	a.learned(t, Open)
	if st := a.b.Stats(); st.StaleReports != 0 {
		t.Fatalf("stale reports = %d, want 0 (5 admitted, 5 to trip)", st.StaleReports)
	}
	b.learned(t, Open)
	if err := b.b.Do(ctx, succeeding); !errors.Is(err, ErrOpen) {
		t.Fatalf("b after the event: %v", err)
	}
	s, err := a.b.State(ctx)
	if err != nil || s.Failures != 5 || s.State != Open {
		t.Fatalf("shared state %+v, %v", s, err)
	}
}

// A full queue is flushed at once by the caller that filled it: outcomes
// reach Redis in their order. Sent out of order, "failure, success,
// failure" would be two consecutive failures and trip a threshold of 2.
func TestFullReportQueueKeepsTheOrder(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	r := newReplica(t, testredis.Addr(), prefix, "web", Config{Consistency: Fast, FailureThreshold: 2},
		WithFlushInterval(time.Hour), WithFlushBatch(100000), WithMaxQueue(2))
	r.current(t)
	ctx := context.Background()
	for _, call := range []func(context.Context) error{failing, succeeding, failing} {
		_ = r.b.Do(ctx, call)
	}
	if err := r.store.flushAll(ctx, true); err != nil {
		t.Fatal(err)
	}
	s, err := r.b.State(ctx)
	if err != nil || s.State != Closed || s.Failures != 1 {
		t.Fatalf("after failure, success, failure: %+v, %v; want closed with 1 consecutive failure", s, err)
	}
	if q, _ := r.b.queue.take(); q != nil {
		t.Fatalf("reports left behind: %+v", q)
	}
}

// After Close a Fast-mode breaker neither trusts its view nor queues: every
// call asks Redis and every outcome is reported at once.
func TestFastBreakerAfterClose(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	r := newReplica(t, testredis.Addr(), prefix, "web", Config{Consistency: Fast, FailureThreshold: 2}, WithFlushInterval(time.Hour))
	r.current(t)
	ctx := context.Background()
	if err := r.b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	before := r.commands.Count()
	_ = r.b.Do(ctx, failing)
	_ = r.b.Do(ctx, failing)
	if n := r.commands.Count() - before; n != 4 {
		t.Fatalf("%d commands for 2 calls after Close, want 4 (acquire and report each)", n)
	}
	if s, err := r.b.State(ctx); err != nil || s.State != Open {
		t.Fatalf("after 2 failures: %+v, %v", s, err)
	}
}

// Closing the store flushes what Fast-mode breakers still have queued.
func TestCloseFlushesQueuedReports(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	r := newReplica(t, testredis.Addr(), prefix, "usda", Config{Consistency: Fast, FailureThreshold: 10}, WithFlushInterval(time.Hour), WithFlushBatch(1000))
	r.current(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		_ = r.b.Do(ctx, failing)
	}
	state, _, _ := r.store.Keys("usda")
	if n, _ := client.HGet(ctx, state, "failures").Int(); n != 0 {
		t.Fatalf("failures in Redis before the flush: %d", n)
	}
	if err := r.store.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := client.HGet(ctx, state, "failures").Int(); err != nil || n != 3 {
		t.Fatalf("failures in Redis after Close: %d, %v; want 3", n, err)
	}
}
