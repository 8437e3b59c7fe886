package dbreaker

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testproxy"
	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// The randomized fault schedule. A short run is part of `make test`; a long
// one is
//
//	go test -run TestFaultSchedule -faults.rounds 200 ./pkg/dbreaker/
//
// Every run prints its seed; -faults.seed replays that schedule (the faults,
// their order and timing; not the goroutines' interleaving).
var (
	faultSeed     = flag.Uint64("faults.seed", 0, "seed of the fault schedule to replay (0: a new one)")
	faultRounds   = flag.Int("faults.rounds", 0, "rounds of the fault schedule (0: one round per kind of fault)")
	faultConverge = flag.Duration("faults.converge", time.Second, "how soon after the last fault every replica must agree with Redis")
)

// fault is one kind of fault the schedule draws.
type fault int

const (
	faultPause       fault = iota // SIGSTOP, then SIGCONT
	faultRestart                  // killed, restarted empty
	faultFlushAll                 // FLUSHALL
	faultPubSubKill               // CLIENT KILL TYPE pubsub
	faultScriptFlush              // SCRIPT FLUSH
	faultLag                      // latency beyond the store timeout, one replica
	faultCut                      // the connection cut, one replica
	faultOOM                      // maxmemory below what is used, noeviction
	faultKinds
)

func (f fault) String() string {
	return [...]string{"pause", "restart", "flushall", "pubsub-kill", "script-flush", "lag", "cut", "oom"}[f]
}

// loses: the fault may empty the breakers' state.
func (f fault) loses() bool { return f == faultRestart || f == faultFlushAll }

// round is one step of the schedule: the upstream starts failing at
// failAt, the fault hits at faultAt and is mended after lasting for, and the
// upstream heals upAfter the later of the two.
type round struct {
	fault                  fault
	failAt, faultAt, lasts time.Duration
	upAfter                time.Duration
}

func (r round) String() string {
	return fmt.Sprintf("%s at %v for %v, upstream failing from %v until %v after", r.fault, r.faultAt, r.lasts, r.failAt, r.upAfter)
}

func newSchedule(seed uint64, rounds int) []round {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ms := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Millisecond }
	kinds := rng.Perm(int(faultKinds))
	out := make([]round, rounds)
	for i := range out {
		k := fault(rng.IntN(int(faultKinds)))
		if i < len(kinds) {
			k = fault(kinds[i]) // every kind at least once
		}
		out[i] = round{fault: k, failAt: ms(0, 200), faultAt: ms(0, 300), lasts: ms(100, 500), upAfter: ms(50, 300)}
	}
	return out
}

// The breakers under test: one Strict and one Fast name, on every replica.
const (
	strictName = "sched-strict"
	fastName   = "sched-fast"
)

func scheduleConfig(mode Consistency) Config {
	return Config{Consistency: mode, FailureThreshold: 5, OpenTimeout: 100 * time.Millisecond,
		HalfOpenMaxProbes: 2, ProbeLease: 10 * time.Second, StoreTimeout: 200 * time.Millisecond}
}

// scheduleHistory is what the checker needs of everything that happened.
type scheduleHistory struct {
	mu         sync.Mutex
	admissions []admission       // Strict calls admitted by Redis while closed
	trips      map[tripKey]int64 // Redis time (ms) of every committed trip seen
	inexact    []string          // trips that did not record exactly the threshold
	bad        []error           // calls that failed because of Redis
	probes     map[tripKey]int   // probes running, per breaker and incarnation (gen unused)
	maxProbes  map[tripKey]int
}

type tripKey struct {
	name, inc string
	gen       int64
}

type admission struct {
	name    string
	inc     string
	gen     int64
	startMs int64
}

// tripRecorder is a go-redis hook that reads every report script reply
// (pipelined ones too) for the trips it committed.
type tripRecorder struct {
	h      *scheduleHistory
	sha    string
	source string
}

func (r *tripRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *tripRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		r.read(cmd)
		return err
	}
}
func (r *tripRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			r.read(c)
		}
		return err
	}
}

