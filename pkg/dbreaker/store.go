package dbreaker

import (
	"context"
	"time"
)

// Store holds the shared state of breakers and changes it atomically. Every
// method takes the breaker's validated name; the store decides with its own
// clock (Redis' TIME for RedisStore), never with the caller's.
type Store interface {
	// Acquire asks to admit one call. token identifies the call if it becomes
	// a half-open probe; it must be unique among the store's callers.
	Acquire(ctx context.Context, name string, p Policy, token string) (Decision, error)
	// Report records outcomes, in order. Reports carrying another incarnation
	// or an older generation than the breaker's change nothing and are
	// counted as stale.
	Report(ctx context.Context, name string, p Policy, reports []Report) (ReportResult, error)
	// Snapshot reads the shared state without changing it.
	Snapshot(ctx context.Context, name string, p Policy) (Snapshot, error)
	// Override applies an operator action that every replica obeys.
	Override(ctx context.Context, name string, action Action) (Snapshot, []Transition, error)
}

// Action is an operator override.
type Action uint8

const (
	// ActionReset clears every counter, lease and override: closed, as new.
	ActionReset Action = iota
	// ActionForceOpen rejects every call until reset.
	ActionForceOpen
	// ActionForceClosed admits every call and never trips until reset.
	ActionForceClosed
	// ActionDisable makes the breaker pass-through until reset.
	ActionDisable
)

var actionNames = [...]string{"reset", "forced_open", "forced_closed", "disabled"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(?)"
}

// Report is the outcome of one admitted call (or, for Count > 1, of several
// successful closed-state calls folded together).
type Report struct {
	Incarnation string  // the incarnation the permit was granted in
	Generation  int64   // the generation the permit was granted in
	Token       string  // the probe token; empty unless the call was a probe
	Outcome     Outcome // success, failure or ignored
	Slow        bool    // the call took at least SlowCallDuration
	Count       int     // how many calls this report stands for (0 means 1)
	Error       string  // the failure's text, kept as last_error
}

// Decision is the store's answer to Acquire.
type Decision struct {
	Allowed bool
	// Probe: the call holds a half-open probe slot and must report.
	Probe bool
	// Reason is nil when allowed, else ErrOpen, ErrForcedOpen or
	// ErrTooManyProbes.
	Reason error
	// Snapshot holds the part of the state the store read to decide: State,
	// Underlying, Incarnation, Generation, Failures, Successes, OpenUntil,
	// Corrupt, and StoreTime when the store needed its clock (always for an
	// open breaker). Store.Snapshot reads the rest.
	Snapshot    Snapshot
	Transitions []Transition
}

// ReportResult is the store's answer to Report.
type ReportResult struct {
	Applied int // reports that counted
	Stale   int // reports from an older generation (or a lapsed probe lease)
	// Snapshot holds the same part of the state as Decision.Snapshot.
	Snapshot    Snapshot
	Transitions []Transition
}

// Transition is one change of a breaker's effective state, as published on
// the events channel.
type Transition struct {
	Breaker     string
	From, To    State
	Incarnation string
	Generation  int64
	OpenUntil   time.Time
	// Local: the transition was made by this replica's local breaker while
	// the store was unavailable; no other replica knows of it.
	Local bool
	// Operator: an operator's override (ForceOpen, ForceClosed, Disable,
	// Reset), which every replica applies: each replica's observers hear
	// of it once, whether this replica made it or learned it from the
	// store. The breaker's own transitions (a trip, the end of an open
	// period, a probe's outcome) reach the observers of the replica that
	// made them only.
	Operator bool
}

// WindowCounts are the sliding-window totals.
type WindowCounts struct {
	Calls, Failures, Slow int64
}

// Snapshot is a breaker's shared state at one instant of the store's clock.
type Snapshot struct {
	Name string
	// State is the effective state: what happens to the next call.
	State State
	// Underlying is the state machine's own state (closed, open or half-open)
	// beneath an operator override; equal to State when none is set.
	Underlying State
	// Incarnation identifies this life of the state: it is chosen when the
	// state is first written and changes when the state is lost and written
	// anew (a flushed, evicted or failed-over Redis). Empty while nothing
	// was ever written: a closed breaker at generation 0. Generations
	// compare only within one incarnation.
	Incarnation string
	Generation  int64
	Failures    int64 // consecutive failures
	Successes   int64 // successful probes in this half-open period
	Trips       int64 // trips since the breaker was last closed
	OpenedAt    time.Time
	OpenUntil   time.Time
	LastError   string
	UpdatedAt   time.Time
	// StoreTime is the store's clock when the snapshot was taken.
	StoreTime time.Time
	// Corrupt: the stored state was unreadable and is treated as closed until
	// the next write repairs it.
	Corrupt bool
	// Window and Probes are filled by Store.Snapshot only.
	Window WindowCounts
	Probes int64
	// Local: the state of this replica's local breaker, which decides while
	// the store is unavailable (Breaker.State only).
	Local bool
}

// RetryAfter is how long until a probe may be tried, by the store's clock
// (zero when not open or when the store's time is unknown).
func (s Snapshot) RetryAfter() time.Duration {
	if s.State != Open || s.OpenUntil.IsZero() || s.StoreTime.IsZero() {
		return 0
	}
	return max(s.OpenUntil.Sub(s.StoreTime), 0)
}
