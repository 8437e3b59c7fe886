package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthagent/resilience/pkg/chain"
)

// Fallbacks holds fallback_executions_total. It is a chain.Observer: give it
// to every chain with chain.WithObserver. Safe for concurrent use.
type Fallbacks struct {
	executions *prometheus.CounterVec
}

var _ chain.Observer = (*Fallbacks)(nil)

// NewFallbacks creates fallback_executions_total and registers it with reg.
func NewFallbacks(reg prometheus.Registerer) (*Fallbacks, error) {
	m := newFallbacks()
	if err := register(reg, m); err != nil {
		return nil, err
	}
	return m, nil
}

func newFallbacks() *Fallbacks {
	return &Fallbacks{executions: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fallback_executions_total",
		Help: "Fallback steps run because the steps before them failed, by the chain's primary API, the fallback step, and status (success or failure).",
	}, []string{"primary_api", "fallback_strategy", "status"})}
}

// OnStep implements chain.Observer: every fallback step that ran (any step
// after the first) counts once, with status "success" or "failure".
func (m *Fallbacks) OnStep(_ context.Context, e chain.StepEvent) {
	if !e.Fallback() {
		return
	}
	status := "success"
	if e.Err != nil {
		status = "failure"
	}
	m.executions.WithLabelValues(e.Primary, e.Step, status).Inc()
}

// Describe implements prometheus.Collector.
func (m *Fallbacks) Describe(ch chan<- *prometheus.Desc) { m.executions.Describe(ch) }

// Collect implements prometheus.Collector.
func (m *Fallbacks) Collect(ch chan<- prometheus.Metric) { m.executions.Collect(ch) }

// ExecutionsCounter returns
// fallback_executions_total{primary_api,fallback_strategy,status} as a
// prometheus.Collector, for tests and checks (testutil.ToFloat64). Like
// WithLabelValues, it creates the series at zero when it does not exist yet.
func (m *Fallbacks) ExecutionsCounter(primary, strategy, status string) prometheus.Collector {
	return m.executions.WithLabelValues(primary, strategy, status)
}
