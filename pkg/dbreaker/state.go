package dbreaker

import "fmt"

// State is the effective state of a breaker, as every replica sees it.
type State uint8

const (
	// Closed: calls flow and outcomes are counted.
	Closed State = iota
	// Open: calls are rejected until the open timeout passes.
	Open
	// HalfOpen: a limited number of probes, cluster-wide, test the upstream.
	HalfOpen
	// ForcedOpen: an operator override; every call is rejected.
	ForcedOpen
	// ForcedClosed: an operator override; every call is admitted, outcomes are
	// still counted, but the breaker never trips.
	ForcedClosed
	// Disabled: an operator override; pass-through, nothing is recorded in the
	// store (local metrics only).
	Disabled
)

var stateNames = [...]string{"closed", "open", "half_open", "forced_open", "forced_closed", "disabled"}

// String returns the name used in Redis, events, logs and metric labels.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// ParseState is the inverse of String.
func ParseState(name string) (State, error) {
	for i, n := range stateNames {
		if n == name {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("dbreaker: unknown state %q", name)
}

// States lists every state, in order, for callers that export one series per
// state.
func States() []State {
	return []State{Closed, Open, HalfOpen, ForcedOpen, ForcedClosed, Disabled}
}
