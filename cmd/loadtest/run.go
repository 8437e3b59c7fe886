package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthagent/resilience/internal/fakeupstream"
	"github.com/healthagent/resilience/pkg/clock"
	"github.com/redis/go-redis/v9"
)

// sampleEvery is how often each replica's view of its breaker is logged.
const sampleEvery = 50 * time.Millisecond

// env is what every run of one invocation shares.
type env struct {
	cfg      config
	clock    clock.Clock
	stderr   io.Writer
	logger   *slog.Logger
	progress bool   // print a progress line each second
	self     string // this executable, for -procs
}

// modeRun is one mode's run: its report row, and its log for the plot.
type modeRun struct {
	Result result
	Input  reportInput
	Events []event
}

// runAll runs every requested mode in turn on the same scenario.
func runAll(ctx context.Context, e *env) ([]modeRun, error) {
	id, err := runID(e.clock)
	if err != nil {
		return nil, err
	}
	var runs []modeRun
	for _, mode := range e.cfg.Modes {
		r, err := runMode(ctx, e, mode, id+"-"+mode)
		if err != nil {
			return runs, err
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// runID names one invocation; the Redis keys of its runs start with it.
func runID(clock clock.Clock) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("loadtest: run id: %w", err)
	}
	return "loadtest-" + strconv.FormatInt(clock.Now().UnixMilli(), 36) + "-" + hex.EncodeToString(b[:]), nil
}

// marks records when the timeline's actions really happened.
type marks struct {
	mu                   sync.Mutex
	faultStart, faultEnd *time.Duration
	redisDown, redisUp   *time.Duration
}

func (m *marks) set(p **time.Duration, d time.Duration) {
	m.mu.Lock()
	*p = &d
	m.mu.Unlock()
}

func (m *marks) windows() (fault, redisDown *window) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.faultStart != nil && m.faultEnd != nil {
		fault = &window{*m.faultStart, *m.faultEnd}
	}
	if m.redisDown != nil && m.redisUp != nil {
		redisDown = &window{*m.redisDown, *m.redisUp}
	}
	return fault, redisDown
}

// crashCoordinator lets exactly one replica die holding a probe, once the
// upstream has recovered.
type crashCoordinator struct {
	enabled bool
	armed   atomic.Bool
	done    atomic.Bool
}

// claim reports whether the caller is the replica that dies now.
func (c *crashCoordinator) claim() bool {
	return c.enabled && c.armed.Load() && c.done.CompareAndSwap(false, true)
}

// fleet runs the replicas and their users until stop closes or every user
// is done, then tears the replicas down.
type fleet interface {
	run(ctx context.Context, stop <-chan struct{}) error
}

