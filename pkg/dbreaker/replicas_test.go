package dbreaker

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/redis/go-redis/v9"
)

// Several replicas of one service: each has its own Redis client, store and
// Breaker, sharing one breaker name on the real server.

const replicaCount = 3

type transitionHook struct {
	NopObserver
	fn func(Transition)
}

func (h transitionHook) OnTransition(t Transition) { h.fn(t) }

type replicas struct {
	breakers []*Breaker
	admin    redis.UniversalClient
	prefix   string
}

// redisTarget makes the clients of one Redis deployment: the shared
// server, or a cluster of the test's own.
type redisTarget struct {
	admin     func(t *testing.T) redis.UniversalClient
	newClient func(t *testing.T) redis.UniversalClient
}

var sharedRedis = redisTarget{
	admin: func(t *testing.T) redis.UniversalClient { return testredis.Client(t) },
	newClient: func(t *testing.T) redis.UniversalClient {
		c := redis.NewClient(&redis.Options{Addr: testredis.Addr(), PoolSize: 64, ContextTimeoutEnabled: true})
		t.Cleanup(func() { c.Close() })
		return c
	},
}

func (rt redisTarget) replicas(t *testing.T, name string, cfg Config, opts ...Option) *replicas {
	t.Helper()
	// These tests check the logic under heavy concurrency on a shared, slow
	// (-race) machine, not store latency.
	cfg.StoreTimeout = 5 * time.Second
	admin := rt.admin(t)
	r := &replicas{admin: admin, prefix: testredis.Prefix(t, admin)}
	for i := 0; i < replicaCount; i++ {
		b, _ := newRedisBreaker(t, rt.newClient(t), r.prefix, name, cfg, opts...)
		r.breakers = append(r.breakers, b)
	}
	return r
}

func (r *replicas) stale() int64 {
	var n int64
	for _, b := range r.breakers {
		n += b.Stats().StaleReports
	}
	return n
}

// Goroutines on every replica loop on failing calls until they are refused.
// The breaker trips at exactly the threshold (no lost update), every call
// admitted beyond it reports stale, and no call asked for after the trip
// was committed is admitted.
func TestReplicasTripAtExactlyTheThreshold(t *testing.T) {
	testReplicasTripAtExactlyTheThreshold(t, sharedRedis)
}

func testReplicasTripAtExactlyTheThreshold(t *testing.T, rt redisTarget) {
	const trials, perReplica, threshold = 15, 16, 5
	for trial := 0; trial < trials; trial++ {
		var tripped atomic.Bool
		var trips atomic.Int32
		hook := transitionHook{fn: func(tr Transition) {
			if tr.To == Open {
				trips.Add(1)
				tripped.Store(true)
			}
		}}
		name := "loop-" + strconv.Itoa(trial)
		r := rt.replicas(t, name, Config{FailureThreshold: threshold}, WithObserver(hook))
		var upstream, admittedAfterTrip atomic.Int64
		var wg sync.WaitGroup
		for _, b := range r.breakers {
			for g := 0; g < perReplica; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						askedAfterTrip := tripped.Load()
						p, err := b.Allow(context.Background())
						if err != nil {
							if !errors.Is(err, ErrOpen) {
								t.Errorf("Allow: %v", err)
							}
							return
						}
						if askedAfterTrip {
							admittedAfterTrip.Add(1)
						}
						upstream.Add(1)
						p.Done(errUpstream)
					}
				}()
			}
		}
		wg.Wait()
		s, err := r.breakers[0].State(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.State != Open || s.Generation != 1 || s.Failures != threshold || trips.Load() != 1 {
			t.Fatalf("trial %d: %+v, %d trips; want open at generation 1 with exactly %d failures", trial, s, trips.Load(), threshold)
		}
		if got, want := r.stale(), upstream.Load()-threshold; got != want {
			t.Fatalf("trial %d: %d stale reports for %d upstream calls, want %d", trial, got, upstream.Load(), want)
		}
		if n := admittedAfterTrip.Load(); n != 0 {
			t.Fatalf("trial %d: %d calls admitted after the trip was committed", trial, n)
		}
		if max := int64(replicaCount*perReplica - 1); upstream.Load()-threshold > max {
			t.Fatalf("trial %d: %d calls beyond the threshold, more than were in flight (%d)", trial, upstream.Load()-threshold, max)
		}
	}
}

