package metrics_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/metrics"
	"github.com/healthagent/resilience/pkg/retry"
)

// rejection returns what a breaker forced open returns.
func rejection(t *testing.T) error {
	t.Helper()
	b, err := dbreaker.New("openai", memStore(t), dbreaker.Config{}, dbreaker.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ForceOpen(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = b.Allow(context.Background())
	if !dbreaker.IsRejected(err) {
		t.Fatalf("a breaker forced open returned %v", err)
	}
	return err
}

// histogramCount returns the sample count of the one histogram c collects.
func histogramCount(t *testing.T, c prometheus.Collector) uint64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	close(ch)
	var m dto.Metric
	if err := (<-ch).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

// allNames are every metric of the package.
var allNames = []string{
	"circuit_breaker_state",
	"circuit_breaker_transitions_total",
	"circuit_breaker_calls_total",
	"circuit_breaker_stale_reports_total",
	"circuit_breaker_store_errors_total",
	"circuit_breaker_store_degraded",
	"api_calls_total",
	"api_call_duration_seconds",
	"api_failures_total",
	"api_retries_total",
	"fallback_executions_total",
}

// exercise gives every metric of m at least one series.
func exercise(t *testing.T, m *metrics.Metrics) {
	t.Helper()
	ctx := context.Background()
	b, err := dbreaker.New("openai", memStore(t), dbreaker.Config{}, dbreaker.WithObserver(m.Breakers), dbreaker.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Breakers.Track(b); err != nil {
		t.Fatal(err)
	}
	if _, err := b.State(ctx); err != nil { // learns the state: circuit_breaker_state
		t.Fatal(err)
	}
	m.Breakers.OnTransition(dbreaker.Transition{Breaker: "openai", From: dbreaker.Closed, To: dbreaker.Open})
	m.Breakers.OnStale("openai", 1)
	_ = m.Breakers.TrackStore(fakeStore(true))
	m.APIs.OnAttempt(ctx, attempt("openai", &retry.HTTPError{Code: 503}, true, time.Second))
	m.APIs.OnRetry(ctx, retry.RetryEvent{Name: "openai"})
	m.Fallbacks.OnStep(ctx, chain.StepEvent{Primary: "anthropic", Step: "openai", Index: 1, FailedBefore: 1})
}

func TestNewRegistersEveryMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, m)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range families {
		got[f.GetName()] = true
	}
	for _, name := range allNames {
		if !got[name] {
			t.Errorf("%s is not registered", name)
		}
	}
	if len(got) != len(allNames) {
		t.Errorf("%d metric families registered, want %d", len(got), len(allNames))
	}
}

func TestLint(t *testing.T) {
	m, err := metrics.New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, m)
	for _, c := range []struct {
		name string
		c    prometheus.Collector
	}{{"Breakers", m.Breakers}, {"APIs", m.APIs}, {"Fallbacks", m.Fallbacks}} {
		t.Run(c.name, func(t *testing.T) {
			if n := testutil.CollectAndCount(c.c); n == 0 {
				t.Fatal("nothing collected: the lint would check nothing")
			}
			problems, err := testutil.CollectAndLint(c.c)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("%s: %s", p.Metric, p.Text)
			}
		})
	}
}

func TestRegistrationErrors(t *testing.T) {
	t.Run("nil registerer", func(t *testing.T) {
		if _, err := metrics.New(nil); err == nil || !strings.Contains(err.Error(), "metrics: invalid Registerer") || !strings.Contains(err.Error(), "nil Registerer") {
			t.Errorf("New(nil) = %v", err)
		}
		if _, err := metrics.NewBreakers(nil); err == nil {
			t.Error("NewBreakers(nil) succeeded")
		}
		if _, err := metrics.NewAPIs(nil); err == nil {
			t.Error("NewAPIs(nil) succeeded")
		}
		if _, err := metrics.NewFallbacks(nil); err == nil {
			t.Error("NewFallbacks(nil) succeeded")
		}
	})
	t.Run("a clash leaves nothing registered", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		clash := prometheus.NewCounter(prometheus.CounterOpts{Name: "fallback_executions_total", Help: "someone else's"})
		reg.MustRegister(clash)
		_, err := metrics.New(reg)
		var are prometheus.AlreadyRegisteredError
		if err == nil || !strings.HasPrefix(err.Error(), "metrics: register: ") || errors.As(err, &are) {
			t.Errorf("New = %v, want a registration error", err)
		}
		families, gerr := reg.Gather()
		if gerr != nil {
			t.Fatal(gerr)
		}
		if len(families) != 1 || families[0].GetName() != "fallback_executions_total" {
			t.Errorf("registry holds %d families after the failed New, want only the clashing one", len(families))
		}
		// The collectors registered before the clash were unregistered:
		// registering them again works.
		if _, err := metrics.NewBreakers(reg); err != nil {
			t.Errorf("NewBreakers after the failed New: %v", err)
		}
		if _, err := metrics.NewAPIs(reg); err != nil {
			t.Errorf("NewAPIs after the failed New: %v", err)
		}
	})
	t.Run("twice on one registry", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		if _, err := metrics.NewAPIs(reg); err != nil {
			t.Fatal(err)
		}
		if _, err := metrics.NewAPIs(reg); err == nil {
			t.Error("a second NewAPIs on the same registry succeeded")
		}
	})
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opt  metrics.Option
		want string
	}{
		{"no buckets", metrics.WithDurationBuckets(nil), "no buckets"},
		{"unsorted buckets", metrics.WithDurationBuckets([]float64{1, 0.5}), "not strictly increasing at 1"},
		{"repeated bucket", metrics.WithDurationBuckets([]float64{1, 1}), "not strictly increasing"},
		{"NaN bucket", metrics.WithDurationBuckets([]float64{math.NaN()}), "bucket 0 is NaN"},
		{"nil option", nil, "option 0 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := metrics.New(prometheus.NewRegistry(), tt.opt)
			if err == nil || !strings.HasPrefix(err.Error(), "metrics: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := metrics.NewBreakers(prometheus.NewRegistry(), metrics.WithDurationBuckets([]float64{1})); err == nil ||
		!strings.Contains(err.Error(), "NewBreakers does not take it") {
		t.Errorf("NewBreakers with buckets = %v, want an error naming WithDurationBuckets", err)
	}
}
