package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is every collector of the package, created and registered
// together.
type Metrics struct {
	Breakers  *Breakers  // circuit_breaker_*: a dbreaker.Observer
	APIs      *APIs      // api_*: a chain.Observer of Guards
	Fallbacks *Fallbacks // fallback_executions_total: a chain.Observer of chains
}

// New creates every metric of the package and registers them with reg. If
// one cannot be registered, none stays registered. It takes
// WithDurationBuckets.
func New(reg prometheus.Registerer, opts ...Option) (*Metrics, error) {
	o, err := resolve("New", opts, "WithDurationBuckets")
	if err != nil {
		return nil, err
	}
	m := &Metrics{Breakers: newBreakers(), APIs: newAPIs(o), Fallbacks: newFallbacks()}
	if err := register(reg, m.Breakers, m.APIs, m.Fallbacks); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers every collector with reg, or none of them.
func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return invalid("Registerer", nil, "nil Registerer (use prometheus.NewRegistry())")
	}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return fmt.Errorf("metrics: register: %w", err)
		}
	}
	return nil
}

// group is collectors described and collected together.
type group []prometheus.Collector

func (g group) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range g {
		c.Describe(ch)
	}
}

func (g group) Collect(ch chan<- prometheus.Metric) {
	for _, c := range g {
		c.Collect(ch)
	}
}
