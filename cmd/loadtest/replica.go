package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/retry"
	"github.com/redis/go-redis/v9"
)

// breakerName is the name of every replica's breaker for the USDA upstream.
const breakerName = "usda"

// replicaSpec is what one replica needs; a replica process receives it as
// JSON from its parent.
type replicaSpec struct {
	Index     int
	Mode      string
	Config    config
	USDA      string // FoodData Central API root of the fake upstream
	RedisAddr string // for strict and fast
	KeyPrefix string // for strict and fast
}

// crashHook decides whether a replica that has just finished a half-open
// probe dies now, before reporting it. It returns true when the replica
// died; it may block until the run is over.
type crashHook func(r *replica, probeEnd time.Time) bool

// replica is one instance of the service: its own Redis client, breaker,
// guard and chain, as a separate process would have.
type replica struct {
	idx   int
	clock clock.Clock
	start time.Time // the run's start: events are timed from it
	sink  sink
	crash crashHook

	searchURL string
	http      *http.Client
	client    *redis.Client        // nil unless strict or fast
	store     *dbreaker.RedisStore // nil unless strict or fast
	breaker   *dbreaker.Breaker    // nil in mode none
	chain     *chain.Chain[string]
	cache     *answerCache

	dead     atomic.Bool
	released chan struct{} // closed when a dead replica's hung probe may end
}

// newReplica builds a replica. Close it when done.
func newReplica(spec replicaSpec, clock clock.Clock, start time.Time, s sink, cache *answerCache, crash crashHook, logger *slog.Logger) (*replica, error) {
	c := &spec.Config
	r := &replica{
		idx: spec.Index, clock: clock, start: start, sink: s, crash: crash,
		searchURL: spec.USDA + "/foods/search",
		cache:     cache,
		released:  make(chan struct{}),
	}
	// A dead replica says nothing more: its hung probe ends at teardown,
	// on a closed Redis client.
	logger = slog.New(levelHandler{Handler: logger.Handler(), min: slog.LevelDebug, mute: &r.dead})
	perHost := c.VUs/c.Replicas + 8
	r.http = &http.Client{Transport: &http.Transport{
		Proxy:               nil, // loopback only, whatever the environment says
		DialContext:         (&net.Dialer{Timeout: c.AttemptTimeout}).DialContext,
		MaxIdleConns:        perHost,
		MaxIdleConnsPerHost: perHost,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}}

	bcfg := dbreaker.Config{
		FailureThreshold: c.Threshold,
		SlowCallRate:     c.SlowRate,
		SlowCallDuration: c.SlowCall,
		MinimumCalls:     c.MinCalls,
		Window:           c.Window,
		OpenTimeout:      c.OpenTimeout,
		ProbeLease:       c.ProbeLease,
		StoreTimeout:     c.StoreTimeout,
		OnStoreFailure:   dbreaker.FallbackLocal,
	}
	opts := []dbreaker.Option{dbreaker.WithObserver(&observer{r: r}), dbreaker.WithLogger(logger)}
	var err error
	switch spec.Mode {
	case modeNone:
	case modeLocal:
		var store *dbreaker.MemoryStore
		if store, err = dbreaker.NewMemoryStore(); err == nil {
			r.breaker, err = dbreaker.New(breakerName, store, bcfg, opts...)
		}
	case modeStrict, modeFast:
		if spec.Mode == modeFast {
			bcfg.Consistency = dbreaker.Fast
		}
		r.client = redis.NewClient(&redis.Options{Addr: spec.RedisAddr, PoolSize: perHost, ContextTimeoutEnabled: true})
		r.store, err = dbreaker.NewRedisStore(r.client,
			dbreaker.WithKeyPrefix(spec.KeyPrefix),
			dbreaker.WithLogger(logger),
			dbreaker.WithFlushInterval(c.FlushInterval),
			dbreaker.WithHealthCheckInterval(250*time.Millisecond))
		if err == nil {
			r.breaker, err = dbreaker.New(breakerName, r.store, bcfg, opts...)
		}
	default:
		err = fmt.Errorf("unknown breaker mode %q", spec.Mode)
	}
	if err != nil {
		r.Close(context.Background())
		return nil, fmt.Errorf("loadtest: replica %d: %w", spec.Index, err)
	}

	retryOpts := []retry.Option{retry.WithClock(clock), retry.WithRand(lockedRand(c.Seed, uint64(spec.Index)+1<<32)),
		retry.WithLogger(quiet(logger)), retry.WithObserver(admission{r: r})}
	if c.RetryBudget > 0 {
		budget, err := retry.NewBudget(retry.BudgetConfig{Ratio: c.RetryBudget}, retry.WithClock(clock))
		if err != nil {
			r.Close(context.Background())
			return nil, fmt.Errorf("loadtest: replica %d: %w", spec.Index, err)
		}
		retryOpts = append(retryOpts, retry.WithBudget(budget))
	}
	maxRetries, err := retry.Retries(c.Retries)
	if err != nil {
		r.Close(context.Background())
		return nil, fmt.Errorf("loadtest: replica %d: %w", spec.Index, err)
	}
	policy, err := retry.New(breakerName, retry.Config{MaxRetries: maxRetries, BaseDelay: c.RetryBase, MaxDelay: c.RetryMaxDelay}, retryOpts...)
	if err != nil {
		r.Close(context.Background())
		return nil, fmt.Errorf("loadtest: replica %d: %w", spec.Index, err)
	}
	guard, err := chain.NewGuard(breakerName, chain.GuardConfig{Breaker: r.breaker, Retry: policy, AttemptTimeout: c.AttemptTimeout}, chain.WithClock(clock))
	if err != nil {
		r.Close(context.Background())
		return nil, fmt.Errorf("loadtest: replica %d: %w", spec.Index, err)
	}
	primary := chain.GuardedStep(guard, r.lookup)
	primary.Timeout = c.PrimaryTimeout
	guarded := primary.Fn
	primary.Fn = func(ctx context.Context) (string, error) {
		t0 := r.clock.Now()
		tr := traceFrom(ctx)
		tr.admitFrom = t0
		v, err := guarded(ctx)
		tr.primary = r.clock.Now().Sub(t0)
		return v, err
	}
	r.chain, err = chain.New("nutrition", []chain.Step[string]{
		primary,
		{Name: "cache", Degraded: true, Fn: r.cached},
	}, chain.WithTimeout(c.RequestTimeout), chain.WithLogger(quiet(logger)))
	if err != nil {
		r.Close(context.Background())
		return nil, fmt.Errorf("loadtest: replica %d: %w", spec.Index, err)
	}
	return r, nil
}

