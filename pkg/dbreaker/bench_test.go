package dbreaker

import (
	"context"
	"errors"
	"slices"
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

// The benchmarks run on a redis-server of their own, so INFO commandstats
// counts their commands only. Run them all in one process to compare:
//
//	go test -run '^$' -bench . -benchtime 2s ./pkg/dbreaker/

// cmdStat is one command's INFO commandstats line.
type cmdStat struct{ calls, usec int64 }

// commandStats returns the server's calls and time per command (commands
// run inside scripts included).
func commandStats(tb testing.TB, c *redis.Client) map[string]cmdStat {
	tb.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]cmdStat{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		var st cmdStat
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "calls":
				st.calls = n
			case "usec":
				st.usec = n
			}
		}
		out[strings.TrimPrefix(name, "cmdstat_")] = st
	}
	return out
}

// countCommands reports, per benchmark op, the commands clients sent
// (round trips) and every command the server ran (inside scripts too).
func countCommands(b *testing.B, c *redis.Client, run func()) {
	before := commandStats(b, c)
	run()
	b.StopTimer()
	after := commandStats(b, c)
	var sent, all, usec int64
	for cmd, st := range after {
		d := st.calls - before[cmd].calls
		if cmd == "info" {
			continue
		}
		all += d
		if cmd == "evalsha" || cmd == "eval" || cmd == "ping" {
			sent += d
			usec += st.usec - before[cmd].usec
		}
	}
	b.ReportMetric(float64(sent)/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(all)/float64(b.N), "rediscmds/op")
	b.ReportMetric(float64(usec)/float64(b.N), "server-µs/op")
}

func benchBreaker(b *testing.B, client *redis.Client, cfg Config) *Breaker {
	return newBenchBreaker(b, client, cfg, true)
}

