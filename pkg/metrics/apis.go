package metrics

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/retry"
)

// APIs holds the api_* metrics. It is a chain.Observer of Guards: give it
// to every Guard with chain.WithObserver, and Track every upstream so that
// its series exist from the start. Safe for concurrent use.
type APIs struct {
	chain.NopObserver

	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	failures *prometheus.CounterVec
	retries  *prometheus.CounterVec
}

var _ chain.Observer = (*APIs)(nil)

// NewAPIs creates the api_* metrics and registers them with reg. It takes
// WithDurationBuckets.
func NewAPIs(reg prometheus.Registerer, opts ...Option) (*APIs, error) {
	o, err := resolve("NewAPIs", opts, "WithDurationBuckets")
	if err != nil {
		return nil, err
	}
	m := newAPIs(o)
	if err := register(reg, m); err != nil {
		return nil, err
	}
	return m, nil
}

func newAPIs(o options) *APIs {
	return &APIs{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "api_calls_total",
			Help: "Attempts to call each upstream API, by status: success, the HTTP status code, or the error class (rejected by the breaker, timeout, connection…).",
		}, []string{"api", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "api_call_duration_seconds",
			Help:    "Duration of the calls that reached each upstream API (attempts rejected by the breaker excluded).",
			Buckets: o.buckets,
		}, []string{"api"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "api_failures_total",
			Help: "Failed attempts to call each upstream API, by error type: failures of the upstream (http_4xx, http_5xx, timeout, connection, other) and attempts the breaker refused (rejected, store_unavailable). Answers the breaker counts as successes and the caller's cancellations are not failures.",
		}, []string{"api", "error_type"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "api_retries_total",
			Help: "Retries of calls to each upstream API.",
		}, []string{"api"}),
	}
}

// Track creates every series of an upstream at zero: api_calls_total for
// "success" and each error class (HTTP codes appear with their first
// call), api_failures_total for each error type, api_retries_total and
// api_call_duration_seconds. A series that exists before its first
// increment lets rate() and increase() see that increment.
func (m *APIs) Track(api string) error {
	if api == "" {
		return errors.New("metrics: APIs.Track: empty api name")
	}
	for _, status := range chain.Statuses() {
		m.calls.WithLabelValues(api, status)
	}
	for _, typ := range chain.ErrorTypes() {
		m.failures.WithLabelValues(api, typ)
	}
	m.retries.WithLabelValues(api)
	m.duration.WithLabelValues(api)
	return nil
}

// OnAttempt implements chain.Observer: api_calls_total,
// api_call_duration_seconds (calls that reached the upstream only) and
// api_failures_total.
func (m *APIs) OnAttempt(_ context.Context, a chain.Attempt) {
	m.calls.WithLabelValues(a.API, a.Status).Inc()
	if a.Called {
		m.duration.WithLabelValues(a.API).Observe(a.Duration.Seconds())
	}
	if a.ErrorType != "" {
		m.failures.WithLabelValues(a.API, a.ErrorType).Inc()
	}
}

// OnRetry implements chain.Observer: api_retries_total, by the Guard's
// name.
func (m *APIs) OnRetry(_ context.Context, e retry.RetryEvent) {
	m.retries.WithLabelValues(e.Name).Inc()
}

// Describe implements prometheus.Collector.
func (m *APIs) Describe(ch chan<- *prometheus.Desc) { m.all().Describe(ch) }

// Collect implements prometheus.Collector.
func (m *APIs) Collect(ch chan<- prometheus.Metric) { m.all().Collect(ch) }

func (m *APIs) all() group { return group{m.calls, m.duration, m.failures, m.retries} }

// The series accessors below return one series as a prometheus.Collector,
// for tests and checks (testutil.ToFloat64, testutil.CollectAndCount). Like
// WithLabelValues, they create the series at zero when it does not exist
// yet.

// CallsCounter returns api_calls_total{api,status}.
func (m *APIs) CallsCounter(api, status string) prometheus.Collector {
	return m.calls.WithLabelValues(api, status)
}

// FailuresCounter returns api_failures_total{api,error_type}.
func (m *APIs) FailuresCounter(api, errorType string) prometheus.Collector {
	return m.failures.WithLabelValues(api, errorType)
}

// RetriesCounter returns api_retries_total{api}.
func (m *APIs) RetriesCounter(api string) prometheus.Collector {
	return m.retries.WithLabelValues(api)
}

// DurationHistogram returns api_call_duration_seconds{api}.
func (m *APIs) DurationHistogram(api string) prometheus.Collector {
	return m.duration.WithLabelValues(api).(prometheus.Histogram)
}
