package chain_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/metrics"
	"github.com/healthagent/resilience/pkg/retry"
)

// flakyUpstream is a nutrition API that answers 503 until it recovers.
type flakyUpstream struct {
	srv      *httptest.Server
	healthy  atomic.Bool
	requests atomic.Int32
}

func newFlakyUpstream(t *testing.T) *flakyUpstream {
	u := &flakyUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.requests.Add(1)
		if !u.healthy.Load() {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "apple: 52 kcal")
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *flakyUpstream) fetch(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.srv.URL+"/fdc/v1/foods/search?query=apple", nil)
	if err != nil {
		return "", retry.Permanent(err)
	}
	resp, err := u.srv.Client().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if err := retry.FromResponse(resp); err != nil {
		return "", err
	}
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// e2eStore is a breaker store with a way to let the open timeout pass.
type e2eStore struct {
	name        string
	openTimeout time.Duration
	// store returns the store; clock is the breaker's clock.
	store func(t *testing.T, clock *clocktest.Clock) dbreaker.Store
	// passOpenTimeout lets the open timeout pass for breaker b, by the
	// store's clock and by the breaker's.
	passOpenTimeout func(t *testing.T, clock *clocktest.Clock, b *dbreaker.Breaker, d time.Duration)
}

func e2eStores() []e2eStore {
	return []e2eStore{
		{
			name:        "MemoryStore",
			openTimeout: time.Minute,
			store: func(t *testing.T, clock *clocktest.Clock) dbreaker.Store {
				return memStore(t, dbreaker.WithClock(clock))
			},
			passOpenTimeout: func(t *testing.T, clock *clocktest.Clock, _ *dbreaker.Breaker, d time.Duration) {
				clock.Advance(d)
			},
		},
		{
			// Redis decides with its own clock, which no test can move: a
			// short open timeout, and a wait until Redis says it has passed.
			name:        "RedisStore",
			openTimeout: 50 * time.Millisecond,
			store: func(t *testing.T, _ *clocktest.Clock) dbreaker.Store {
				client := testredis.Client(t)
				s, err := dbreaker.NewRedisStore(client, dbreaker.WithKeyPrefix(testredis.Prefix(t, client)))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close(context.Background()) })
				return s
			},
			passOpenTimeout: func(t *testing.T, clock *clocktest.Clock, b *dbreaker.Breaker, d time.Duration) {
				testwait.For(t, 5*time.Second, "Redis to end the open period", func() bool {
					s, err := b.State(context.Background())
					return err == nil && s.State == dbreaker.Open && s.RetryAfter() <= 0
				})
				clock.Advance(d) // the breaker's own view of the open period
			},
		},
	}
}

// currentState returns the state circuit_breaker_state reports as current
// for breaker, read through a registry as a scrape would.
func currentState(t *testing.T, reg *prometheus.Registry, breaker string) string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	current := ""
	for _, f := range families {
		if f.GetName() != "circuit_breaker_state" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["breaker"] == breaker && m.GetGauge().GetValue() == 1 {
				if current != "" {
					t.Errorf("two current states: %s and %s", current, labels["state"])
				}
				current = labels["state"]
			}
		}
	}
	return current
}

