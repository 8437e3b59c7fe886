package dbreaker

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// A caller's own cancelled or expired context is the caller's business: it
// neither degrades the store nor lets the local breaker admit calls that
// Redis would refuse.
func TestCallersDeadlineIsNotAStoreFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"expired", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}, context.DeadlineExceeded},
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := testredis.Client(t)
			prefix := testredis.Prefix(t, client)
			cfg := Config{OpenTimeout: 50 * time.Millisecond, ProbeLease: time.Minute, StoreTimeout: roomy}
			r := newReplica(t, testredis.Addr(), prefix, "usda", cfg)
			ctx := context.Background()
			for i := 0; i < 5; i++ {
				_ = r.b.Do(ctx, failing)
			}
			redisAdvance(client)(t, 50*time.Millisecond)
			probe, err := r.b.Allow(ctx)
			if err != nil || !probe.Probe() {
				t.Fatalf("probe: %v", err)
			}
			defer probe.Done(nil)

			callerCtx, cancel := tc.ctx()
			defer cancel()
			if _, err := r.b.Allow(callerCtx); !errors.Is(err, tc.want) {
				t.Fatalf("Allow with a %s context: %v, want %v", tc.name, err, tc.want)
			}
			if r.store.Degraded() || r.b.Stats().StoreErrors != 0 {
				t.Fatalf("a %s caller context counted against the store: degraded %v, %+v", tc.name, r.store.Degraded(), r.b.Stats())
			}
			for i := 0; i < 20; i++ {
				if err := r.b.Do(ctx, succeeding); !errors.Is(err, ErrTooManyProbes) {
					t.Fatalf("call %d while Redis holds the one probe: %v, want ErrTooManyProbes", i, err)
				}
			}
		})
	}
}

// The store's timeout bounds every call whatever the client's own
// timeouts: a client that would let go-redis wait its ReadTimeout is
// refused, and with a paused Redis a call is decided locally.
func TestStoreTimeoutIsEnforced(t *testing.T) {
	t.Run("a client without ContextTimeoutEnabled is refused", func(t *testing.T) {
		clients := map[string]redis.UniversalClient{
			"Client":        redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}),
			"ClusterClient": redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}),
			"Ring":          redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}}),
		}
		for name, c := range clients {
			_, err := NewRedisStore(c)
			if err == nil || !strings.Contains(err.Error(), "ContextTimeoutEnabled") {
				t.Errorf("%s without ContextTimeoutEnabled: err = %v", name, err)
			}
			c.Close()
		}
	})

	t.Run("a paused Redis holds a call no longer than the store timeout", func(t *testing.T) {
		srv := testredis.StartServer(t)
		client := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true, MaxRetries: -1,
			ReadTimeout: time.Hour, WriteTimeout: time.Hour, PoolTimeout: time.Hour})
		t.Cleanup(func() { client.Close() })
		b, _ := newRedisBreaker(t, client, "paused", "usda", Config{StoreTimeout: 50 * time.Millisecond})
		ctx := context.Background()
		if err := b.Do(ctx, succeeding); err != nil {
			t.Fatal(err)
		}
		srv.Pause()
		defer srv.Resume()
		done := make(chan error, 1)
		go func() { done <- b.Do(ctx, succeeding) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("call with Redis paused: %v", err)
			}
		case <-time.After(time.Minute): // the client would wait an hour
			t.Fatal("a call with Redis paused waited for the client's ReadTimeout")
		}
		if st := b.Stats(); st.LocalDecisions != 1 || st.StoreErrors == 0 {
			t.Fatalf("stats after the paused call: %+v", st)
		}
	})
}

// One failed store call is decided locally and nothing more; repeated
// failures degrade the store, and the health check that ends the degraded
// mode also gives Fast mode its local admission back.
func TestStoreDegradesOnlyOnRepeatedFailure(t *testing.T) {
	newHooked := func(t *testing.T, cfg Config) (*replica, *scriptFaults) {
		t.Helper()
		client := testredis.Client(t)
		prefix := testredis.Prefix(t, client)
		r := newReplica(t, testredis.Addr(), prefix, "usda", cfg)
		hook := &scriptFaults{}
		r.client.AddHook(hook)
		return r, hook
	}
	timeout := func(c *redis.Cmd) { c.SetErr(errors.New("i/o timeout")) }

	t.Run("one failed call", func(t *testing.T) {
		r, hook := newHooked(t, Config{StoreTimeout: roomy})
		ctx := context.Background()
		hook.set(timeout)
		if err := r.b.Do(ctx, succeeding); err != nil {
			t.Fatal(err)
		}
		hook.clear()
		if r.store.Degraded() {
			t.Fatal("one failed call degraded the store")
		}
		testwait.For(t, 10*time.Second, "the health check to finish", func() bool { return !r.store.health.checking.Load() })
		if r.store.Degraded() {
			t.Fatal("the health check of a healthy Redis failed")
		}
		if st := r.b.Stats(); st.LocalDecisions != 1 {
			t.Fatalf("stats: %+v, want the one failed call decided locally", st)
		}
	})

	t.Run("Fast mode after a degraded episode", func(t *testing.T) {
		r, hook := newHooked(t, Config{Consistency: Fast, StoreTimeout: roomy})
		r.current(t)
		ctx := context.Background()
		hook.set(timeout)
		for i := 0; i < failuresToDegrade && !r.store.Degraded(); i++ {
			// A probe's report bypasses the queue; Strict-like store calls
			// come from State here.
			_, _ = r.b.State(ctx)
		}
		testwait.For(t, 10*time.Second, "the store to degrade", r.store.Degraded)
		hook.clear()
		testwait.For(t, 10*time.Second, "the health check to restore the store", func() bool { return !r.store.Degraded() })
		testwait.For(t, 10*time.Second, "a current view again", func() bool {
			_ = r.b.Do(ctx, succeeding)
			return r.b.View().Current
		})
		before := r.commands.Count()
		for i := 0; i < 100; i++ {
			if err := r.b.Do(ctx, succeeding); err != nil {
				t.Fatal(err)
			}
		}
		// The flusher may send one batch meanwhile; a call that asked Redis
		// would cost an acquire each.
		if n := r.commands.Count() - before; n > 2 {
			t.Fatalf("%d commands for 100 Fast calls after the store recovered: local admission did not come back", n)
		}
	})
}

