package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/metrics"
	"github.com/healthagent/resilience/pkg/retry"
)

func newAPIs(t *testing.T, opts ...metrics.Option) *metrics.APIs {
	t.Helper()
	m, err := metrics.NewAPIs(prometheus.NewRegistry(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// attempt builds the Attempt a Guard reports for err.
func attempt(api string, err error, called bool, d time.Duration) chain.Attempt {
	status, errType := chain.Labels(err)
	return chain.Attempt{API: api, Status: status, ErrorType: errType, Called: called, Duration: d, Err: err}
}

func TestAPIsOnAttempt(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		attempts     []chain.Attempt
		wantCalls    map[string]float64 // status -> api_calls_total{api="openai"}
		wantFailures map[string]float64 // error_type -> api_failures_total
		wantObserved int                // samples in api_call_duration_seconds
	}{
		{
			name:         "success",
			attempts:     []chain.Attempt{attempt("openai", nil, true, 800*time.Millisecond)},
			wantCalls:    map[string]float64{"success": 1},
			wantFailures: map[string]float64{},
			wantObserved: 1,
		},
		{
			name: "HTTP errors count by code and by class",
			attempts: []chain.Attempt{
				attempt("openai", &retry.HTTPError{Code: 503}, true, time.Second),
				attempt("openai", &retry.HTTPError{Code: 503}, true, time.Second),
				attempt("openai", &retry.HTTPError{Code: 429}, true, time.Second),
			},
			wantCalls:    map[string]float64{"503": 2, "429": 1},
			wantFailures: map[string]float64{"http_5xx": 2, "http_4xx": 1},
			wantObserved: 3,
		},
		{
			name:         "a rejected attempt counts but has no duration",
			attempts:     []chain.Attempt{attempt("openai", rejection(t), false, 0)},
			wantCalls:    map[string]float64{"rejected": 1},
			wantFailures: map[string]float64{"rejected": 1},
			wantObserved: 0,
		},
		{
			name:         "a timeout",
			attempts:     []chain.Attempt{attempt("openai", context.DeadlineExceeded, true, 20*time.Second)},
			wantCalls:    map[string]float64{"timeout": 1},
			wantFailures: map[string]float64{"timeout": 1},
			wantObserved: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newAPIs(t)
			for _, a := range tt.attempts {
				m.OnAttempt(ctx, a)
			}
			for status, want := range tt.wantCalls {
				if got := testutil.ToFloat64(m.CallsCounter("openai", status)); got != want {
					t.Errorf("api_calls_total{status=%q} = %v, want %v", status, got, want)
				}
			}
			if n := testutil.CollectAndCount(m, "api_calls_total"); n != len(tt.wantCalls) {
				t.Errorf("%d api_calls_total series, want %d", n, len(tt.wantCalls))
			}
			for typ, want := range tt.wantFailures {
				if got := testutil.ToFloat64(m.FailuresCounter("openai", typ)); got != want {
					t.Errorf("api_failures_total{error_type=%q} = %v, want %v", typ, got, want)
				}
			}
			if n := testutil.CollectAndCount(m, "api_failures_total"); n != len(tt.wantFailures) {
				t.Errorf("%d api_failures_total series, want %d", n, len(tt.wantFailures))
			}
			if got := histogramCount(t, m.DurationHistogram("openai")); got != uint64(tt.wantObserved) {
				t.Errorf("api_call_duration_seconds count %d, want %d", got, tt.wantObserved)
			}
		})
	}
}

func TestAPIsDurationBuckets(t *testing.T) {
	m := newAPIs(t, metrics.WithDurationBuckets([]float64{0.5, 1, 5}))
	m.OnAttempt(context.Background(), attempt("usda", nil, true, 300*time.Millisecond))
	m.OnAttempt(context.Background(), attempt("usda", nil, true, 2*time.Second))
	want := `
# HELP api_call_duration_seconds Duration of the calls that reached each upstream API (attempts rejected by the breaker excluded).
# TYPE api_call_duration_seconds histogram
api_call_duration_seconds_bucket{api="usda",le="0.5"} 1
api_call_duration_seconds_bucket{api="usda",le="1"} 1
api_call_duration_seconds_bucket{api="usda",le="5"} 2
api_call_duration_seconds_bucket{api="usda",le="+Inf"} 2
api_call_duration_seconds_sum{api="usda"} 2.3
api_call_duration_seconds_count{api="usda"} 2
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), "api_call_duration_seconds"); err != nil {
		t.Error(err)
	}
}

func TestAPIsOnRetry(t *testing.T) {
	m := newAPIs(t)
	for range 3 {
		m.OnRetry(context.Background(), retry.RetryEvent{Name: "anthropic", Err: errors.New("529")})
	}
	if got := testutil.ToFloat64(m.RetriesCounter("anthropic")); got != 3 {
		t.Errorf("api_retries_total = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.RetriesCounter("openai")); got != 0 {
		t.Errorf("api_retries_total{api=openai} = %v, want 0", got)
	}
}

func TestAPIsTrackCreatesEverySeriesAtZero(t *testing.T) {
	m := newAPIs(t)
	if err := m.Track("usda"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		want int
	}{
		{"api_calls_total", len(chain.Statuses())},
		{"api_failures_total", len(chain.ErrorTypes())},
		{"api_retries_total", 1},
		{"api_call_duration_seconds", 1},
	} {
		if n := testutil.CollectAndCount(m, c.name); n != c.want {
			t.Errorf("%s: %d series after Track, want %d", c.name, n, c.want)
		}
	}
	if got := testutil.ToFloat64(m.FailuresCounter("usda", "timeout")); got != 0 {
		t.Errorf("api_failures_total{error_type=timeout} = %v, want 0", got)
	}
	// A rare error now moves a series that already existed.
	m.OnAttempt(context.Background(), attempt("usda", context.DeadlineExceeded, true, time.Second))
	if n := testutil.CollectAndCount(m, "api_failures_total"); n != len(chain.ErrorTypes()) {
		t.Errorf("a tracked error type added a series: %d, want %d", n, len(chain.ErrorTypes()))
	}
	if err := m.Track(""); err == nil {
		t.Error("Track accepted an empty name")
	}
}

func TestDefaultDurationBucketsStartAtOneMillisecond(t *testing.T) {
	m := newAPIs(t)
	m.OnAttempt(context.Background(), attempt("postgres", nil, true, 800*time.Microsecond))
	m.OnAttempt(context.Background(), attempt("postgres", nil, true, 3*time.Millisecond))
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	// Both calls fall into buckets of at most 5 ms: a p95 read from them
	// says milliseconds, not the tens of milliseconds of a coarse bucket.
	want := []string{"le=0.001: 1", "le=0.0025: 1", "le=0.005: 2"}
	var got []string
	for _, mf := range mfs {
		if mf.GetName() == "api_call_duration_seconds" {
			for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket()[:len(want)] {
				got = append(got, fmt.Sprintf("le=%v: %d", b.GetUpperBound(), b.GetCumulativeCount()))
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("lowest buckets %q, want %q", got, want)
	}
}
