package chain

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/healthagent/resilience/pkg/redact"
	"github.com/healthagent/resilience/pkg/retry"
)

// Sentinel errors matched by an *Error with errors.Is, by its Reason. An
// *Error whose Reason is ReasonDeadline or ReasonCanceled matches the
// context's error instead (context.DeadlineExceeded, context.Canceled).
var (
	// ErrAllFailed is what an *Error matches when every step ran and
	// failed.
	ErrAllFailed = errors.New("chain: every step failed")
	// ErrFinal is what an *Error matches when a step failed with an error
	// the WithStopOn predicate marks final, and the steps after it were not
	// tried.
	ErrFinal = errors.New("chain: stopped on a final error")
)

// StopReason says why a chain returned without an answer. Its String form is
// meant for logs and metric labels.
type StopReason uint8

const (
	// ReasonAllFailed means every step ran and failed (ErrAllFailed).
	ReasonAllFailed StopReason = iota
	// ReasonFinal means a step failed with a final error (ErrFinal).
	ReasonFinal
	// ReasonDeadline means the chain's timeout or the caller's deadline
	// passed (context.DeadlineExceeded); the steps not started then were
	// not tried.
	ReasonDeadline
	// ReasonCanceled means the caller cancelled its context
	// (context.Canceled).
	ReasonCanceled
)

var reasonNames = [...]string{"all_failed", "final_error", "deadline", "canceled"}

// String returns "all_failed", "final_error", "deadline" or "canceled".
func (r StopReason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// StepError is the failure of one step.
type StepError struct {
	// Step is the step's name, Index its position in the chain.
	Step  string
	Index int
	// Err is what the step returned.
	Err error
}

// Error returns "step: error", with the query string and user info of every
// URL in the error's text removed.
func (e *StepError) Error() string {
	return e.Step + ": " + redact.ErrorText(e.Err.Error())
}

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// Error is returned by Chain.Execute when no step served. It names every
// step that failed and unwraps to their *StepError values (and so to what
// each step returned), so errors.Is and errors.As work through it.
type Error struct {
	// Chain is the chain's name.
	Chain string
	// Reason says why the chain stopped.
	Reason StopReason
	// Failures are the steps that ran and failed, in order.
	Failures []*StepError
	// NotTried names the steps never started (deadline passed, final error,
	// caller cancelled).
	NotTried []string
	// Interrupted names the step that was running when the caller cancelled
	// (ReasonCanceled only); it is not among the Failures.
	Interrupted string

	ctxErr error // the context's error, for ReasonDeadline and ReasonCanceled
}

// Error returns, for example,
//
//	chain: every step of "text" failed: anthropic: …; openai: …
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("chain: ")
	switch e.Reason {
	case ReasonAllFailed:
		fmt.Fprintf(&b, "every step of %q failed", e.Chain)
	case ReasonFinal:
		step := ""
		if n := len(e.Failures); n > 0 {
			step = e.Failures[n-1].Step
		}
		fmt.Fprintf(&b, "%q stopped on a final error from step %q", e.Chain, step)
	case ReasonDeadline:
		fmt.Fprintf(&b, "%q ran out of time", e.Chain)
	case ReasonCanceled:
		fmt.Fprintf(&b, "%q canceled by the caller", e.Chain)
		if e.Interrupted != "" {
			fmt.Fprintf(&b, " during step %q", e.Interrupted)
		}
	default:
		fmt.Fprintf(&b, "%q stopped (%s)", e.Chain, e.Reason)
	}
	if len(e.NotTried) > 0 {
		b.WriteString(" (not tried: ")
		b.WriteString(strings.Join(e.NotTried, ", "))
		b.WriteString(")")
	}
	b.WriteString(": ")
	switch {
	case len(e.Failures) > 0:
		for i, f := range e.Failures {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(f.Error())
		}
	case e.ctxErr != nil:
		b.WriteString(e.ctxErr.Error())
	default:
		b.WriteString("no step ran")
	}
	return b.String()
}

// Unwrap returns every step's *StepError and, for ReasonDeadline and
// ReasonCanceled, the context's error.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, len(e.Failures)+1)
	for _, f := range e.Failures {
		errs = append(errs, f)
	}
	if e.ctxErr != nil {
		errs = append(errs, e.ctxErr)
	}
	return errs
}

// Is matches ErrAllFailed or ErrFinal by the stop reason.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrAllFailed:
		return e.Reason == ReasonAllFailed
	case ErrFinal:
		return e.Reason == ReasonFinal
	}
	return false
}

// stepTimeoutError says that a step ran out of its own Timeout.
type stepTimeoutError struct {
	timeout time.Duration
	err     error
}

func (e *stepTimeoutError) Error() string {
	return "step timed out after " + e.timeout.String() + ": " + e.err.Error()
}

func (e *stepTimeoutError) Unwrap() error { return e.err }

// IsBadRequest reports whether err carries HTTP status 400 or 422 (found
// with errors.As as a retry.StatusCoder): the request itself is malformed.
// Give it to WithStopOn for a chain whose steps all send the same request,
// so that a request every step would refuse is not sent to each in turn.
// Statuses that concern one provider only, such as 401, 403, 404 or 429,
// are not final.
func IsBadRequest(err error) bool {
	var sc retry.StatusCoder
	if !errors.As(err, &sc) {
		return false
	}
	code := sc.StatusCode()
	return code == http.StatusBadRequest || code == http.StatusUnprocessableEntity
}
