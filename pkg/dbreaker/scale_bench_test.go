package dbreaker

import (
	"context"
	"flag"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// BenchmarkScale: many replicas (each its own client, store and
// subscription) holding many breakers, on one Redis and on a Redis Cluster
// of three masters. docs/operations/capacity.md is written from it:
//
//	go test -run '^$' -bench Scale -benchtime 1x -timeout 30m ./pkg/dbreaker/ \
//	    -scale.replicas 100 -scale.breakers 1000
//
// Small by default, so that -bench . stays quick.
var (
	scaleReplicas = flag.Int("scale.replicas", 10, "BenchmarkScale: replicas, each with its own client")
	scaleBreakers = flag.Int("scale.breakers", 100, "BenchmarkScale: breaker names, held by every replica")
	scaleCallers  = flag.Int("scale.callers", 64, "BenchmarkScale: goroutines calling, spread over the replicas")
	scaleFor      = flag.Duration("scale.for", 3*time.Second, "BenchmarkScale: how long each load runs")
	scaleFastRate = flag.Int("scale.fastrate", 10000, "BenchmarkScale: Fast mode's calls/s per replica (its Redis load depends on the breakers with calls in each flush interval)")
)

// redisNodes are the masters of a deployment: INFO is read from each.
type redisNodes []*redis.Client

// info sums the named fields of INFO section over every node.
func (n redisNodes) info(b *testing.B, section string, fields ...string) map[string]float64 {
	out := map[string]float64{}
	for _, c := range n {
		text, err := c.Info(context.Background(), section).Result()
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range strings.Split(text, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
			if !ok {
				continue
			}
			for _, f := range fields {
				if k == f {
					x, _ := strconv.ParseFloat(v, 64)
					out[f] += x
				}
			}
		}
	}
	return out
}

// cpu is the Redis CPU time, in µs, the nodes have used so far.
func (n redisNodes) cpu(b *testing.B) float64 {
	m := n.info(b, "cpu", "used_cpu_sys", "used_cpu_user")
	return (m["used_cpu_sys"] + m["used_cpu_user"]) * 1e6
}

// commands sums INFO commandstats over the nodes.
func (n redisNodes) commands(b *testing.B) map[string]cmdStat {
	out := map[string]cmdStat{}
	for _, c := range n {
		for k, v := range commandStats(b, c) {
			s := out[k]
			s.calls += v.calls
			s.usec += v.usec
			out[k] = s
		}
	}
	return out
}

type scaleTarget struct {
	name      string
	nodes     redisNodes
	newClient func(pool int) redis.UniversalClient
}

func BenchmarkScale(b *testing.B) {
	replicas, names, callers := *scaleReplicas, *scaleBreakers, *scaleCallers
	single := testredis.StartServer(b)
	cluster := testredis.StartCluster(b, 3)
	var clusterNodes redisNodes
	for _, s := range cluster.Nodes {
		clusterNodes = append(clusterNodes, s.Client())
	}
	targets := []scaleTarget{
		{"redis", redisNodes{single.Client()}, func(pool int) redis.UniversalClient {
			return redis.NewClient(&redis.Options{Addr: single.Addr, PoolSize: pool, ContextTimeoutEnabled: true})
		}},
		{"cluster", clusterNodes, func(pool int) redis.UniversalClient {
			return redis.NewClusterClient(&redis.ClusterOptions{Addrs: cluster.Addrs(), PoolSize: pool, ContextTimeoutEnabled: true})
		}},
	}
	for _, target := range targets {
		for _, mode := range []Consistency{Strict, Fast} {
			b.Run(target.name+"/"+mode.String(), func(b *testing.B) {
				for b.Loop() {
					runScale(b, target, mode, replicas, names, callers)
				}
			})
		}
		b.Run(target.name+"/events", func(b *testing.B) {
			for b.Loop() {
				runEvents(b, target, replicas, names)
			}
		})
	}
	b.Run("memory", func(b *testing.B) {
		for b.Loop() {
			memoryPerBreaker(b, single)
		}
	})
}

// scaleFleet is replicas × names breakers, each replica with its own
// client and store.
type scaleFleet struct {
	stores   []*RedisStore
	breakers [][]*Breaker // [replica][name]
}

func newScaleFleet(b *testing.B, target scaleTarget, cfg Config, prefix string, replicas, names, pool int) *scaleFleet {
	f := &scaleFleet{}
	for r := 0; r < replicas; r++ {
		client := target.newClient(pool)
		store, err := NewRedisStore(client, WithKeyPrefix(prefix), WithLogger(discardLogger()))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { store.Close(context.Background()); client.Close() })
		row := make([]*Breaker, names)
		for n := range row {
			if row[n], err = New("upstream-"+strconv.Itoa(n), store, cfg, WithLogger(discardLogger())); err != nil {
				b.Fatal(err)
			}
		}
		f.stores, f.breakers = append(f.stores, store), append(f.breakers, row)
	}
	for _, s := range f.stores {
		testwait.For(b, time.Minute, "every subscription", func() bool { _, live := s.events(); return live })
	}
	return f
}