// runMode runs the scenario once with one breaker mode.
func runMode(ctx context.Context, e *env, mode, keyPrefix string) (modeRun, error) {
	cfg := &e.cfg
	srv, err := fakeupstream.New(fakeupstream.Config{Seed: cfg.Seed})
	if err != nil {
		return modeRun{}, fmt.Errorf("loadtest: fake upstream: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return modeRun{}, fmt.Errorf("loadtest: fake upstream: %w", err)
	}
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(srvCtx, ln) }()
	defer func() {
		stopSrv()
		<-srvDone
	}()
	usda := fakeupstream.EndpointsAt("http://" + ln.Addr().String()).USDA

	var own *redisServer
	var redisAddr string
	if sharedMode(mode) {
		if cfg.Scenario == scenarioRedisDown {
			if own, err = startRedisServer(ctx); err != nil {
				return modeRun{}, err
			}
			defer own.close()
			redisAddr = own.Addr
		} else {
			redisAddr = cfg.Redis
			if err := pingRedis(ctx, redisAddr); err != nil {
				return modeRun{}, fmt.Errorf("loadtest: -redis %s: %w (the %s mode needs Redis)", redisAddr, err, mode)
			}
			defer func() {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				if err := deleteKeys(cctx, redisAddr, keyPrefix); err != nil {
					e.logger.Warn("loadtest: could not delete the run's keys", "prefix", keyPrefix, "error", err)
				}
			}()
		}
	}

	// The fallback's cache starts warm, and the warming calls are not
	// counted.
	cache := newAnswerCache()
	if err := cache.warm(ctx, usda); err != nil {
		return modeRun{}, err
	}
	srv.ResetStats()

	log := newEventLog(cfg.Replicas)
	coord := &crashCoordinator{enabled: cfg.Scenario == scenarioReplicaCrash}
	start := e.clock.Now()
	spec := replicaSpec{Mode: mode, Config: *cfg, USDA: usda, RedisAddr: redisAddr, KeyPrefix: keyPrefix}
	var fl fleet
	if cfg.Procs {
		fl = &procFleet{env: e, spec: spec, start: start, log: log, coord: coord, cache: cache}
	} else {
		inproc, err := newLocalFleet(e, spec, start, log, coord, cache)
		if err != nil {
			return modeRun{}, err
		}
		fl = inproc
	}

	stop := make(chan struct{})
	var stopOnce sync.Once
	closeStop := func() { stopOnce.Do(func() { close(stop) }) }
	var bg sync.WaitGroup
	defer bg.Wait()
	defer closeStop()
	bg.Go(func() { at(e.clock, start, cfg.Duration, stop, func(time.Time) { closeStop() }) })
	bg.Go(func() {
		select {
		case <-ctx.Done():
			closeStop()
		case <-stop:
		}
	})

	m := &marks{}
	since := func(t time.Time) time.Duration { return t.Sub(start) }
	if fault, ok := scenarioFault(cfg); ok {
		bg.Go(func() {
			at(e.clock, start, cfg.FaultAt, stop, func(now time.Time) {
				if err := srv.SetFault(fakeupstream.USDA, fault); err != nil {
					e.logger.Error("loadtest: setting the fault", "error", err)
				}
				m.set(&m.faultStart, since(now))
			})
		})
		bg.Go(func() {
			at(e.clock, start, cfg.FaultAt+cfg.FaultFor, stop, func(now time.Time) {
				if err := srv.SetFault(fakeupstream.USDA, fakeupstream.Fault{}); err != nil {
					e.logger.Error("loadtest: healing the upstream", "error", err)
				}
				m.set(&m.faultEnd, since(now))
				coord.armed.Store(true)
			})
		})
	}
	if cfg.Scenario == scenarioRedisDown {
		bg.Go(func() {
			at(e.clock, start, cfg.RedisDownAt, stop, func(now time.Time) {
				if own != nil {
					if err := own.stop(); err != nil {
						e.logger.Error("loadtest: stopping redis-server", "error", err)
					}
				}
				m.set(&m.redisDown, since(e.clock.Now()))
			})
		})
		bg.Go(func() {
			at(e.clock, start, cfg.RedisDownAt+cfg.RedisDownFor, stop, func(now time.Time) {
				if own != nil {
					if err := own.Start(ctx); err != nil {
						e.logger.Error("loadtest: restarting redis-server", "error", err)
					}
				}
				m.set(&m.redisUp, since(e.clock.Now()))
			})
		})
	}
	stalls := &stallMeter{}
	bg.Go(func() { stalls.run(e.clock, stop) })
	if e.progress {
		bg.Go(func() {
			p := &progress{w: e.stderr, mode: mode, log: log, start: start}
			every(e.clock, time.Second, stop, p.print)
		})
	}

	runErr := fl.run(ctx, stop)
	end := since(e.clock.Now())
	closeStop()
	bg.Wait()
	if runErr != nil {
		return modeRun{}, runErr
	}
	if err := ctx.Err(); err != nil {
		return modeRun{}, fmt.Errorf("loadtest: interrupted: %w", err)
	}

	fault, redisDown := m.windows()
	in := reportInput{
		Scenario: cfg.Scenario, Mode: mode, Replicas: cfg.Replicas, Threshold: cfg.Threshold,
		Fault: fault, RedisDown: redisDown, End: end,
		UpstreamCalls: int64(srv.Stats()[fakeupstream.USDA].Requests),
	}
	events := log.snapshot()
	res := compute(in, events)
	res.MaxStallMs = ms(stalls.max())
	if sharedMode(mode) && own == nil {
		res.RedisKeyPrefix = keyPrefix
	}
	return modeRun{Result: res, Input: in, Events: events}, nil
}

// stallPeriod is how often the stall meter's timer should fire.
const stallPeriod = 10 * time.Millisecond

// stallMeter measures how late a timer that should fire every stallPeriod
// really fires: the longest pause of the tool's process (the machine
// lending its CPU elsewhere, the Go runtime), during which every replica,
// user and the fake upstream stood still too. A run with a pause of a
// second or more tells of the machine, not of the breaker.
type stallMeter struct{ worst atomic.Int64 }

