package retry

import "time"

// RetryEvent describes a retry about to happen; Policy.OnRetry receives it
// before the wait.
type RetryEvent struct {
	// Name is Policy.Name.
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

// StopEvent describes the end of a Do call; Policy.OnStop receives it.
type StopEvent struct {
	// Name is Policy.Name.
	Name string
	// Attempts is the number of calls made, the first one included.
	Attempts int
	// Reason says why Do stopped.
	Reason StopReason
	// Err is what Do returns: nil on success.
	Err error
}
