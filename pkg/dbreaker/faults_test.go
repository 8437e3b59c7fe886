package dbreaker

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"

	"github.com/healthagent/resilience/internal/testproxy"
	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// Faults of Redis itself, on redis-server processes of the tests' own.

// flakyUpstream fails while down is set.
type flakyUpstream struct {
	down  atomic.Bool
	calls atomic.Int64
}

func (u *flakyUpstream) call(context.Context) error {
	u.calls.Add(1)
	if u.down.Load() {
		return errUpstream
	}
	return nil
}

// load runs goroutines calling through every replica until stopped, and
// counts calls and the errors that are neither the upstream's nor a
// breaker's rejection: calls that failed because of Redis.
type load struct {
	stop     atomic.Bool
	wg       sync.WaitGroup
	calls    []atomic.Int64 // per replica
	badMu    sync.Mutex
	badCalls []error
}

func startLoad(replicas []*replica, perReplica int, up *flakyUpstream) *load {
	l := &load{calls: make([]atomic.Int64, len(replicas))}
	for i, r := range replicas {
		for g := 0; g < perReplica; g++ {
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				for !l.stop.Load() {
					err := r.b.Do(context.Background(), up.call)
					l.calls[i].Add(1)
					if err != nil && !errors.Is(err, errUpstream) && !errors.Is(err, ErrOpen) && !errors.Is(err, ErrTooManyProbes) {
						l.badMu.Lock()
						l.badCalls = append(l.badCalls, err)
						l.badMu.Unlock()
					}
					time.Sleep(200 * time.Microsecond) // pacing: a steady load, not a spin
				}
			}()
		}
	}
	return l
}

// progress waits until every replica made n more calls.
func (l *load) progress(t *testing.T, n int64) {
	t.Helper()
	start := make([]int64, len(l.calls))
	for i := range l.calls {
		start[i] = l.calls[i].Load()
	}
	testwait.For(t, 10*time.Second, strconv.FormatInt(n, 10)+" more calls on every replica", func() bool {
		for i := range l.calls {
			if l.calls[i].Load()-start[i] < n {
				return false
			}
		}
		return true
	})
}

func (l *load) finish(t *testing.T) {
	t.Helper()
	l.stop.Store(true)
	l.wg.Wait()
	if len(l.badCalls) > 0 {
		t.Fatalf("%d calls failed because of Redis; first: %v", len(l.badCalls), l.badCalls[0])
	}
}

func TestRedisKilledMidRun(t *testing.T) {
	for _, mode := range []Consistency{Strict, Fast} {
		t.Run(mode.String(), func(t *testing.T) {
			srv := testredis.StartServer(t)
			cfg := Config{Consistency: mode, OpenTimeout: time.Hour}
			var replicas []*replica
			for i := 0; i < 3; i++ {
				replicas = append(replicas, newReplica(t, srv.Addr, "kill", "usda", cfg))
			}
			up := &flakyUpstream{}
			l := startLoad(replicas, 4, up)
			defer l.finish(t)
			l.progress(t, 50)

			// Redis dies: every replica degrades, calls go on.
			srv.Stop()
			for _, r := range replicas {
				testwait.For(t, 10*time.Second, "degraded mode", r.store.Degraded)
			}
			l.progress(t, 50)

			// The upstream fails while Redis is away: each replica's local
			// breaker protects it after its own threshold.
			before := up.calls.Load()
			up.down.Store(true)
			for _, r := range replicas {
				testwait.For(t, 10*time.Second, "the local breaker to open", func() bool {
					return errors.Is(r.b.Do(context.Background(), up.call), ErrOpen)
				})
			}
			l.progress(t, 50)
			failed := up.calls.Load() - before
			if max := int64(len(replicas) * (5 + 4 + 1)); failed > max {
				t.Fatalf("%d upstream calls while down and Redis away, want at most %d (threshold + in flight, per replica)", failed, max)
			}

			// Redis returns empty, the upstream too: every replica leaves
			// the degraded mode and they converge on Redis' state.
			up.down.Store(false)
			srv.Start()
			for _, r := range replicas {
				testwait.For(t, 10*time.Second, "the store to answer again", func() bool { return !r.store.Degraded() })
				r.current(t)
			}
			for _, r := range replicas {
				s, err := r.b.State(context.Background())
				if err != nil || s.State != Closed || s.Generation != 0 {
					t.Fatalf("after the restart: %+v, %v; want closed at generation 0 (Redis restarted empty)", s, err)
				}
			}
			l.progress(t, 20)

			// The shared breaker works again: failures from all replicas
			// add up to one trip.
			up.down.Store(true)
			for _, r := range replicas {
				r.learned(t, Open)
			}
			s, err := replicas[0].b.State(context.Background())
			if err != nil || s.Generation != 1 || s.Failures != 5 {
				t.Fatalf("shared trip after recovery: %+v, %v", s, err)
			}
		})
	}
}

