package metrics

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthagent/resilience/pkg/dbreaker"
)

// StateReader tells the state a breaker applies on this replica, without a
// store call; *dbreaker.Breaker is one.
type StateReader interface {
	Name() string
	View() dbreaker.View
}

// Sources of a state: the source label of circuit_breaker_state and
// circuit_breaker_transitions_total.
const (
	SourceShared = "shared" // the state every replica shares, through the store
	SourceLocal  = "local"  // this replica's local breaker, while the store is unavailable
)

// SourceOf returns SourceLocal for a local state, else SourceShared.
func SourceOf(local bool) string {
	if local {
		return SourceLocal
	}
	return SourceShared
}

// Causes of a transition: the cause label of
// circuit_breaker_transitions_total.
const (
	// CausePolicy: the breaker's own rules (a trip, the end of an open
	// period, a probe's outcome), counted by the replica that made it
	// only: sum the replicas for the fleet's count.
	CausePolicy = "policy"
	// CauseOperator: an operator's override, counted by every replica
	// that applies it, whoever made it: take the max over the replicas
	// for the fleet's count.
	CauseOperator = "operator"
)

// CauseOf returns CauseOperator for an operator's override, else
// CausePolicy.
func CauseOf(operator bool) string {
	if operator {
		return CauseOperator
	}
	return CausePolicy
}

// storeOps are the op label values of circuit_breaker_store_errors_total.
var storeOps = [...]string{"acquire", "report", "snapshot", "override"}

// Breakers holds the circuit_breaker_* metrics. It is a dbreaker.Observer:
// give it to every breaker with dbreaker.WithObserver, and Track each
// breaker for circuit_breaker_state. Safe for concurrent use.
type Breakers struct {
	transitions *prometheus.CounterVec
	calls       *prometheus.CounterVec
	stale       *prometheus.CounterVec
	storeErrors *prometheus.CounterVec
	degraded    prometheus.GaugeFunc
	state       *stateCollector

	storesMu sync.Mutex
	stores   []DegradedReporter
}

// DegradedReporter is a store that can be unavailable; *dbreaker.RedisStore
// is one.
type DegradedReporter interface {
	Degraded() bool
}

var _ dbreaker.Observer = (*Breakers)(nil)

// NewBreakers creates the circuit_breaker_* metrics and registers them with
// reg. It takes no option yet.
func NewBreakers(reg prometheus.Registerer, opts ...Option) (*Breakers, error) {
	if _, err := resolve("NewBreakers", opts); err != nil {
		return nil, err
	}
	m := newBreakers()
	if err := register(reg, m); err != nil {
		return nil, err
	}
	return m, nil
}

func newBreakers() *Breakers {
	m := &Breakers{
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "circuit_breaker_transitions_total",
			Help: "State transitions of each circuit breaker, by source (shared: in the store; local: this replica's local breaker, while the store is unavailable) and cause: policy (a trip, an open period ending, a probe's outcome; counted only by the replica that made it: sum over replicas) or operator (an override; counted by every replica that applies it: max over replicas).",
		}, []string{"breaker", "from", "to", "source", "cause"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "circuit_breaker_calls_total",
			Help: "Calls through each circuit breaker on this replica, by result (success, failure, ignored, rejected, rejected_probes, store_unavailable).",
		}, []string{"breaker", "result"}),
		stale: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "circuit_breaker_stale_reports_total",
			Help: "Call outcomes the breaker store discarded as stale: the breaker had changed state since the call was admitted.",
		}, []string{"breaker"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "circuit_breaker_store_errors_total",
			Help: "Failed calls to the shared breaker store, by operation (acquire, report, snapshot, override).",
		}, []string{"op"}),

		state: &stateCollector{
			desc: prometheus.NewDesc("circuit_breaker_state",
				"The state each circuit breaker applies on this replica, without a store call: 1 for the current state, 0 for the others; source says whether it is the shared state (as last learned) or the replica's local breaker's (while the store is unavailable).",
				[]string{"breaker", "state", "source"}, nil),
		},
	}
	m.degraded = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "circuit_breaker_store_degraded",
		Help: "1 while a tracked breaker store is unreachable and this replica's breakers decide locally, else 0.",
	}, m.anyStoreDegraded)
	for _, op := range storeOps {
		m.storeErrors.WithLabelValues(op)
	}
	return m
}

func (m *Breakers) anyStoreDegraded() float64 {
	m.storesMu.Lock()
	defer m.storesMu.Unlock()
	for _, s := range m.stores {
		if s.Degraded() {
			return 1
		}
	}
	return 0
}