func (r *tripRecorder) read(cmd redis.Cmder) {
	c, ok := cmd.(*redis.Cmd)
	args := cmd.Args()
	if !ok || c.Err() != nil || len(args) < 8 {
		return
	}
	if script, _ := args[1].(string); script != r.sha && script != r.source {
		return
	}
	name, _ := args[7].(string)
	res, err := parseReportReply(name, c.Val())
	if err != nil {
		return
	}
	for _, tr := range res.Transitions {
		if tr.From != Closed || tr.To != Open {
			continue
		}
		r.h.mu.Lock()
		r.h.trips[tripKey{name, tr.Incarnation, tr.Generation}] = res.Snapshot.StoreTime.UnixMilli()
		if res.Snapshot.Failures != 5 {
			r.h.inexact = append(r.h.inexact, fmt.Sprintf("%s trip to (%s, %d) recorded %d failures", name, tr.Incarnation, tr.Generation, res.Snapshot.Failures))
		}
		r.h.mu.Unlock()
	}
}

// scheduleReplica is one replica: its client (replica 0's through a proxy)
// and store, holding both breakers.
type scheduleReplica struct {
	store        *RedisStore
	strict, fast *Breaker
}

func TestFaultSchedule(t *testing.T) {
	seed := *faultSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	rounds := *faultRounds
	if rounds == 0 {
		rounds = int(faultKinds)
	}
	schedule := newSchedule(seed, rounds)
	t.Logf("fault schedule seed %d (replay: go test -run TestFaultSchedule -faults.seed %d -faults.rounds %d ./pkg/dbreaker/)", seed, seed, rounds)

	srv := testredis.StartServer(t, "--maxmemory-policy", "noeviction")
	admin := srv.Client(func(o *redis.Options) { o.MaxRetries = -1 })
	proxy := testproxy.New(t, "redis", srv.Addr)
	h := &scheduleHistory{trips: map[tripKey]int64{}, probes: map[tripKey]int{}, maxProbes: map[tripKey]int{}}

	var replicas []*scheduleReplica
	for i := 0; i < replicaCount; i++ {
		addr := srv.Addr
		if i == 0 {
			addr = proxy.Listen
		}
		client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
		t.Cleanup(func() { client.Close() })
		store, err := NewRedisStore(client, WithKeyPrefix("sched"), WithLogger(discardLogger()),
			WithHealthCheckInterval(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		client.AddHook(&tripRecorder{h: h, sha: store.scripts.report.Hash(), source: scriptSource(t, "report")})
		t.Cleanup(func() { store.Close(context.Background()) })
		r := &scheduleReplica{store: store}
		if r.strict, err = New(strictName, store, scheduleConfig(Strict), WithLogger(discardLogger())); err != nil {
			t.Fatal(err)
		}
		if r.fast, err = New(fastName, store, scheduleConfig(Fast), WithLogger(discardLogger())); err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, r)
	}
	adminStore, err := NewRedisStore(redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true, MaxRetries: -1}),
		WithKeyPrefix("sched"), WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adminStore.Close(context.Background()); adminStore.client.Close() })

	// The load: goroutines on every replica and breaker until the end.
	const goroutines = 4
	var failing atomic.Bool
	var fastFailures atomic.Int64 // failing calls on the Fast breaker, this round
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, r := range replicas {
		for _, b := range []*Breaker{r.strict, r.fast} {
			for g := 0; g < goroutines; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !stop.Load() {
						h.call(b, &failing, &fastFailures)
						time.Sleep(200 * time.Microsecond) // pacing: a steady load, not a spin
					}
				}()
			}
		}
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()

	ctx := context.Background()
	var worstConvergence time.Duration
	for i, rd := range schedule {
		fastFailures.Store(0)
		start := time.Now()
		failed := failingSince(&failing, start.Add(rd.failAt))
		mend := applyFault(t, rd.fault, srv, admin, proxy, start.Add(rd.faultAt))
		time.Sleep(time.Until(start.Add(rd.faultAt + rd.lasts))) // the fault lasts this long
		mend()
		<-failed
		time.Sleep(rd.upAfter) // the upstream stays down a little longer
		failing.Store(false)
		failingFor := time.Since(start) - rd.failAt

		// Convergence: Redis settles closed (the next probe succeeds), then
		// every replica must agree with it. Redis may still move after it
		// settled (a Fast replica's late flush of failures queued during the
		// round can trip it again): the replicas are compared with what
		// Redis holds now, and the time counts from its last change.
		var settled time.Time
		want := map[string]Snapshot{}
		readRedis := func() bool {
			for _, name := range []string{strictName, fastName} {
				s, err := adminStore.Snapshot(ctx, name, scheduleConfig(Strict).mustPolicy(t))
				if err != nil {
					return false
				}
				if w, ok := want[name]; !ok || w.State != s.State || w.Incarnation != s.Incarnation || w.Generation != s.Generation {
					settled = time.Now()
				}
				want[name] = s
			}
			return true
		}
		testwait.For(t, 30*time.Second, "Redis to settle closed after round "+strconv.Itoa(i), func() bool {
			return readRedis() && want[strictName].State == Closed && want[fastName].State == Closed
		})
		agreed := func() bool {
			if !readRedis() {
				return false
			}
			for _, r := range replicas {
				for _, b := range []*Breaker{r.strict, r.fast} {
					v, w := b.View(), want[b.Name()]
					if v.Local || v.State != w.State || v.Incarnation != w.Incarnation || v.Generation != w.Generation {
						return false
					}
				}
			}
			return true
		}
		testwait.For(t, 30*time.Second, "every replica to agree with Redis after round "+strconv.Itoa(i), agreed)
		took := time.Since(settled)
		worstConvergence = max(worstConvergence, took)
		if took > *faultConverge {
			t.Errorf("round %d (%v): the replicas agreed with Redis %v after it settled, want within %v (seed %d)", i, rd, took, *faultConverge, seed)
		}

		// Fast overshoot: each trip of the shared or a local breaker lets
		// at most threshold + in-flight calls per replica through, and each
		// half-open period at most its probes.
		trips := 2 // the shared breaker and, if the fault cut a replica off, its local one
		if rd.fault.loses() {
			trips++
		}
		periods := int(failingFor/scheduleConfig(Fast).OpenTimeout) + 2
		bound := int64(replicaCount*(5+goroutines)*trips + (replicaCount+1)*2*periods)
		if n := fastFailures.Load(); n > bound {
			t.Errorf("round %d (%v): %d failing calls through the Fast breaker, want at most %d (seed %d)", i, rd, n, bound, seed)
		}
		t.Logf("round %d: %v; agreed %v after Redis settled; %d failing Fast calls (bound %d)", i, rd, took.Round(time.Millisecond), fastFailures.Load(), bound)
	}
	stop.Store(true)
	wg.Wait()
	h.check(t, seed)
	t.Logf("worst convergence %v", worstConvergence.Round(time.Millisecond))
}