func TestNetworkFaultBetweenOneReplicaAndRedis(t *testing.T) {
	faults := []struct {
		name      string
		cut, mend func(*testing.T, *toxiproxy.Proxy)
	}{
		{"cut", func(t *testing.T, p *toxiproxy.Proxy) { p.Stop() }, func(t *testing.T, p *toxiproxy.Proxy) {
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
		}},
		{"slow", func(t *testing.T, p *toxiproxy.Proxy) {
			if _, err := p.Toxics.AddToxicJson(strings.NewReader(`{"name":"lag","type":"latency","stream":"downstream","attributes":{"latency":3000}}`)); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, p *toxiproxy.Proxy) {
			if err := p.Toxics.RemoveToxic(context.Background(), "lag"); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, fault := range faults {
		t.Run(fault.name, func(t *testing.T) {
			srv := testredis.StartServer(t)
			proxy := testproxy.New(t, "redis", srv.Addr)
			// The lag (3 s) outlasts the store timeout and the health check
			// (1 s); the healthy replicas get room on a busy machine.
			cfg := Config{OpenTimeout: time.Hour, StoreTimeout: 250 * time.Millisecond}
			a := newReplica(t, srv.Addr, "net", "anthropic", cfg)
			b := newReplica(t, srv.Addr, "net", "anthropic", cfg)
			c := newReplica(t, proxy.Listen, "net", "anthropic", cfg)
			for _, r := range []*replica{a, b, c} {
				r.current(t)
			}
			up := &flakyUpstream{}
			fault.cut(t, proxy)
			testwait.For(t, 10*time.Second, "c to degrade", func() bool {
				if err := c.b.Do(context.Background(), up.call); err != nil {
					t.Fatalf("a call on c failed because of the fault: %v", err)
				}
				return c.store.Degraded()
			})
			if a.store.Degraded() || b.store.Degraded() {
				t.Fatal("a replica with a healthy link degraded")
			}
			// a and b keep the shared view: a's failures open it for b.
			for i := 0; i < 5; i++ {
				_ = a.b.Do(context.Background(), failing)
			}
			b.learned(t, Open)
			// c decides alone meanwhile: its upstream works, so it calls.
			if err := c.b.Do(context.Background(), up.call); err != nil {
				t.Fatalf("c while cut off: %v", err)
			}
			fault.mend(t, proxy)
			testwait.For(t, 10*time.Second, "c to see the shared open state", func() bool {
				return errors.Is(c.b.Do(context.Background(), up.call), ErrOpen)
			})
			if c.store.Degraded() {
				t.Fatal("c still degraded after the link came back")
			}
		})
	}
}

func TestSubscriptionDroppedAndRestored(t *testing.T) {
	srv := testredis.StartServer(t)
	admin := srv.Client()
	a := newReplica(t, srv.Addr, "sub", "web", Config{FailureThreshold: 1, OpenTimeout: time.Hour})
	b := newReplica(t, srv.Addr, "sub", "web", Config{FailureThreshold: 1, OpenTimeout: time.Hour})
	b.current(t)
	epoch, _ := b.store.events()
	if err := admin.Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	// The new subscription starts a new epoch: b's view is no longer
	// current until it learns the state again.
	testwait.For(t, 10*time.Second, "a new subscription", func() bool {
		e, live := b.store.events()
		return live && e > epoch
	})
	if b.b.View().Current {
		t.Fatal("a view from before the drop is still current")
	}
	b.current(t)
	_ = a.b.Do(context.Background(), failing)
	b.learned(t, Open) // events flow again
}
