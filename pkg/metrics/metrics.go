package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is every collector of the package, created and registered
// together.
type Metrics struct {
	Breakers  *Breakers  // circuit_breaker_*: a dbreaker.Observer
	APIs      *APIs      // api_*: a chain.Recorder
	Fallbacks *Fallbacks // fallback_executions_total: a chain.Observer
}

// New creates every metric of the package and registers them with reg. If
// one cannot be registered, none stays registered.
func New(reg prometheus.Registerer, opts ...Option) (*Metrics, error) {
	o, err := resolve(opts)
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
		return errors.New("metrics: nil Registerer (use prometheus.NewRegistry())")
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