// TestEndToEnd runs a real HTTP upstream through a chain of Guard (retry,
// breaker, attempt timeout) and a cache fallback while the upstream fails
// and recovers, and checks requests, waits, results and every metric.
func TestEndToEnd(t *testing.T) {
	for _, st := range e2eStores() {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			up := newFlakyUpstream(t)
			clock := clocktest.New(start)
			rclock := newRetryClock()
			reg := prometheus.NewRegistry()
			m, err := metrics.New(reg)
			if err != nil {
				t.Fatal(err)
			}
			var logs logBuffer
			logger := newLogger(&logs)

			// A store call slower than StoreTimeout is decided locally: room
			// for a busy Redis, which this test is not about.
			b, err := dbreaker.New("usda", st.store(t, clock), dbreaker.Config{FailureThreshold: 5, OpenTimeout: st.openTimeout, StoreTimeout: time.Second},
				dbreaker.WithClock(clock), dbreaker.WithObserver(m.Breakers), dbreaker.WithLogger(logger))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Breakers.Track(b); err != nil {
				t.Fatal(err)
			}
			g, err := chain.NewGuard("usda", chain.GuardConfig{
				Breaker:        b,
				Retry:          newPolicy(t, "usda", retry.Config{MaxRetries: 3, BaseDelay: time.Second}, retry.WithClock(rclock), retry.WithLogger(logger)),
				AttemptTimeout: 5 * time.Second,
			}, chain.WithObserver(m.APIs), chain.WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			nutrition, err := chain.New("nutrition", []chain.Step[string]{
				chain.GuardedStep(g, up.fetch),
				{Name: "cache", Degraded: true, Fn: func(context.Context) (string, error) { return "apple: 52 kcal (cached)", nil }},
			}, chain.WithObserver(m.Fallbacks), chain.WithLogger(logger))
			if err != nil {
				t.Fatal(err)
			}

			type expect struct {
				step                    string
				degraded                bool
				requests, waits         int
				state                   string
				calls503, callsRejected float64
				callsSuccess, retries   float64
				fallbacks               float64
			}
			check := func(t *testing.T, want expect) {
				t.Helper()
				res, err := nutrition.Execute(ctx)
				if err != nil {
					t.Fatalf("Execute: %v", err)
				}
				if res.Step != want.step || res.Degraded != want.degraded {
					t.Errorf("served by %s (degraded %v), want %s (degraded %v)", res.Step, res.Degraded, want.step, want.degraded)
				}
				if n := int(up.requests.Load()); n != want.requests {
					t.Errorf("upstream saw %d requests, want %d", n, want.requests)
				}
				if w := rclock.Waits(); len(w) != want.waits {
					t.Errorf("retry waited %d times (%v), want %d", len(w), w, want.waits)
				}
				if s := currentState(t, reg, "usda"); s != want.state {
					t.Errorf("circuit_breaker_state: %q is current, want %q", s, want.state)
				}
				for _, c := range []struct {
					name string
					c    prometheus.Collector
					want float64
				}{
					{`api_calls_total{status="503"}`, m.APIs.CallsCounter("usda", "503"), want.calls503},
					{`api_calls_total{status="rejected"}`, m.APIs.CallsCounter("usda", "rejected"), want.callsRejected},
					{`api_calls_total{status="success"}`, m.APIs.CallsCounter("usda", "success"), want.callsSuccess},
					{`api_failures_total{error_type="http_5xx"}`, m.APIs.FailuresCounter("usda", "http_5xx"), want.calls503},
					{`api_failures_total{error_type="rejected"}`, m.APIs.FailuresCounter("usda", "rejected"), want.callsRejected},
					{`api_retries_total`, m.APIs.RetriesCounter("usda"), want.retries},
					{`circuit_breaker_calls_total{result="failure"}`, m.Breakers.CallsCounter("usda", "failure"), want.calls503},
					{`circuit_breaker_calls_total{result="rejected"}`, m.Breakers.CallsCounter("usda", "rejected"), want.callsRejected},
					{`circuit_breaker_calls_total{result="success"}`, m.Breakers.CallsCounter("usda", "success"), want.callsSuccess},
					{`fallback_executions_total{cache,success}`, m.Fallbacks.ExecutionsCounter("usda", "cache", "success"), want.fallbacks},
					{`circuit_breaker_stale_reports_total`, m.Breakers.StaleReportsCounter("usda"), 0},
				} {
					if got := testutil.ToFloat64(c.c); got != c.want {
						t.Errorf("%s = %v, want %v", c.name, got, c.want)
					}
				}
				if got, want := histogramCount(t, m.APIs.DurationHistogram("usda")), uint64(want.calls503+want.callsSuccess); got != want {
					t.Errorf("api_call_duration_seconds count %d, want %d (calls that reached the upstream)", got, want)
				}
			}

			// 1. The upstream fails: four attempts (three retries), four
			// recorded failures, the cache serves.
			check(t, expect{step: "cache", degraded: true, requests: 4, waits: 3, state: "closed",
				calls503: 4, retries: 3, fallbacks: 1})
			// 2. The fifth failed attempt trips the breaker. When it stays
			// open longer than the next wait (a minute against about a
			// second), the retry stops at once, without waiting and without
			// another attempt; when it may half-open before the wait ends
			// (Redis' 50 ms), the retry waits and its attempt, made sooner
			// than Redis' clock allows, is rejected.
			waited := 0.0
			if st.openTimeout < time.Second {
				waited = 1
			}
			check(t, expect{step: "cache", degraded: true, requests: 5, waits: 3 + int(waited), state: "open",
				calls503: 5, callsRejected: waited, retries: 3 + waited, fallbacks: 2})
			// 3. Open: rejected at once, no request, no wait.
			check(t, expect{step: "cache", degraded: true, requests: 5, waits: 3 + int(waited), state: "open",
				calls503: 5, callsRejected: 1 + waited, retries: 3 + waited, fallbacks: 3})
			if got := testutil.ToFloat64(m.Breakers.TransitionsCounter("usda", "closed", "open", metrics.SourceShared, metrics.CausePolicy)); got != 1 {
				t.Errorf("closed→open transitions %v, want 1", got)
			}

			// 4. The upstream recovers and the open timeout passes: the probe
			// succeeds, the breaker closes, the primary serves again.
			up.healthy.Store(true)
			st.passOpenTimeout(t, clock, b, st.openTimeout)
			check(t, expect{step: "usda", degraded: false, requests: 6, waits: 3 + int(waited), state: "closed",
				calls503: 5, callsRejected: 1 + waited, callsSuccess: 1, retries: 3 + waited, fallbacks: 3})
			for _, tr := range [][2]string{{"open", "half_open"}, {"half_open", "closed"}} {
				if got := testutil.ToFloat64(m.Breakers.TransitionsCounter("usda", tr[0], tr[1], metrics.SourceShared, metrics.CausePolicy)); got != 1 {
					t.Errorf("%s→%s transitions %v, want 1", tr[0], tr[1], got)
				}
			}
			for _, op := range []string{"acquire", "report", "snapshot", "override"} {
				if got := testutil.ToFloat64(m.Breakers.StoreErrorsCounter(op)); got != 0 {
					t.Errorf("store errors (%s) %v, want 0", op, got)
				}
			}
			for _, want := range []string{"[RETRY]", "[CIRCUIT_BREAKER] state changed", "[FALLBACK] served by fallback"} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("logs lack %q", want)
				}
			}
		})
	}
}
