package dbreaker

import (
	"errors"
	"fmt"
	"time"
)

// The sentinels of a rejection. Every call a Breaker refuses returns a
// *RejectedError with one reason, which it matches with errors.Is:
// ErrOpen, ErrForcedOpen, ErrTooManyProbes, or ErrStoreUnavailable when the
// store cannot be reached and the breaker fails closed. A rejection
// matches no other sentinel, but for one: a forced-open rejection matches
// ErrOpen as well as ErrForcedOpen, because a breaker forced open is open.
//
// A rejected call never reached the upstream: the sentinels and
// *RejectedError have a Rejected method that returns true, by which
// package retry (and any caller) tells a rejection from a failure without
// importing this package.
var (
	// ErrOpen is returned when the breaker is open: no call is made until a
	// probe may be tried.
	ErrOpen error = &rejection{"dbreaker: breaker is open"}
	// ErrForcedOpen is returned when an operator forced the breaker open for
	// every replica.
	ErrForcedOpen error = &rejection{"dbreaker: breaker is forced open"}
	// ErrTooManyProbes is returned when the breaker is half-open and every
	// probe slot in the cluster is taken.
	ErrTooManyProbes error = &rejection{"dbreaker: too many half-open probes"}
	// ErrStoreUnavailable is returned when the shared store cannot be
	// reached and the breaker fails closed (OnStoreFailure FailClosed). A
	// store call that fails wraps it too.
	ErrStoreUnavailable error = &rejection{"dbreaker: store unavailable"}
)

// rejection is the type of the sentinels of a rejection.
type rejection struct{ msg string }

func (e *rejection) Error() string { return e.msg }

// Rejected reports that the call was refused before it started.
func (e *rejection) Rejected() bool { return true }

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

// Rejected reports that the call was refused before it started: it never
// reached the upstream and must not be retried.
func (e *RejectedError) Rejected() bool { return true }

// IsRejected reports whether err says a breaker refused the call, for any
// reason (it matches one of the four sentinels): such a call never reached
// the upstream and must not be retried.
func IsRejected(err error) bool {
	return errors.Is(err, ErrOpen) || errors.Is(err, ErrForcedOpen) || errors.Is(err, ErrTooManyProbes) || errors.Is(err, ErrStoreUnavailable)
}