// 96 one-shot calls, all admitted while closed, report their failures at
// once: the first five recorded trip the breaker, the other 91 are stale.
func TestReplicasBarrierOf96OneShotFailures(t *testing.T) {
	testReplicasBarrierOf96OneShotFailures(t, sharedRedis)
}

func testReplicasBarrierOf96OneShotFailures(t *testing.T, rt redisTarget) {
	const trials, calls, threshold = 10, 96, 5
	for trial := 0; trial < trials; trial++ {
		var trips atomic.Int32
		hook := transitionHook{fn: func(tr Transition) {
			if tr.To == Open {
				trips.Add(1)
			}
		}}
		r := rt.replicas(t, "barrier-"+strconv.Itoa(trial), Config{FailureThreshold: threshold}, WithObserver(hook))
		permits := make([]*Permit, calls)
		var admitted sync.WaitGroup
		release := make(chan struct{})
		var done sync.WaitGroup
		for i := 0; i < calls; i++ {
			admitted.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				p, err := r.breakers[i%replicaCount].Allow(context.Background())
				permits[i] = p
				admitted.Done()
				if err != nil {
					t.Errorf("call %d not admitted while closed: %v", i, err)
					return
				}
				<-release
				p.Done(errUpstream)
			}()
		}
		admitted.Wait()
		for i, p := range permits {
			if p != nil && p.Generation() != 0 {
				t.Fatalf("call %d admitted at generation %d", i, p.Generation())
			}
		}
		close(release)
		done.Wait()
		s, err := r.breakers[0].State(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.State != Open || s.Failures != threshold || s.Generation != 1 || trips.Load() != 1 {
			t.Fatalf("trial %d: %+v, %d trips", trial, s, trips.Load())
		}
		if got := r.stale(); got != calls-threshold {
			t.Fatalf("trial %d: %d stale reports, want %d", trial, got, calls-threshold)
		}
	}
}

// While half-open, the number of probes running at once across every
// replica never exceeds HalfOpenMaxProbes.
func TestReplicasHalfOpenProbesNeverExceedTheLimit(t *testing.T) {
	testReplicasHalfOpenProbesNeverExceedTheLimit(t, sharedRedis)
}

