package dbreaker

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testproxy"
	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// scriptCounter counts the script runs a client sends (EVALSHA and EVAL),
// pipelined ones included.
type scriptCounter struct {
	mu   sync.Mutex
	runs int
}

func (c *scriptCounter) count(cmds ...redis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cmd := range cmds {
		if strings.HasPrefix(strings.ToLower(cmd.Name()), "eval") {
			c.runs++
		}
	}
}

func (c *scriptCounter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs
}

func (c *scriptCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *scriptCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.count(cmd); return next(ctx, cmd) }
}
func (c *scriptCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.count(cmds...); return next(ctx, cmds) }
}

// Calls that arrive while a script is in flight go together in the next
// one: behind a slow link, 32 concurrent Strict calls cost a handful of
// acquire and report runs, not 64, and every outcome is recorded.
func TestGroupCommitBatchesConcurrentCalls(t *testing.T) {
	srv := testredis.StartServer(t)
	proxy := testproxy.New(t, "redis", srv.Addr)
	if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(`{"name":"lag","type":"latency","stream":"downstream","attributes":{"latency":100}}`)); err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(&redis.Options{Addr: proxy.Listen, ContextTimeoutEnabled: true, PoolSize: 64})
	t.Cleanup(func() { client.Close() })
	scripts := &scriptCounter{}
	client.AddHook(scripts)
	b, _ := newRedisBreaker(t, client, "group", "usda", Config{FailureThreshold: 1000})
	ctx := context.Background()
	const calls = 32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := b.Do(ctx, failing); !errors.Is(err, errUpstream) {
				t.Errorf("call: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if runs := scripts.get(); runs > calls/2 {
		t.Fatalf("%d script runs for %d concurrent calls: they did not go together", runs, calls)
	}
	s, err := b.State(ctx)
	if err != nil || s.Failures != calls {
		t.Fatalf("after %d failures in batches: %+v, %v", calls, s, err)
	}
	t.Logf("%d concurrent calls: %d script runs", calls, scripts.get())
}

// Half-open, one acquire run for several callers gives the free probe
// slots in order and refuses the rest with ErrTooManyProbes.
func TestAcquireBatchTakesOnlyTheFreeProbeSlots(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	b, store := newRedisBreaker(t, client, prefix, "usda", Config{FailureThreshold: 1, OpenTimeout: 50 * time.Millisecond, HalfOpenMaxProbes: 2, ProbeLease: time.Minute})
	ctx := context.Background()
	_ = b.Do(ctx, failing)
	redisAdvance(client)(t, 50*time.Millisecond)
	ds, err := store.acquireBatch(ctx, "usda", b.policy, []string{"t1", "t2", "t3", "t4"})
	if err != nil {
		t.Fatal(err)
	}
	var probes, refused int
	for i, d := range ds {
		switch {
		case d.Allowed && d.Probe:
			probes++
			if i >= 2 {
				t.Errorf("caller %d got a probe slot after the first two", i)
			}
		case !d.Allowed && errors.Is(d.Reason, ErrTooManyProbes):
			refused++
		default:
			t.Errorf("caller %d: %+v", i, d)
		}
	}
	if probes != 2 || refused != 2 || len(ds[0].Transitions) != 1 || len(ds[1].Transitions) != 0 {
		t.Fatalf("%d probes, %d refused, transitions %v then %v; want 2, 2, the half-open transition once", probes, refused, ds[0].Transitions, ds[1].Transitions)
	}
}

// acquireGate is a go-redis hook that holds each acquire script's reply,
// once Redis has run it, until the test lets it through: the call is in
// flight for as long as the test needs, whatever the machine's speed.
type acquireGate struct {
	sha  string
	held chan chan struct{} // one per acquire: close it to let the reply through
}

func (g *acquireGate) DialHook(next redis.DialHook) redis.DialHook { return next }
func (g *acquireGate) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if args := cmd.Args(); len(args) > 1 && strings.EqualFold(cmd.Name(), "evalsha") && args[1] == g.sha {
			release := make(chan struct{})
			g.held <- release
			<-release
		}
		return err
	}
}
func (g *acquireGate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A caller whose context ends while its batch is in flight gets its
// context's error at once; a probe slot the batch took for it is given
// back instead of waiting out its lease.
func TestGroupCommitCallerGivesUp(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	b, store := newRedisBreaker(t, client, prefix, "usda", Config{FailureThreshold: 1, OpenTimeout: 50 * time.Millisecond,
		HalfOpenMaxProbes: 2, ProbeLease: time.Hour})
	ctx := context.Background()
	_ = b.Do(ctx, failing)
	redisAdvance(client)(t, 50*time.Millisecond)
	gate := &acquireGate{sha: store.scripts.acquire.Hash(), held: make(chan chan struct{})}
	client.AddHook(gate)
	// The leader's acquire is held in flight; a second caller joins the
	// next batch, which is sent when the leader's returns, and gives up
	// while that batch is held in flight.
	leader := make(chan *Permit, 1)
	go func() {
		p, err := b.Allow(ctx)
		if err != nil {
			t.Errorf("leader: %v", err)
		}
		leader <- p
	}()
	inFlight := func(waiting int) func() bool {
		return func() bool {
			b.acquires.mu.Lock()
			defer b.acquires.mu.Unlock()
			return b.acquires.sending && len(b.acquires.next) == waiting
		}
	}
	first := <-gate.held
	testwait.For(t, 30*time.Second, "the leader's acquire to be in flight", inFlight(0))
	quitter, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := b.Allow(quitter)
		done <- err
	}()
	testwait.For(t, 30*time.Second, "the second caller to wait for the next batch", inFlight(1))
	close(first)
	p := <-leader
	if p == nil || !p.Probe() {
		t.Fatalf("the leader did not get a probe: %+v", p)
	}
	second := <-gate.held // Redis has run the second batch's acquire
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that gave up: %v, want context.Canceled", err)
	}
	close(second)
	// Only the leader holds a slot: the one the batch took for the caller
	// that gave up is given back.
	testwait.For(t, 30*time.Second, "one live probe", func() bool {
		s, err := b.State(ctx)
		return err == nil && s.Probes == 1
	})
	p.Done(nil)
}