// Track adds a breaker to circuit_breaker_state and creates its
// circuit_breaker_calls_total and circuit_breaker_stale_reports_total series
// at zero. Tracking a second reader under a name already tracked is an error.
func (m *Breakers) Track(r StateReader) error {
	if r == nil {
		return errors.New("metrics: Track: nil breaker")
	}
	name := r.Name()
	if name == "" {
		return errors.New("metrics: Track: breaker with an empty name")
	}
	if err := m.state.add(name, r); err != nil {
		return err
	}
	for _, res := range dbreaker.CallResults() {
		m.calls.WithLabelValues(name, res.String())
	}
	m.stale.WithLabelValues(name)
	return nil
}

// TrackStore adds a store to circuit_breaker_store_degraded, read at scrape
// time: 1 while any tracked store is degraded.
func (m *Breakers) TrackStore(s DegradedReporter) error {
	if s == nil {
		return errors.New("metrics: TrackStore: nil store")
	}
	m.storesMu.Lock()
	defer m.storesMu.Unlock()
	m.stores = append(m.stores, s)
	return nil
}

// OnCall implements dbreaker.Observer: circuit_breaker_calls_total.
func (m *Breakers) OnCall(breaker string, result dbreaker.CallResult) {
	m.calls.WithLabelValues(breaker, result.String()).Inc()
}

// OnTransition implements dbreaker.Observer:
// circuit_breaker_transitions_total.
func (m *Breakers) OnTransition(t dbreaker.Transition) {
	m.transitions.WithLabelValues(t.Breaker, t.From.String(), t.To.String(), SourceOf(t.Local), CauseOf(t.Operator)).Inc()
}

// OnStale implements dbreaker.Observer: circuit_breaker_stale_reports_total.
func (m *Breakers) OnStale(breaker string, n int) {
	if n > 0 {
		m.stale.WithLabelValues(breaker).Add(float64(n))
	}
}

// OnStoreError implements dbreaker.Observer:
// circuit_breaker_store_errors_total.
func (m *Breakers) OnStoreError(_, op string, _ error) {
	m.storeErrors.WithLabelValues(op).Inc()
}

// Describe implements prometheus.Collector.
func (m *Breakers) Describe(ch chan<- *prometheus.Desc) { m.all().Describe(ch) }

// Collect implements prometheus.Collector. It reads the state of every
// tracked breaker from the breaker's view: a scrape never calls the store.
func (m *Breakers) Collect(ch chan<- prometheus.Metric) { m.all().Collect(ch) }

func (m *Breakers) all() group {
	return group{m.transitions, m.calls, m.stale, m.storeErrors, m.degraded, m.state}
}

// stateCollector exports circuit_breaker_state from the view of each
// tracked breaker.
type stateCollector struct {
	desc    *prometheus.Desc
	mu      sync.Mutex
	readers []StateReader
}

func (c *stateCollector) add(name string, r StateReader) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range c.readers {
		if x.Name() == name {
			return fmt.Errorf("metrics: Track: breaker %q is already tracked", name)
		}
	}
	c.readers = append(c.readers, r)
	return nil
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect exports the state each breaker applies; a breaker that has
// learned nothing yet has no series rather than a guess.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	readers := slices.Clone(c.readers)
	c.mu.Unlock()
	for _, r := range readers {
		v := r.View()
		if !v.Known {
			continue
		}
		for _, s := range dbreaker.States() {
			val := 0.0
			if s == v.State {
				val = 1
			}
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, val, r.Name(), s.String(), SourceOf(v.Local))
		}
	}
}

// The series accessors below return one series as a prometheus.Collector,
// for tests and checks (testutil.ToFloat64). Like WithLabelValues, they
// create the series at zero when it does not exist yet.

// CallsCounter returns circuit_breaker_calls_total{breaker,result}.
func (m *Breakers) CallsCounter(breaker, result string) prometheus.Collector {
	return m.calls.WithLabelValues(breaker, result)
}

// TransitionsCounter returns
// circuit_breaker_transitions_total{breaker,from,to,source,cause}.
func (m *Breakers) TransitionsCounter(breaker, from, to, source, cause string) prometheus.Collector {
	return m.transitions.WithLabelValues(breaker, from, to, source, cause)
}

// StaleReportsCounter returns circuit_breaker_stale_reports_total{breaker}.
func (m *Breakers) StaleReportsCounter(breaker string) prometheus.Collector {
	return m.stale.WithLabelValues(breaker)
}

// StoreErrorsCounter returns circuit_breaker_store_errors_total{op}.
func (m *Breakers) StoreErrorsCounter(op string) prometheus.Collector {
	return m.storeErrors.WithLabelValues(op)
}

// StoreDegradedGauge returns circuit_breaker_store_degraded.
func (m *Breakers) StoreDegradedGauge() prometheus.Collector { return m.degraded }
