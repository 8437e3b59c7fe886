package dbreaker

// CallResult is what became of one call, as an Observer sees it.
type CallResult uint8

const (
	// ResultSuccess: admitted, and the call succeeded.
	ResultSuccess CallResult = iota
	// ResultFailure: admitted, and the call failed.
	ResultFailure
	// ResultIgnored: admitted; the classifier ignored the outcome.
	ResultIgnored
	// ResultRejected: refused because the breaker is open (or forced open).
	ResultRejected
	// ResultRejectedProbes: refused because every half-open probe slot is taken.
	ResultRejectedProbes
	// ResultStoreUnavailable: refused because the store failed and the
	// breaker fails closed.
	ResultStoreUnavailable
)

var callResultNames = [...]string{"success", "failure", "ignored", "rejected", "rejected_probes", "store_unavailable"}

// String returns the name used as a metric label.
func (r CallResult) String() string {
	if int(r) < len(callResultNames) {
		return callResultNames[r]
	}
	return "result(?)"
}

// CallResults lists every result, for callers that pre-create label values.
func CallResults() []CallResult {
	return []CallResult{ResultSuccess, ResultFailure, ResultIgnored, ResultRejected, ResultRejectedProbes, ResultStoreUnavailable}
}

// Observer is told what a breaker does. Its methods run on the caller's
// goroutine, outside every lock, and must be quick and safe for concurrent
// use. Metrics and tests implement it.
type Observer interface {
	// OnCall is called once per call: when it is rejected, or when its
	// outcome is reported.
	OnCall(breaker string, result CallResult)
	// OnTransition is called once for every transition this replica
	// committed (its calls' reports, its probes, its local breaker's), and
	// once on every replica for an operator's override, whoever made it
	// (Transition.Operator). A transition another replica committed is
	// that replica's to report.
	OnTransition(t Transition)
	// OnStale is called with the number of this replica's reports the store
	// discarded as stale.
	OnStale(breaker string, n int)
	// OnStoreError is called when a store call fails; op is acquire, report,
	// snapshot or override.
	OnStoreError(breaker, op string, err error)
}

// NopObserver ignores everything; embed it to implement part of Observer.
type NopObserver struct{}

func (NopObserver) OnCall(string, CallResult)          {}
func (NopObserver) OnTransition(Transition)            {}
func (NopObserver) OnStale(string, int)                {}
func (NopObserver) OnStoreError(string, string, error) {}

// observers fans out to several observers.
type observers []Observer

func (o observers) OnCall(b string, r CallResult) {
	for _, x := range o {
		x.OnCall(b, r)
	}
}

func (o observers) OnTransition(t Transition) {
	for _, x := range o {
		x.OnTransition(t)
	}
}

func (o observers) OnStale(b string, n int) {
	for _, x := range o {
		x.OnStale(b, n)
	}
}

func (o observers) OnStoreError(b, op string, err error) {
	for _, x := range o {
		x.OnStoreError(b, op, err)
	}
}
