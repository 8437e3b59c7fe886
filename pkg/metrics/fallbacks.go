package metrics

import (
	"context"
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthagent/resilience/pkg/chain"
)

// Fallbacks holds fallback_executions_total. It is a chain.Observer of
// chains: give it to every chain with chain.WithObserver, and Track every
// chain so that its series exist from the start. Safe for concurrent use.
type Fallbacks struct {
	chain.NopObserver

	executions *prometheus.CounterVec
}

var _ chain.Observer = (*Fallbacks)(nil)

// NewFallbacks creates fallback_executions_total and registers it with
// reg. It takes no option yet.
func NewFallbacks(reg prometheus.Registerer, opts ...Option) (*Fallbacks, error) {
	if _, err := resolve("NewFallbacks", opts); err != nil {
		return nil, err
	}
	m := newFallbacks()
	if err := register(reg, m); err != nil {
		return nil, err
	}
	return m, nil
}

func newFallbacks() *Fallbacks {
	return &Fallbacks{executions: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fallback_executions_total",
		Help: "Fallback steps run because a step before them failed (not one that only found nothing), by the chain's primary step, the fallback step, and status: success (the step served the answer: one per answer), failure (it failed too) or not_found (it had nothing for the request).",
	}, []string{"primary_api", "fallback_strategy", "status"})}
}

// Track creates the series of one chain at zero: its primary step, and
// every fallback step with each status. A series that
// exists before its first increment lets rate() and increase() see that
// increment.
func (m *Fallbacks) Track(primary string, fallbacks ...string) error {
	if primary == "" || slices.Contains(fallbacks, "") {
		return fmt.Errorf("metrics: Fallbacks.Track(%q, %q): empty step name", primary, fallbacks)
	}
	for _, step := range fallbacks {
		for _, status := range fallbackStatuses {
			m.executions.WithLabelValues(primary, step, status)
		}
	}
	return nil
}

// The status label values of fallback_executions_total.
const (
	FallbackSuccess  = "success"   // the fallback step served the answer
	FallbackFailure  = "failure"   // it failed too
	FallbackNotFound = "not_found" // it had nothing for the request (chain.WithNotFound)
)

var fallbackStatuses = [...]string{FallbackSuccess, FallbackFailure, FallbackNotFound}

// OnStep implements chain.Observer: every step that ran as a fallback (a
// step before it in the run failed, see chain.StepEvent.Fallback) counts
// once, with status success, failure or not_found. A step that ran only
// because the steps before it found nothing is no fallback.
func (m *Fallbacks) OnStep(_ context.Context, e chain.StepEvent) {
	if !e.Fallback() {
		return
	}
	status := FallbackSuccess
	switch {
	case e.Err != nil && e.NotFound:
		status = FallbackNotFound
	case e.Err != nil:
		status = FallbackFailure
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
