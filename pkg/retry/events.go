package retry

import (
	"context"
	"time"
)

// Observer is told about a Policy's retries and stops (WithObserver). Its
// methods run on the caller's goroutine and must be quick and safe for
// concurrent use. Package metrics counts retries with one (through
// chain.Guard); embed NopObserver to implement part of it.
type Observer interface {
	// OnRetry is called before each wait for a retry.
	OnRetry(ctx context.Context, e RetryEvent)
	// OnStop is called once when Execute returns, successful or not.
	OnStop(ctx context.Context, e StopEvent)
}

// NopObserver ignores everything; embed it to implement part of Observer.
type NopObserver struct{}

func (NopObserver) OnRetry(context.Context, RetryEvent) {}
func (NopObserver) OnStop(context.Context, StopEvent)   {}

// RetryEvent describes a retry about to happen; an Observer's OnRetry
// receives it before the wait.
type RetryEvent struct {
	// Name is the Policy's name.
	Name string
	// Attempt is the number of the attempt that failed, from 1; the next
	// attempt is Attempt+1.
	Attempt int
	// Delay is the wait before the next attempt.
	Delay time.Duration
	// FromRetryAfter is true when Delay is the server's Retry-After hint
	// (capped at MaxDelay) rather than the computed backoff.
	FromRetryAfter bool
	// Err is the error of the failed attempt.
	Err error
}

// StopEvent describes the end of an Execute call; an Observer's OnStop
// receives it.
type StopEvent struct {
	// Name is the Policy's name.
	Name string
	// Attempts is the number of calls made, the first one included.
	Attempts int
	// Reason says why Execute stopped.
	Reason StopReason
	// Err is what Execute returns: nil on success.
	Err error
}
