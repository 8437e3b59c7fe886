package dbreaker

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/redis/go-redis/v9"
)

// commandCounter is a go-redis hook counting the commands a client sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// eventually waits for cond, failing the test after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond) // polling interval
	}
}

// replica is one process's view of Redis: its own client and store.
type replica struct {
	client   *redis.Client
	store    *RedisStore
	b        *Breaker
	commands *commandCounter
}

func newReplica(t *testing.T, addr, prefix, name string, cfg Config, storeOpts ...RedisOption) *replica {
	t.Helper()
	r := &replica{commands: &commandCounter{}}
	r.client = redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	r.client.AddHook(r.commands)
	t.Cleanup(func() { r.client.Close() })
	opts := append([]RedisOption{WithKeyPrefix(prefix), WithStoreLogger(discardLogger()), WithHealthCheckInterval(20 * time.Millisecond)}, storeOpts...)
	var err error
	if r.store, err = NewRedisStore(r.client, opts...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.store.Close(context.Background()) })
	if r.b, err = New(name, r.store, cfg, WithLogger(discardLogger())); err != nil {
		t.Fatal(err)
	}
	return r
}

// learned waits until the replica's view is current and shows state.
func (r *replica) learned(t *testing.T, state State) {
	t.Helper()
	eventually(t, 5*time.Second, "the view to show "+state.String(), func() bool {
		v := r.b.View()
		return v.Current && v.State == state
	})
}

// current waits for the replica's view to be current, asking the store
// once the subscription is live.
func (r *replica) current(t *testing.T) {
	t.Helper()
	eventually(t, 5*time.Second, "a live subscription", func() bool {
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
	before := b.commands.n.Load()
	for i := 0; i < 100; i++ {
		if err := b.b.Do(context.Background(), succeeding); !errors.Is(err, ErrOpen) {
			t.Fatalf("call %d on b: %v", i, err)
		}
	}
	if n := b.commands.n.Load() - before; n != 0 {
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
	before := a.commands.n.Load()
	for i := 0; i < 1000; i++ {
		if err := a.b.Do(ctx, succeeding); err != nil {
			t.Fatal(err)
		}
	}
	if n := a.commands.n.Load() - before; n != 0 {
		t.Fatalf("%d commands for 1000 Fast closed-state calls before a flush, want 0", n)
	}
	if q := a.b.queue.take(); len(q) != 1 || q[0].Count != 1000 {
		t.Fatalf("queue = %+v, want one report of 1000 successes", q)
	}

	// An outage: 20 failures admitted within one flush interval. The flush
	// records the first 5 (the trip) and the other 15 come back stale: the
	// overshoot is what one interval let through, no more.
	for i := 0; i < 20; i++ {
		if err := a.b.Do(ctx, failing); !errors.Is(err, errUpstream) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if err := a.store.flushAll(ctx); err != nil {
		t.Fatal(err)
	}
	if st := a.b.Stats(); st.StaleReports != 15 {
		t.Fatalf("stale reports = %d, want 15 (20 admitted, 5 to trip)", st.StaleReports)
	}
	if err := a.b.Do(ctx, succeeding); !errors.Is(err, ErrOpen) {
		t.Fatalf("a after its flush tripped the breaker: %v", err)
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

func TestReportQueueNeverDropsFailures(t *testing.T) {
	s := &RedisStore{maxQueue: 4, flushBatch: 1000}
	s.flusher.signal = make(chan struct{}, 1)
	q := &reportQueue{s: s}
	ok := Report{Outcome: Success, Count: 1}
	bad := Report{Outcome: Failure, Count: 1}
	slow := Report{Outcome: Success, Slow: true, Count: 1}
	// s s f s(slow) f s f f f: alternation defeats folding at the tail, so
	// the bound folds the oldest successes out of the queue.
	for _, r := range []Report{ok, ok, bad, slow, bad, ok, bad, bad, bad} {
		q.push(r)
	}
	got := q.take()
	var failures, successes, slowOnes int
	for _, r := range got {
		switch {
		case r.Outcome == Failure:
			failures += r.Count
		case r.Slow:
			slowOnes += r.Count
		default:
			successes += r.Count
		}
	}
	if failures != 5 || successes != 3 || slowOnes != 1 {
		t.Fatalf("after folding: %d failures, %d successes, %d slow in %+v; want 5, 3, 1", failures, successes, slowOnes, got)
	}
	// The failures keep their order relative to each other, before the
	// folded successes.
	if got[len(got)-1].Outcome != Success {
		t.Fatalf("folded successes are not flushed last: %+v", got)
	}
	if q.take() != nil {
		t.Fatal("take left reports behind")
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
	before := r.commands.n.Load()
	_ = r.b.Do(ctx, failing)
	_ = r.b.Do(ctx, failing)
	if n := r.commands.n.Load() - before; n != 4 {
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