func (m *stallMeter) run(clock clock.Clock, stop <-chan struct{}) {
	for {
		before := clock.Now()
		t := clock.NewTimer(stallPeriod)
		select {
		case <-t.C():
			if late := clock.Now().Sub(before) - stallPeriod; late > time.Duration(m.worst.Load()) {
				m.worst.Store(int64(late))
			}
		case <-stop:
			t.Stop()
			return
		}
	}
}

func (m *stallMeter) max() time.Duration { return time.Duration(m.worst.Load()) }

// scenarioFault is the upstream's fault during the fault window.
func scenarioFault(cfg *config) (fakeupstream.Fault, bool) {
	switch cfg.Scenario {
	case scenarioFlaky:
		return fakeupstream.Fault{ErrorRate: cfg.ErrorRate, ErrorStatus: cfg.ErrorStatus}, true
	case scenarioOutage, scenarioReplicaCrash:
		return fakeupstream.Fault{Outage: fakeupstream.OutageError, ErrorStatus: cfg.ErrorStatus}, true
	case scenarioSlow:
		return fakeupstream.Fault{Latency: cfg.SlowLatency}, true
	}
	return fakeupstream.Fault{}, false
}

// localFleet runs every replica in this process.
type localFleet struct {
	env      *env
	replicas []*replica
	load     *load

	mu       sync.Mutex // orders deaths before the release of the dead
	stopping bool
}

func newLocalFleet(e *env, spec replicaSpec, start time.Time, log *eventLog, coord *crashCoordinator, cache *answerCache) (*localFleet, error) {
	cfg := &e.cfg
	f := &localFleet{env: e}
	crash := func(r *replica, at time.Time) bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.stopping || !coord.claim() {
			return false
		}
		r.die(at)
		return true
	}
	for i := range cfg.Replicas {
		s := spec
		s.Index = i
		r, err := newReplica(s, e.clock, start, log, cache, crash, e.logger)
		if err != nil {
			f.close(context.Background())
			return nil, err
		}
		f.replicas = append(f.replicas, r)
	}
	f.load = &load{clock: e.clock, think: cfg.Think, seed: cfg.Seed, limit: cfg.Requests, pick: f.pick}
	return f, nil
}

// pick routes a user's request to its home replica, or to the next live
// one when its home has died, as a load balancer would.
func (f *localFleet) pick(vu int) target {
	n := len(f.replicas)
	for k := range n {
		if r := f.replicas[(vu+k)%n]; !r.dead.Load() {
			return r
		}
	}
	return nil
}

func (f *localFleet) run(ctx context.Context, stop <-chan struct{}) error {
	e := f.env
	var sampler sync.WaitGroup
	samplerStop := make(chan struct{})
	sampler.Go(func() {
		every(e.clock, sampleEvery, samplerStop, func(now time.Time) {
			for _, r := range f.replicas {
				if !r.dead.Load() {
					r.sample(now)
				}
			}
		})
	})
	vus := make([]int, e.cfg.VUs)
	for i := range vus {
		vus[i] = i
	}
	users := make(chan struct{})
	go func() {
		f.load.run(ctx, stop, vus)
		close(users)
	}()
	select {
	case <-users:
	case <-stop:
		// A dead replica's probe hangs until the run is over; no replica
		// dies after this.
		f.mu.Lock()
		f.stopping = true
		for _, r := range f.replicas {
			if r.dead.Load() {
				close(r.released)
			}
		}
		f.mu.Unlock()
		<-users
	}
	close(samplerStop)
	sampler.Wait()
	now := e.clock.Now()
	for _, r := range f.replicas {
		if !r.dead.Load() {
			r.sample(now)
		}
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	f.close(cctx)
	return nil
}

func (f *localFleet) close(ctx context.Context) {
	for _, r := range f.replicas {
		r.Close(ctx)
	}
}

// pingRedis checks that Redis answers at addr.
func pingRedis(ctx context.Context, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	defer c.Close()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return c.Ping(pctx).Err()
}

// deleteKeys removes every key that starts with prefix+":", found with
// SCAN and removed with DEL (never FLUSHDB: the server may be shared).
func deleteKeys(ctx context.Context, addr, prefix string) error {
	if prefix == "" {
		return errors.New("loadtest: refusing to delete keys without a prefix")
	}
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer c.Close()
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, prefix+":*", 500).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}