// Close flushes and closes the breaker, the store and the Redis client.
func (r *replica) Close(ctx context.Context) {
	if r.breaker != nil {
		_ = r.breaker.Close(ctx)
	}
	if r.store != nil {
		_ = r.store.Close(ctx)
	}
	if r.client != nil {
		_ = r.client.Close()
	}
	r.http.CloseIdleConnections()
}

// trace collects what one request did; its attempts run one after the
// other on the request's goroutine, so it needs no lock.
type trace struct {
	query    string
	primary  time.Duration // time in the primary step, retries included
	callDur  time.Duration // time in upstream calls
	attempts int           // upstream calls made
	// admitFrom is no later than the moment the next attempt asks the
	// breaker to admit it: the primary step's start, then the end of the
	// last call, or of the retry's wait.
	admitFrom time.Time
}

// admission is a retry.Observer: the next attempt's admission begins no
// sooner than the wait ends.
type admission struct {
	retry.NopObserver
	r *replica
}

func (a admission) OnRetry(ctx context.Context, e retry.RetryEvent) {
	if tr := traceFrom(ctx); tr != nil {
		tr.admitFrom = a.r.clock.Now().Add(e.Delay)
	}
}

type traceKey struct{}

func traceFrom(ctx context.Context) *trace {
	t, _ := ctx.Value(traceKey{}).(*trace)
	return t
}