// Redis that answers with errors is as unavailable as Redis that does not
// answer: out of memory, a Strict breaker's failures still trip a breaker
// (the local one), and the upstream is protected.
func TestRedisOutOfMemoryDecidesLocally(t *testing.T) {
	srv := testredis.StartServer(t, "--maxmemory-policy", "noeviction")
	admin := srv.Client()
	ctx := context.Background()
	// A limit of one byte: every write is refused whatever the memory in
	// use does meanwhile (client buffers grow and shrink with the load).
	if err := admin.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Set(ctx, "probe", "1", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "OOM") {
		t.Fatalf("Redis is not out of memory: SET gave %v", err)
	}
	r := newReplica(t, srv.Addr, "oom", "usda", Config{StoreTimeout: roomy})
	var upstream atomic.Int64
	for i := 0; i < 100; i++ {
		_ = r.b.Do(ctx, func(context.Context) error { upstream.Add(1); return errUpstream })
	}
	if n := upstream.Load(); n != DefaultFailureThreshold {
		t.Fatalf("%d of 100 failing calls reached the upstream with Redis out of memory, want %d", n, DefaultFailureThreshold)
	}
	if v := r.b.View(); !v.Local || v.State != Open {
		t.Fatalf("view: %+v, want the local breaker open", v)
	}
}

// transitionLog records the transitions an observer sees.
type transitionLog struct {
	NopObserver
	mu  sync.Mutex
	got []Transition
}

func (l *transitionLog) OnTransition(t Transition) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, t)
}

func (l *transitionLog) has(match func(Transition) bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range l.got {
		if match(t) {
			return true
		}
	}
	return false
}

// What a replica decides locally while Redis is down is what it shows:
// View, State and the observers say open, and say it is local.
func TestLocalDecisionsAreVisible(t *testing.T) {
	srv := testredis.StartServer(t)
	client := srv.Client(func(o *redis.Options) { o.MaxRetries = -1 })
	log := &transitionLog{}
	b, store := newRedisBreaker(t, client, "local", "usda", Config{StoreTimeout: roomy}, WithObserver(log))
	ctx := context.Background()
	if err := b.Do(ctx, succeeding); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	testwait.For(t, 10*time.Second, "the store to degrade", func() bool {
		_ = b.Do(ctx, succeeding)
		return store.Degraded()
	})
	for i := 0; i < DefaultFailureThreshold; i++ {
		_ = b.Do(ctx, failing)
	}
	if err := b.Do(ctx, succeeding); !errors.Is(err, ErrOpen) {
		t.Fatalf("call after 5 local failures: %v", err)
	}
	if v := b.View(); v.State != Open || !v.Local {
		t.Fatalf("View = %+v, want open and local", v)
	}
	if s, err := b.State(ctx); err != nil || s.State != Open || !s.Local {
		t.Fatalf("State = %+v, %v, want open and local", s, err)
	}
	if !log.has(func(t Transition) bool { return t.Local && t.From == Closed && t.To == Open }) {
		t.Fatalf("observer saw %+v, want a local closed→open", log.got)
	}
}

// An operator's action is a transition every replica reports, not only the
// one that applied it.
func TestOverridesReachEveryObserver(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	log := &transitionLog{}
	watcher := newObservedReplica(t, testredis.Addr(), prefix, "usda", Config{StoreTimeout: roomy}, log)
	operator := newReplica(t, testredis.Addr(), prefix, "usda", Config{StoreTimeout: roomy})
	watcher.current(t)
	if _, err := operator.b.ForceOpen(context.Background()); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "the watcher's observer to see the override", func() bool {
		return log.has(func(t Transition) bool { return t.To == ForcedOpen && !t.Local })
	})
	if _, err := operator.b.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "the watcher's observer to see the reset", func() bool {
		return log.has(func(t Transition) bool { return t.From == ForcedOpen && t.To == Closed })
	})
}

// A replica that starts while Redis is down starts degraded, decides
// locally, and joins the shared state when Redis answers.
func TestStartWithRedisDown(t *testing.T) {
	srv := testredis.StartServer(t)
	srv.Stop()
	client := srv.Client(func(o *redis.Options) { o.MaxRetries = -1 })
	store, err := NewRedisStore(client, WithKeyPrefix("late"), WithLogger(discardLogger()), WithHealthCheckInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(context.Background()) })
	ctx := context.Background()
	if err := store.Check(ctx); err == nil || !store.Degraded() {
		t.Fatalf("Check with Redis down: %v, degraded %v", err, store.Degraded())
	}
	b, err := New("usda", store, Config{StoreTimeout: roomy}, WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Do(ctx, succeeding); err != nil || b.Stats().LocalDecisions != 1 {
		t.Fatalf("call while Redis is down: %v, %+v", err, b.Stats())
	}
	srv.Start()
	testwait.For(t, 10*time.Second, "the store to join Redis", func() bool { return !store.Degraded() })
	_ = b.Do(ctx, failing)
	state, _, _ := store.Keys("usda")
	if got, err := srv.Client().HGet(ctx, state, "failures").Result(); err != nil || got != "1" {
		t.Fatalf("Redis after the replica joined: failures = %q, %v", got, err)
	}
}