// runScale drives callers goroutines spread over the replicas, each making
// succeeding calls, and reports calls/s, the Redis commands and Redis CPU
// per call, and the script runs per second.
func runScale(b *testing.B, target scaleTarget, mode Consistency, replicas, names, callers int) {
	prefix := "scale-" + mode.String() + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	pool := max(callers/replicas+1, 2)
	f := newScaleFleet(b, target, Config{Consistency: mode, StoreTimeout: 5 * time.Second}, prefix, replicas, names, pool)
	ctx := context.Background()
	// Learn every breaker's state first, as a running fleet has.
	for _, row := range f.breakers {
		for _, br := range row {
			if err := br.Do(ctx, succeeding); err != nil {
				b.Fatal(err)
			}
		}
	}
	cmdsBefore, cpuBefore := target.nodes.commands(b), target.nodes.cpu(b)
	var calls atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < callers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			row := f.breakers[g%replicas]
			// Fast mode admits without Redis: unpaced, the callers would
			// take every CPU from the flushers. Paced, every name in turn.
			every := time.Duration(0)
			if mode == Fast {
				every = time.Second * time.Duration(callers) / time.Duration(*scaleFastRate*replicas)
			}
			for i := 0; time.Since(start) < *scaleFor; i++ {
				n := rng.IntN(names)
				if mode == Fast {
					n = i % names
					if wait := time.Until(start.Add(time.Duration(i) * every)); wait > 0 {
						time.Sleep(wait) // pacing to -scale.fastrate
					}
				}
				if err := row[n].Do(ctx, succeeding); err != nil {
					b.Error(err)
					return
				}
				calls.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, s := range f.stores {
		_ = s.flushAll(ctx, true)
	}
	cmdsAfter, cpuAfter := target.nodes.commands(b), target.nodes.cpu(b)
	n := float64(calls.Load())
	var all, scripts int64
	for k, v := range cmdsAfter {
		d := v.calls - cmdsBefore[k].calls
		if k == "info" {
			continue
		}
		all += d
		if k == "evalsha" || k == "eval" {
			scripts += d
		}
	}
	b.ReportMetric(n/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(all)/n, "rediscmds/call")
	b.ReportMetric(float64(scripts)/elapsed.Seconds(), "scripts/s")
	b.ReportMetric((cpuAfter-cpuBefore)/n, "redis-cpu-µs/call")
}

// runEvents commits transitions (operator actions) on random breakers while
// every replica subscribes, and reports what one event costs Redis: the
// PUBLISH inside the script, delivered to every subscriber (on a Cluster,
// to every node as well).
func runEvents(b *testing.B, target scaleTarget, replicas, names int) {
	prefix := "events-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	f := newScaleFleet(b, target, Config{StoreTimeout: 5 * time.Second}, prefix, replicas, names, 2)
	admin, err := NewRedisStore(target.newClient(8), WithKeyPrefix(prefix), WithLogger(discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { admin.Close(context.Background()) })
	const events = 2000
	ctx := context.Background()
	before, cpuBefore := target.nodes.commands(b), target.nodes.cpu(b)
	start := time.Now()
	for i := 0; i < events; i++ {
		action := ActionForceOpen
		if i%2 == 1 {
			action = ActionReset
		}
		if _, _, err := admin.Override(ctx, "upstream-"+strconv.Itoa((i/2)%names), action); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	after, cpuAfter := target.nodes.commands(b), target.nodes.cpu(b)
	pub := after["publish"]
	pub.calls -= before["publish"].calls
	pub.usec -= before["publish"].usec
	if pub.calls < events {
		b.Fatalf("%d PUBLISH for %d operator actions", pub.calls, events)
	}
	// Replicas confirm operator actions with a snapshot each (coalesced per
	// breaker): wait for them, so the next run starts quiet.
	testwait.For(b, time.Minute, "every confirmation to end", func() bool {
		for _, row := range f.breakers {
			for _, br := range row {
				br.confirmer.mu.Lock()
				busy := br.confirmer.running
				br.confirmer.mu.Unlock()
				if busy {
					return false
				}
			}
		}
		return true
	})
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(pub.usec)/float64(pub.calls), "publish-µs")
	b.ReportMetric((cpuAfter-cpuBefore)/events, "redis-cpu-µs/event")
}

// memoryPerBreaker reports MEMORY USAGE of a breaker's keys in their
// largest ordinary shape: the state hash after a trip, a full sliding
// window of 10 buckets, and one probe lease.
func memoryPerBreaker(b *testing.B, srv *testredis.Server) {
	client := srv.Client()
	ctx := context.Background()
	store, err := NewRedisStore(client, WithKeyPrefix("memory"), WithLogger(discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close(ctx) })
	br, err := New("upstream-memory", store, Config{FailureThreshold: 5, FailureRate: 0.99, MinimumCalls: 1000,
		Window: 10 * time.Second, WindowBuckets: 10, OpenTimeout: time.Millisecond, ProbeLease: time.Hour, StoreTimeout: 5 * time.Second},
		WithLogger(discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	state, window, probes := store.Keys("upstream-memory")
	usage := func(key string) int64 {
		n, err := client.MemoryUsage(ctx, key).Result()
		if err != nil {
			b.Fatalf("MEMORY USAGE %s: %v", key, err)
		}
		return n
	}
	for i := 0; i < 10; i++ { // one call per bucket of the window
		_ = br.Do(ctx, failing)
		_ = br.Do(ctx, succeeding)
		waitRedisTime(b, client, time.Second)
	}
	windowBytes := usage(window) // a trip deletes the window
	for i := 0; i < 5; i++ {
		_ = br.Do(ctx, failing)
	}
	waitRedisTime(b, client, time.Millisecond)
	p, err := br.Allow(ctx)
	if err != nil || !p.Probe() {
		b.Fatalf("probe: %v", err)
	}
	stateBytes, probeBytes := usage(state), usage(probes)
	b.ReportMetric(float64(stateBytes), "state-bytes")
	b.ReportMetric(float64(windowBytes), "window-bytes")
	b.ReportMetric(float64(probeBytes), "probes-bytes")
	b.ReportMetric(float64(stateBytes+windowBytes+probeBytes), "bytes/breaker")
	p.Done(nil)
}