// serve answers one request for the nutrition of query and logs it.
func (r *replica) serve(ctx context.Context, query string) {
	tr := &trace{query: query}
	ctx = context.WithValue(ctx, traceKey{}, tr)
	t0 := r.clock.Now()
	res, err := r.chain.Execute(ctx)
	e := event{Kind: kindRequest, Replica: r.idx, At: t0.Sub(r.start), Dur: r.clock.Now().Sub(t0),
		Primary: tr.primary, CallDur: tr.callDur, Attempts: tr.attempts}
	switch {
	case err != nil:
		e.Outcome = outcomeFailed
	case res.Degraded:
		e.Outcome = outcomeDegraded
	default:
		e.Outcome = outcomeFull
	}
	if r.dead.Load() {
		e = event{Kind: kindLost, Replica: r.idx, At: e.At}
	}
	r.sink.add(e)
}

// errReplicaDied is what the probe of a crashed replica returns once the
// run is over; its Redis client is closed, so the report is lost.
var errReplicaDied = errors.New("loadtest: the replica died during its probe")

// lookup is the primary step's call: one GET of the fake FoodData Central
// search, timed, with a note of whether it runs under a half-open probe
// permit. In half-open state a breaker admits probes only, so a call that
// starts while the replica's view says half-open holds the probe.
func (r *replica) lookup(ctx context.Context) (string, error) {
	tr := traceFrom(ctx)
	probe := r.breaker != nil && r.breaker.View().State == dbreaker.HalfOpen
	t0 := r.clock.Now()
	answer, err := r.search(ctx, tr.query)
	t1 := r.clock.Now()
	tr.callDur += t1.Sub(t0)
	tr.attempts++
	r.sink.add(event{Kind: kindCall, Replica: r.idx, At: t0.Sub(r.start), Dur: t1.Sub(t0), OK: err == nil, Probe: probe,
		Admit: tr.admitFrom.Sub(r.start)})
	tr.admitFrom = t1
	if probe && r.crash != nil && r.crash(r, t1) {
		<-r.released
		return "", errReplicaDied
	}
	if err == nil {
		r.cache.put(tr.query, answer)
	}
	return answer, err
}

// die marks the replica dead: it takes no more requests, requests in
// flight on it are lost, and its Redis connections go at once, as a killed
// process's do, so nothing it still holds (its probe, queued reports)
// reaches Redis.
func (r *replica) die(at time.Time) {
	if r.dead.CompareAndSwap(false, true) {
		if r.client != nil {
			_ = r.client.Close()
		}
		r.sink.add(event{Kind: kindCrash, Replica: r.idx, At: at.Sub(r.start)})
	}
}

// search asks the fake FoodData Central for query and decodes the answer
// minimally: the first food's description and energy.
func (r *replica) search(ctx context.Context, query string) (string, error) {
	u := r.searchURL + "?api_key=DEMO_KEY&pageSize=1&query=" + url.QueryEscape(query)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", retry.Permanent(err)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return "", err
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err := retry.FromResponse(resp); err != nil {
		return "", err
	}
	if readErr != nil {
		return "", fmt.Errorf("loadtest: usda search %q: %w", query, readErr)
	}
	var result struct {
		Foods []struct {
			Description   string `json:"description"`
			FoodNutrients []struct {
				NutrientNumber string  `json:"nutrientNumber"`
				Value          float64 `json:"value"`
			} `json:"foodNutrients"`
		} `json:"foods"`
	}
	if err := json.Unmarshal(body, &result); err != nil {
		return "", fmt.Errorf("loadtest: usda search %q: malformed answer: %w", query, err)
	}
	if len(result.Foods) == 0 {
		return "", retry.Permanent(fmt.Errorf("loadtest: usda search %q: no food found", query))
	}
	f := result.Foods[0]
	for _, n := range f.FoodNutrients {
		if n.NutrientNumber == "208" {
			return fmt.Sprintf("%s: %.0f kcal per 100 g", f.Description, n.Value), nil
		}
	}
	return f.Description + ": energy unknown", nil
}

// cached is the fallback step: the last answer this process got for the
// query, flagged degraded by the chain.
func (r *replica) cached(ctx context.Context) (string, error) {
	q := traceFrom(ctx).query
	if a, ok := r.cache.get(q); ok {
		return a + " (cached)", nil
	}
	return "", fmt.Errorf("loadtest: no cached answer for %q", q)
}

