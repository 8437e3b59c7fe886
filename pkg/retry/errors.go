package retry

import (
	"errors"
	"fmt"
	"time"
)

// The sentinels of a give-up. Execute and Do return them inside a
// *GiveUpError, which also unwraps to the error of the last attempt, so
// both errors.Is(err, retry.ErrExhausted) and
// errors.Is(err, io.ErrUnexpectedEOF) work on the same value.
var (
	// ErrExhausted is returned when every attempt the policy allows failed
	// with a retryable error.
	ErrExhausted = errors.New("retry: attempts exhausted")
	// ErrBudgetExhausted is returned when the upstream's retry Budget had no
	// token left for another retry.
	ErrBudgetExhausted = errors.New("retry: retry budget exhausted")
	// ErrDeadline is returned when waiting for the next attempt would end
	// after the context deadline: Execute returns at once instead of
	// sleeping in vain.
	ErrDeadline = errors.New("retry: next attempt would pass the context deadline")
	// ErrBlocked is returned when a check given with WithBeforeWait said the
	// next attempt could not run (its circuit breaker would still be open):
	// Execute does not wait for it.
	ErrBlocked = errors.New("retry: next attempt would be rejected")
)

// StopReason says why Execute stopped calling. Its String form is meant for logs
// and metric labels.
type StopReason uint8

const (
	// StopSuccess: the last attempt succeeded.
	StopSuccess StopReason = iota
	// StopNotRetryable: the last error was not retryable: a Permanent error, a
	// rejection, or an error Config.Retryable refused.
	StopNotRetryable
	// StopExhausted: the last allowed attempt failed (ErrExhausted).
	StopExhausted
	// StopBudgetExhausted: the retry budget was empty (ErrBudgetExhausted).
	StopBudgetExhausted
	// StopDeadline: the next delay would pass the context deadline (ErrDeadline).
	StopDeadline
	// StopContextDone: the caller's context was cancelled or its deadline
	// passed, after an attempt or during a wait.
	StopContextDone
	// StopBlocked: the next attempt would be rejected, as a check given with
	// WithBeforeWait said (ErrBlocked).
	StopBlocked
)

var stopReasonNames = [...]string{"success", "not_retryable", "exhausted", "budget_exhausted", "deadline", "context_done", "blocked"}

// String returns a snake_case name such as "budget_exhausted".
func (r StopReason) String() string {
	if int(r) < len(stopReasonNames) {
		return stopReasonNames[r]
	}
	return fmt.Sprintf("stop_reason(%d)", uint8(r))
}

// GiveUpError is returned when Execute stops although the last error was
// retryable: attempts exhausted, budget empty, deadline too close, the next
// attempt blocked, or the caller's context done. It matches the sentinel of
// its Reason with errors.Is (ErrExhausted, ErrBudgetExhausted, ErrDeadline,
// ErrBlocked, or the context's own error for StopContextDone) and unwraps to
// the last attempt's error.
type GiveUpError struct {
	// Attempts is the number of calls made, the first one included.
	Attempts int
	// Reason says why no further attempt was made.
	Reason StopReason
	// Delay is the wait that was refused, for StopDeadline and StopBlocked.
	Delay time.Duration
	// Err is the error of the last attempt.
	Err error
	// ctxErr is the context's error, for StopContextDone.
	ctxErr error
	// blocked is the WithBeforeWait check's error, for StopBlocked.
	blocked error
}

func (e *GiveUpError) Error() string {
	what := "attempts"
	if e.Attempts == 1 {
		what = "attempt"
	}
	switch e.Reason {
	case StopBudgetExhausted:
		return fmt.Sprintf("retry: retry budget exhausted after %d %s: %v", e.Attempts, what, e.Err)
	case StopDeadline:
		return fmt.Sprintf("retry: gave up after %d %s: next delay %s would pass the context deadline: %v",
			e.Attempts, what, e.Delay, e.Err)
	case StopContextDone:
		return fmt.Sprintf("retry: gave up after %d %s: %v: %v", e.Attempts, what, e.ctxErr, e.Err)
	case StopBlocked:
		return fmt.Sprintf("retry: gave up after %d %s without waiting %s: %v: %v", e.Attempts, what, e.Delay, e.blocked, e.Err)
	default:
		return fmt.Sprintf("retry: gave up after %d %s: %v", e.Attempts, what, e.Err)
	}
}

// Unwrap returns the last attempt's error and, for StopContextDone, the
// context's error, for StopBlocked, the WithBeforeWait check's.
func (e *GiveUpError) Unwrap() []error {
	switch {
	case e.ctxErr != nil:
		return []error{e.Err, e.ctxErr}
	case e.blocked != nil:
		return []error{e.Err, e.blocked}
	}
	return []error{e.Err}
}

// Is matches the sentinel of the stop reason.
func (e *GiveUpError) Is(target error) bool {
	switch e.Reason {
	case StopExhausted:
		return target == ErrExhausted
	case StopBudgetExhausted:
		return target == ErrBudgetExhausted
	case StopDeadline:
		return target == ErrDeadline
	case StopBlocked:
		return target == ErrBlocked
	}
	return false
}
