package dbreaker

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Every rejection returned by a Breaker is a *RejectedError
// that matches exactly one of ErrOpen, ErrForcedOpen or ErrTooManyProbes with
// errors.Is; an ErrForcedOpen rejection also matches ErrOpen, because a breaker
// forced open is open.
var (
	// ErrOpen: the breaker is open; no call is made until a probe may be tried.
	ErrOpen = errors.New("dbreaker: breaker is open")
	// ErrForcedOpen: an operator forced the breaker open for every replica.
	ErrForcedOpen = errors.New("dbreaker: breaker is forced open")
	// ErrTooManyProbes: the breaker is half-open and every probe slot in the
	// cluster is taken.
	ErrTooManyProbes = errors.New("dbreaker: too many half-open probes")
	// ErrStoreUnavailable: the shared store could not be reached and the
	// breaker is configured to fail closed.
	ErrStoreUnavailable = errors.New("dbreaker: store unavailable")
)

// RejectedError is returned when a breaker refuses a call. RetryAfter says how
// long until a probe may be tried (zero when unknown, as for a forced open
// breaker or busy probe slots).
type RejectedError struct {
	Breaker    string
	State      State
	RetryAfter time.Duration
	reason     error
}

func (e *RejectedError) Error() string {
	reason := ErrOpen
	if e.reason != nil {
		reason = e.reason
	}
	msg := fmt.Sprintf("%s: breaker %q rejected the call (state %s)", reason.Error(), e.Breaker, e.State)
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf("; a probe may be tried in %s", e.RetryAfter.Round(time.Millisecond))
	}
	return msg
}

// Unwrap returns the sentinel that says why the call was rejected.
func (e *RejectedError) Unwrap() error { return e.reason }

// Is makes a forced-open rejection match ErrOpen as well as ErrForcedOpen.
func (e *RejectedError) Is(target error) bool {
	return target == ErrOpen && e.reason == ErrForcedOpen
}

// IsRejected reports whether err says a breaker refused the call, for any
// reason: such a call never reached the upstream and must not be retried.
func IsRejected(err error) bool {
	return errors.Is(err, ErrOpen) || errors.Is(err, ErrForcedOpen) || errors.Is(err, ErrTooManyProbes) || errors.Is(err, ErrStoreUnavailable)
}

// ConfigError names the configuration field that is invalid and why.
type ConfigError struct {
	Field  string
	Value  any
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("dbreaker: invalid %s = %v: %s", e.Field, e.Value, e.Reason)
}