// observer logs what the replica's breaker does.
type observer struct {
	dbreaker.NopObserver
	r *replica
}

func (o *observer) OnCall(_ string, res dbreaker.CallResult) {
	switch res {
	case dbreaker.ResultRejected, dbreaker.ResultRejectedProbes, dbreaker.ResultStoreUnavailable:
		o.r.sink.add(event{Kind: kindReject, Replica: o.r.idx, At: o.r.clock.Now().Sub(o.r.start)})
	}
}

func (o *observer) OnTransition(t dbreaker.Transition) {
	o.r.sink.add(event{Kind: kindTransition, Replica: o.r.idx, At: o.r.clock.Now().Sub(o.r.start),
		From: fromBreakerState(t.From), To: fromBreakerState(t.To), Gen: t.Generation})
}

func (o *observer) OnStale(_ string, n int) {
	o.r.sink.add(event{Kind: kindStale, Replica: o.r.idx, At: o.r.clock.Now().Sub(o.r.start), N: int64(n)})
}

// sample logs the replica's view of its breaker and its counters.
func (r *replica) sample(now time.Time) {
	e := event{Kind: kindState, Replica: r.idx, At: now.Sub(r.start), State: statePtr(stateNone)}
	if r.breaker != nil {
		v := r.breaker.View()
		e.State = statePtr(fromBreakerState(v.State))
		s := r.breaker.Stats()
		e.Stale, e.StoreErrs, e.Local = s.StaleReports, s.StoreErrors, s.LocalDecisions
	}
	r.sink.add(e)
}

// fromBreakerState maps a breaker's effective state to the three the
// report knows; overrides are never set by the tool.
func fromBreakerState(s dbreaker.State) state {
	switch s {
	case dbreaker.Open, dbreaker.ForcedOpen:
		return stateOpen
	case dbreaker.HalfOpen:
		return stateHalfOpen
	}
	return stateClosed
}

// answerCache is the fallback's memory: the last answer per query, as the
// service's nutrition cache would keep it. Safe for concurrent use.
type answerCache struct {
	mu      sync.RWMutex
	answers map[string]string
}

func newAnswerCache() *answerCache { return &answerCache{answers: make(map[string]string)} }

func (c *answerCache) get(q string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.answers[q]
	return a, ok
}

func (c *answerCache) put(q, a string) {
	c.mu.Lock()
	c.answers[q] = a
	c.mu.Unlock()
}

// all returns a copy of every answer.
func (c *answerCache) all() map[string]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return maps.Clone(c.answers)
}

// warm fills the cache with one lookup of every query at usda, as a
// service that has run for a while would have it.
func (c *answerCache) warm(ctx context.Context, usda string) error {
	r := &replica{searchURL: usda + "/foods/search", http: &http.Client{Transport: &http.Transport{Proxy: nil}}}
	defer r.http.CloseIdleConnections()
	for _, q := range queries {
		a, err := r.search(ctx, q)
		if err != nil {
			return fmt.Errorf("loadtest: warming the cache: %w", err)
		}
		c.put(q, a)
	}
	return nil
}

// quiet passes on errors only: a chain logs every fallback, which under
// load is every request.
func quiet(l *slog.Logger) *slog.Logger {
	h := l.Handler()
	if lh, ok := h.(levelHandler); ok {
		lh.min = slog.LevelError
		return slog.New(lh)
	}
	return slog.New(levelHandler{Handler: h, min: slog.LevelError})
}

// levelHandler drops records below min, and every record once mute is set.
type levelHandler struct {
	slog.Handler
	min  slog.Level
	mute *atomic.Bool // nil: never muted
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if h.mute != nil && h.mute.Load() {
		return false
	}
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return levelHandler{Handler: h.Handler.WithAttrs(as), min: h.min, mute: h.mute}
}

func (h levelHandler) WithGroup(name string) slog.Handler {
	return levelHandler{Handler: h.Handler.WithGroup(name), min: h.min, mute: h.mute}
}

// lockedRand returns a seeded source of uniform numbers in [0, 1), safe for
// concurrent use, for the retry jitter.
func lockedRand(seed, stream uint64) func() float64 {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, stream))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return rng.Float64()
	}
}