// scriptSource is the text a script is sent as when EVALSHA falls back to
// EVAL.
func scriptSource(t *testing.T, name string) string {
	t.Helper()
	lib, err := luaFiles.ReadFile("lua/lib.lua")
	must(t, err)
	body, err := luaFiles.ReadFile("lua/" + name + ".lua")
	must(t, err)
	return string(lib) + "\n" + string(body)
}

// mustPolicy is the store-facing policy of a valid config.
func (c Config) mustPolicy(t *testing.T) Policy {
	t.Helper()
	r, err := c.resolved()
	if err != nil {
		t.Fatal(err)
	}
	return r.policy()
}

// failingSince makes the upstream fail from at on; the channel closes then.
func failingSince(failing *atomic.Bool, at time.Time) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		time.Sleep(time.Until(at)) // the schedule's own time
		failing.Store(true)
		close(done)
	}()
	return done
}

// applyFault waits until at, applies f and returns what mends it.
func applyFault(t *testing.T, f fault, srv *testredis.Server, admin *redis.Client, proxy *toxiproxy.Proxy, at time.Time) (mend func()) {
	t.Helper()
	time.Sleep(time.Until(at)) // the schedule's own time
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nothing := func() {}
	switch f {
	case faultPause:
		srv.Pause()
		return srv.Resume
	case faultRestart:
		srv.Stop()
		return srv.Start
	case faultFlushAll:
		must(t, admin.FlushAll(ctx).Err())
	case faultPubSubKill:
		must(t, admin.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err())
	case faultScriptFlush:
		must(t, admin.ScriptFlush(ctx).Err())
	case faultLag:
		_, err := proxy.Toxics.AddToxicJson(strings.NewReader(`{"name":"lag","type":"latency","stream":"downstream","attributes":{"latency":1500}}`))
		must(t, err)
		return func() { must(t, proxy.Toxics.RemoveToxic(context.Background(), "lag")) }
	case faultCut:
		proxy.Stop()
		return func() { must(t, proxy.Start()) }
	case faultOOM:
		must(t, admin.ConfigSet(ctx, "maxmemory", "1").Err()) // every write refused
		return func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			must(t, admin.ConfigSet(ctx, "maxmemory", "0").Err())
		}
	}
	return nothing
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// call makes one call through b and records it.
func (h *scheduleHistory) call(b *Breaker, failing *atomic.Bool, fastFailures *atomic.Int64) {
	ctx := context.Background()
	startMs := time.Now().UnixMilli()
	p, err := b.Allow(ctx)
	if err != nil {
		if !errors.Is(err, ErrOpen) && !errors.Is(err, ErrTooManyProbes) {
			h.mu.Lock()
			h.bad = append(h.bad, err)
			h.mu.Unlock()
		}
		return
	}
	key := tripKey{name: b.Name(), inc: p.inc}
	h.mu.Lock()
	if p.by == byStore && p.state == Closed && b.cfg.Consistency == Strict && p.inc != "" {
		h.admissions = append(h.admissions, admission{name: b.Name(), inc: p.inc, gen: p.gen, startMs: startMs})
	}
	if p.Probe() && p.by == byStore {
		h.probes[key]++
		h.maxProbes[key] = max(h.maxProbes[key], h.probes[key])
	}
	h.mu.Unlock()
	var callErr error
	if failing.Load() {
		callErr = errUpstream
		if b.cfg.Consistency == Fast {
			fastFailures.Add(1)
		}
	}
	if p.Probe() && p.by == byStore {
		h.mu.Lock()
		h.probes[key]--
		h.mu.Unlock()
	}
	p.Done(callErr)
}

// check verifies the invariants over the whole history.
func (h *scheduleHistory) check(t *testing.T, seed uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, err := range h.bad {
		t.Errorf("a call failed because of Redis: %v (seed %d)", err, seed)
		break
	}
	for _, s := range h.inexact {
		t.Errorf("%s, want exactly 5 (seed %d)", s, seed)
	}
	for k, n := range h.maxProbes {
		if n > 2 {
			t.Errorf("%d probes ran at once on %s in incarnation %s, limit 2 (seed %d)", n, k.name, k.inc, seed)
		}
	}
	late := 0
	for _, a := range h.admissions {
		if tripped, ok := h.trips[tripKey{a.name, a.inc, a.gen + 1}]; ok && a.startMs > tripped+2 {
			late++
			if late == 1 {
				t.Errorf("Strict admitted a call asked for %d ms after the trip it would have met was committed (seed %d)", a.startMs-tripped, seed)
			}
		}
	}
	if len(h.trips) == 0 {
		t.Errorf("no trip was seen: the schedule tested nothing (seed %d)", seed)
	}
	t.Logf("history: %d Strict admissions checked against %d trips; %d admitted after a trip", len(h.admissions), len(h.trips), late)
}
