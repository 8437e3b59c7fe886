package metrics_test

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/metrics"
)

func TestFallbacksOnStep(t *testing.T) {
	down := errors.New("down")
	ev := func(step string, index int, err error, failedBefore int) chain.StepEvent {
		return chain.StepEvent{Chain: "text", Primary: "anthropic", Step: step, Index: index, Degraded: index > 0, Err: err, FailedBefore: failedBefore}
	}
	miss := func(step string, index int, failedBefore int) chain.StepEvent {
		e := ev(step, index, errors.New("nothing for it"), failedBefore)
		e.NotFound = true
		return e
	}
	tests := []struct {
		name   string
		events []chain.StepEvent
		want   map[[2]string]float64 // {strategy, status} -> value
	}{
		{"the primary serving is no fallback", []chain.StepEvent{ev("anthropic", 0, nil, 0)}, map[[2]string]float64{}},
		{"the primary failing is no fallback", []chain.StepEvent{ev("anthropic", 0, down, 0)}, map[[2]string]float64{}},
		{
			"a fallback serves",
			[]chain.StepEvent{ev("anthropic", 0, down, 0), ev("openai", 1, nil, 1)},
			map[[2]string]float64{{"openai", "success"}: 1},
		},
		{
			"fallbacks fail, the cache serves",
			[]chain.StepEvent{ev("anthropic", 0, down, 0), ev("openai", 1, down, 1), ev("cache", 2, nil, 2)},
			map[[2]string]float64{{"openai", "failure"}: 1, {"cache", "success"}: 1},
		},
		{
			"the primary finds nothing: the next step serving is no fallback",
			[]chain.StepEvent{miss("anthropic", 0, 0), ev("openai", 1, nil, 0)},
			map[[2]string]float64{},
		},
		{
			"only misses: nothing counts",
			[]chain.StepEvent{miss("anthropic", 0, 0), miss("openai", 1, 0), miss("cache", 2, 0)},
			map[[2]string]float64{},
		},
		{
			"a fallback finding nothing is no failure",
			[]chain.StepEvent{ev("anthropic", 0, down, 0), miss("openai", 1, 1), ev("cache", 2, nil, 1)},
			map[[2]string]float64{{"openai", "not_found"}: 1, {"cache", "success"}: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := metrics.NewFallbacks(prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tt.events {
				m.OnStep(context.Background(), e)
			}
			if n := testutil.CollectAndCount(m); n != len(tt.want) {
				t.Errorf("%d series, want %d", n, len(tt.want))
			}
			for k, want := range tt.want {
				if got := testutil.ToFloat64(m.ExecutionsCounter("anthropic", k[0], k[1])); got != want {
					t.Errorf("fallback_executions_total{fallback_strategy=%q,status=%q} = %v, want %v", k[0], k[1], got, want)
				}
			}
		})
	}
}

func TestFallbacksTrackCreatesEverySeriesAtZero(t *testing.T) {
	m, err := metrics.NewFallbacks(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Track("anthropic", "openai", "cached_answer"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m); n != 6 {
		t.Fatalf("%d series after Track, want 6 (2 steps × success, failure, not_found)", n)
	}
	m.OnStep(context.Background(), chain.StepEvent{Chain: "text", Primary: "anthropic", Step: "openai", Index: 1, FailedBefore: 1})
	if n := testutil.CollectAndCount(m); n != 6 {
		t.Errorf("%d series after a tracked step served, want still 6", n)
	}
	if got := testutil.ToFloat64(m.ExecutionsCounter("anthropic", "openai", "success")); got != 1 {
		t.Errorf("openai success = %v, want 1", got)
	}
	for _, bad := range [][]string{{""}, {"anthropic", ""}} {
		if err := m.Track(bad[0], bad[1:]...); err == nil {
			t.Errorf("Track(%q) accepted an empty step name", bad)
		}
	}
}