func testReplicasHalfOpenProbesNeverExceedTheLimit(t *testing.T, rt redisTarget) {
	for _, limit := range []int{1, 3} {
		t.Run("limit "+strconv.Itoa(limit), func(t *testing.T) {
			const perReplica, failedRounds = 8, 12
			var closed atomic.Bool
			var stateAt sync.Map // generation -> state entered at that generation
			hook := transitionHook{fn: func(tr Transition) {
				stateAt.Store(tr.Generation, tr.To)
				if tr.To == Closed {
					closed.Store(true)
				}
			}}
			r := rt.replicas(t, "probes", Config{
				FailureThreshold: 1, OpenTimeout: 15 * time.Millisecond, HalfOpenMaxProbes: limit, ProbeLease: 10 * time.Second,
			}, WithObserver(hook))
			if err := r.breakers[0].Do(context.Background(), failing); !errors.Is(err, errUpstream) {
				t.Fatal(err)
			}
			var active, maxActive, probes atomic.Int64
			var nonProbeGens sync.Map
			deadline := time.Now().Add(30 * time.Second)
			var wg sync.WaitGroup
			for _, b := range r.breakers {
				for g := 0; g < perReplica; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for !closed.Load() && time.Now().Before(deadline) {
							p, err := b.Allow(context.Background())
							if err != nil {
								if !IsRejected(err) {
									t.Errorf("Allow: %v", err)
									return
								}
								time.Sleep(time.Millisecond) // pacing, not synchronisation
								continue
							}
							if !p.Probe() {
								nonProbeGens.Store(p.Generation(), true)
								p.Done(nil)
								continue
							}
							n := active.Add(1)
							for m := maxActive.Load(); n > m && !maxActive.CompareAndSwap(m, n); m = maxActive.Load() {
							}
							time.Sleep(2 * time.Millisecond) // the probe's own call
							active.Add(-1)
							if probes.Add(1) <= failedRounds*int64(limit) {
								p.Done(errUpstream)
							} else {
								p.Done(nil)
							}
						}
					}()
				}
			}
			wg.Wait()
			if !closed.Load() {
				t.Fatalf("the breaker never closed (%d probes)", probes.Load())
			}
			if m := maxActive.Load(); m > int64(limit) || m < 1 {
				t.Fatalf("%d probes ran at once, limit %d", m, limit)
			}
			if probes.Load() < failedRounds {
				t.Fatalf("only %d probes ran", probes.Load())
			}
			nonProbeGens.Range(func(gen, _ any) bool {
				if st, _ := stateAt.Load(gen); st != Closed {
					t.Errorf("a call was admitted as a non-probe at generation %d, state %v", gen, st)
				}
				return true
			})
		})
	}
}

// A replica takes the probe and vanishes without reporting: the slot stays
// taken for exactly one lease, then another replica probes and recovers.
func TestReplicasVanishedProbeFreesItsSlotAfterTheLease(t *testing.T) {
	testReplicasVanishedProbeFreesItsSlotAfterTheLease(t, sharedRedis)
}

func testReplicasVanishedProbeFreesItsSlotAfterTheLease(t *testing.T, rt redisTarget) {
	const lease = 300 * time.Millisecond
	r := rt.replicas(t, "lease", Config{FailureThreshold: 1, OpenTimeout: 10 * time.Millisecond, ProbeLease: lease})
	ctx := context.Background()
	_ = r.breakers[0].Do(ctx, failing)
	redisAdvance(r.admin)(t, 10*time.Millisecond)
	crashed, err := r.breakers[0].Allow(ctx)
	if err != nil || !crashed.Probe() {
		t.Fatalf("first probe: %v", err)
	}
	_, _, probesKey := r.breakers[0].store.(*RedisStore).Keys("lease")
	leaseEnd, err := r.admin.ZScore(ctx, probesKey, r.breakers[0].tokenPrefix+"2").Result()
	if err != nil {
		t.Fatalf("lease of the first probe: %v", err)
	}
	var rejected int
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := r.breakers[1+rejected%2].Allow(ctx)
		if err == nil {
			now, _ := r.admin.Time(ctx).Result()
			if !p.Probe() {
				t.Fatal("admitted as a non-probe while half-open")
			}
			if now.UnixMilli() < int64(leaseEnd) {
				t.Fatalf("second probe at %d, before the first lease ended at %d", now.UnixMilli(), int64(leaseEnd))
			}
			if late := now.Sub(time.UnixMilli(int64(leaseEnd))); late > time.Second {
				t.Fatalf("second probe %v after the lease ended", late)
			}
			p.Done(nil)
			break
		}
		if !errors.Is(err, ErrTooManyProbes) {
			t.Fatalf("while the lease runs: %v", err)
		}
		rejected++
		if time.Now().After(deadline) {
			t.Fatal("no replica could probe after the lease ended")
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	if rejected == 0 {
		t.Fatal("no call was refused while the lease ran")
	}
	if s, _ := r.breakers[2].State(ctx); s.State != Closed {
		t.Fatalf("after the second probe: %+v", s)
	}
	crashed.Done(nil) // the vanished replica comes back late
	if r.breakers[0].Stats().StaleReports != 1 {
		t.Fatalf("the late report was not stale: %+v", r.breakers[0].Stats())
	}
}