// newBenchBreaker makes a breaker of a name of its own; written: its state
// hash exists (a Reset wrote it), as for a breaker that has seen a failure;
// else it has only ever seen successes and Redis holds nothing for it.
func newBenchBreaker(b *testing.B, client *redis.Client, cfg Config, written bool) *Breaker {
	store, err := NewRedisStore(client, WithKeyPrefix("bench"), WithLogger(discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close(context.Background()) })
	if cfg.Consistency == Fast {
		defer func() { waitCurrent(b, store) }()
	}
	br, err := New("bench-"+strconv.Itoa(b.N)+"-"+strconv.FormatBool(written), store, cfg, WithLogger(discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	if written {
		if _, err := br.Reset(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	return br
}

func BenchmarkRedisPing(b *testing.B) {
	srv := testredis.StartServer(b)
	client := srv.Client()
	ctx := context.Background()
	client.Ping(ctx)
	b.ResetTimer()
	countCommands(b, client, func() {
		for i := 0; i < b.N; i++ {
			if err := client.Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkStrictClosedCall(b *testing.B) {
	srv := testredis.StartServer(b)
	client := srv.Client()
	br := benchBreaker(b, client, Config{StoreTimeout: time.Second})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	countCommands(b, client, func() {
		for i := 0; i < b.N; i++ {
			if err := br.Do(ctx, succeeding); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkOpenRejection(b *testing.B) {
	srv := testredis.StartServer(b)
	client := srv.Client()
	br := benchBreaker(b, client, Config{FailureThreshold: 1, OpenTimeout: time.Hour, StoreTimeout: time.Second})
	ctx := context.Background()
	_ = br.Do(ctx, failing)
	b.ReportAllocs()
	b.ResetTimer()
	countCommands(b, client, func() {
		for i := 0; i < b.N; i++ {
			if err := br.Do(ctx, succeeding); !IsRejected(err) {
				b.Fatal(err)
			}
		}
	})
}

// waitCurrent waits for the store's subscription, so Fast mode can admit
// locally from the start.
func waitCurrent(b *testing.B, store *RedisStore) {
	testwait.For(b, 5*time.Second, "a live subscription", func() bool {
		_, live := store.events()
		return live
	})
}

func BenchmarkFastClosedCall(b *testing.B) {
	srv := testredis.StartServer(b)
	client := srv.Client()
	br := benchBreaker(b, client, Config{Consistency: Fast, StoreTimeout: time.Second})
	ctx := context.Background()
	_ = br.Do(ctx, succeeding) // learn the state
	b.ReportAllocs()
	b.ResetTimer()
	countCommands(b, client, func() {
		for i := 0; i < b.N; i++ {
			if err := br.Do(ctx, succeeding); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		_ = br.store.(*RedisStore).flushAll(ctx, true)
	})
}

// Fast mode at a steady 10,000 calls/s: how many Redis commands does a call
// cost, flushes included?
func BenchmarkFastAt10kCallsPerSecond(b *testing.B) {
	srv := testredis.StartServer(b)
	client := srv.Client()
	br := benchBreaker(b, client, Config{Consistency: Fast, StoreTimeout: time.Second})
	ctx := context.Background()
	_ = br.Do(ctx, succeeding)
	b.ResetTimer()
	countCommands(b, client, func() {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if wait := time.Until(start.Add(time.Duration(i) * 100 * time.Microsecond)); wait > 0 {
				time.Sleep(wait) // pacing to 10,000 calls/s
			}
			if err := br.Do(ctx, succeeding); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
		_ = br.store.(*RedisStore).flushAll(ctx, true)
	})
}

// Propagation: from the moment replica A sends the report that trips the
// breaker to the moment replica B's view says open (B made no call). B's
// view tells a channel when it changes, so nothing spins meanwhile.
func BenchmarkPropagation(b *testing.B) {
	srv := testredis.StartServer(b)
	cfg := Config{FailureThreshold: 1, OpenTimeout: time.Hour, StoreTimeout: time.Second}
	a := benchBreaker(b, srv.Client(), cfg)
	rb := benchBreaker(b, srv.Client(), cfg)
	waitCurrent(b, a.store.(*RedisStore))
	waitCurrent(b, rb.store.(*RedisStore))
	opened := make(chan struct{}, 1)
	rb.viewChanged = func(s State) {
		if s == Open {
			select {
			case opened <- struct{}{}:
			default:
			}
		}
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := a.Reset(ctx); err != nil {
			b.Fatal(err)
		}
		_ = rb.Do(ctx, succeeding) // B learns the new generation, current
		testwait.For(b, 5*time.Second, "b to see closed", func() bool { v := rb.View(); return v.Current && v.State == Closed })
		select {
		case <-opened: // drain
		default:
		}
		p, err := a.Allow(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		p.Done(errUpstream)
		select {
		case <-opened:
		case <-time.After(5 * time.Second):
			b.Fatal("b never learned of the trip")
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

func BenchmarkMemoryStoreCall(b *testing.B) {
	br, err := New("bench", memStore(b), Config{}, WithLogger(discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := br.Do(ctx, succeeding); err != nil {
			b.Fatal(err)
		}
	}
}

// Throughput on one breaker name from 3 replicas (own clients) × 32
// goroutines, next to raw PING throughput from the same goroutines. The
// two run in alternate 250 ms slices, ten each, so a busy moment of this
// shared machine weighs on both alike; Fast mode runs after them.
func BenchmarkThroughput(b *testing.B) {
	const goroutinesPerReplica, rounds, slice = 32, 10, 250 * time.Millisecond
	srv := testredis.StartServer(b)
	var clients []*redis.Client
	var strict, fast []*Breaker
	for i := 0; i < replicaCount; i++ {
		c := srv.Client(func(o *redis.Options) { o.PoolSize = goroutinesPerReplica })
		clients = append(clients, c)
		strict = append(strict, benchBreaker(b, c, Config{StoreTimeout: 5 * time.Second}))
		fast = append(fast, benchBreaker(b, c, Config{Consistency: Fast, StoreTimeout: 5 * time.Second}))
	}
	ctx := context.Background()
	type tally struct {
		calls int64
		busy  time.Duration
		lat   []time.Duration
	}
	// run drives every goroutine for d and adds to t.
	run := func(t *tally, d time.Duration, op func(replica int) error) {
		lat := make([][]time.Duration, replicaCount*goroutinesPerReplica)
		var wg sync.WaitGroup
		start := time.Now()
		for g := range lat {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Since(start) < d {
					t0 := time.Now()
					if err := op(g % replicaCount); err != nil {
						b.Error(err)
						return
					}
					lat[g] = append(lat[g], time.Since(t0))
				}
			}()
		}
		wg.Wait()
		t.busy += time.Since(start)
		for _, l := range lat {
			t.calls += int64(len(l))
			t.lat = append(t.lat, l...)
		}
	}
	report := func(name string, t *tally) float64 {
		slices.Sort(t.lat)
		rate := float64(t.calls) / t.busy.Seconds()
		b.ReportMetric(rate, name+"-calls/s")
		b.ReportMetric(float64(t.lat[len(t.lat)/2].Microseconds()), name+"-p50-µs")
		b.ReportMetric(float64(t.lat[len(t.lat)*99/100].Microseconds()), name+"-p99-µs")
		return rate
	}
	var ping, strictT, fastT tally
	for b.Loop() {
		for i := 0; i < rounds; i++ {
			run(&ping, slice, func(r int) error { return clients[r].Ping(ctx).Err() })
			run(&strictT, slice, func(r int) error { return strict[r].Do(ctx, succeeding) })
		}
		run(&fastT, slice, func(r int) error { return fast[r].Do(ctx, succeeding) })
	}
	pingRate, strictRate := report("ping", &ping), report("strict", &strictT)
	report("fast", &fastT)
	b.ReportMetric(strictRate/pingRate, "strict/ping")
	b.ReportMetric(float64(strictT.lat[len(strictT.lat)*99/100])/float64(ping.lat[len(ping.lat)*99/100]), "strict/ping-p99")
}

// One caller: a Strict closed-state call against a raw PING, alternating
// in every iteration so both see the same machine; the ratio of the
// medians is the figure. "written": the state hash exists; "successes
// only": Redis holds nothing for the breaker.
func BenchmarkStrictVersusPing(b *testing.B) {
	for _, written := range []bool{true, false} {
		name := map[bool]string{true: "written", false: "successes-only"}[written]
		b.Run(name, func(b *testing.B) {
			srv := testredis.StartServer(b)
			client := srv.Client()
			br := newBenchBreaker(b, client, Config{StoreTimeout: time.Second}, written)
			ctx := context.Background()
			_ = br.Do(ctx, succeeding) // load the scripts
			var ping, strict []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if err := client.Ping(ctx).Err(); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := br.Do(ctx, succeeding); err != nil {
					b.Fatal(err)
				}
				ping, strict = append(ping, t1.Sub(t0)), append(strict, time.Since(t1))
			}
			slices.Sort(ping)
			slices.Sort(strict)
			p50 := func(d []time.Duration) time.Duration { return d[len(d)/2] }
			b.ReportMetric(float64(p50(ping).Nanoseconds())/1e3, "ping-p50-µs")
			b.ReportMetric(float64(p50(strict).Nanoseconds())/1e3, "strict-p50-µs")
			b.ReportMetric(float64(p50(strict))/float64(p50(ping)), "strict/ping-p50")
		})
	}
}

// Redis commands and Redis CPU time per Strict call at 1, 8 and 96
// concurrent callers on one breaker name (3 replicas of their own clients
// from 8 callers on): group commit lets one script run decide many calls.
func BenchmarkStrictCommandsPerCall(b *testing.B) {
	for _, callers := range []int{1, 8, 96} {
		b.Run("callers="+strconv.Itoa(callers), func(b *testing.B) {
			srv := testredis.StartServer(b)
			admin := srv.Client()
			replicas := min(callers, replicaCount)
			var breakers []*Breaker
			for i := 0; i < replicas; i++ {
				c := srv.Client(func(o *redis.Options) { o.PoolSize = callers })
				breakers = append(breakers, benchBreaker(b, c, Config{StoreTimeout: 5 * time.Second}))
			}
			ctx := context.Background()
			_ = breakers[0].Do(ctx, succeeding)
			b.ResetTimer()
			countCommands(b, admin, func() {
				var next atomic.Int64
				var wg sync.WaitGroup
				for g := 0; g < callers; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for next.Add(1) <= int64(b.N) {
							if err := breakers[g%replicas].Do(ctx, succeeding); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
			})
		})
	}
}

// Fast mode after a store error: Redis fails every script for a moment, the
// store degrades, a health check brings it back, and Fast mode admits
// locally again. The figure is how long after the fault ends its
// throughput is back to 20 × PING throughput from the same goroutines.
func BenchmarkFastRecovery(b *testing.B) {
	const goroutines, window = 8, 50 * time.Millisecond
	srv := testredis.StartServer(b)
	hook := &scriptFaults{}
	client := srv.Client(func(o *redis.Options) { o.PoolSize = goroutines })
	client.AddHook(hook)
	store, err := NewRedisStore(client, WithKeyPrefix("recovery"), WithLogger(discardLogger()), WithHealthCheckInterval(100*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close(context.Background()) })
	br, err := New("fast", store, Config{Consistency: Fast, StoreTimeout: time.Second}, WithLogger(discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	waitCurrent(b, store)
	ctx := context.Background()
	rate := func(op func() error) float64 {
		var n atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Since(start) < window {
					if err := op(); err != nil {
						b.Error(err)
						return
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		return float64(n.Load()) / time.Since(start).Seconds()
	}
	fast := func() error { return br.Do(ctx, succeeding) }
	var worst time.Duration
	var after float64
	for b.Loop() {
		ping := rate(func() error { return client.Ping(ctx).Err() })
		hook.set(func(c *redis.Cmd) { c.SetErr(errors.New("i/o timeout")) })
		testwait.For(b, 10*time.Second, "the store to degrade", func() bool { _, _ = br.State(ctx); return store.Degraded() })
		hook.clear()
		healed := time.Now()
		for {
			after = rate(fast)
			if after >= 20*ping {
				break
			}
			if time.Since(healed) > 10*time.Second {
				b.Fatalf("Fast mode at %.0f calls/s 10 s after recovery, PING %.0f", after, ping)
			}
		}
		worst = max(worst, time.Since(healed))
		b.ReportMetric(after/ping, "fast/ping-after")
	}
	b.ReportMetric(float64(worst.Milliseconds()), "recovered-ms")
}

// The transition log's cost: a transition (an override, which also appends
// to the log) next to a Strict closed-state call, alternating in every
// iteration; INFO commandstats gives the Redis time of the XADD (and the
// TYPE that guards its key) per transition.
func BenchmarkTransitionLog(b *testing.B) {
	srv := testredis.StartServer(b)
	client := srv.Client()
	br := benchBreaker(b, client, Config{StoreTimeout: time.Second})
	store := br.store.(*RedisStore)
	ctx := context.Background()
	actions := [2]Action{ActionForceOpen, ActionReset}
	before := commandStats(b, client)
	var strict, transition time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		if err := br.Do(ctx, succeeding); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, _, err := store.Override(ctx, "logged", actions[n%2]); err != nil {
			b.Fatal(err)
		}
		strict, transition = strict+t1.Sub(t0), transition+time.Since(t1)
		n++
	}
	after := commandStats(b, client)
	logUsec := float64(after["xadd"].usec-before["xadd"].usec+after["type"].usec-before["type"].usec) / float64(n)
	strictUs := float64(strict.Nanoseconds()) / 1e3 / float64(n)
	b.ReportMetric(strictUs, "strict-µs")
	b.ReportMetric(float64(transition.Nanoseconds())/1e3/float64(n), "transition-µs")
	b.ReportMetric(logUsec, "log-server-µs")
	b.ReportMetric(logUsec/strictUs, "log/strict")
}
