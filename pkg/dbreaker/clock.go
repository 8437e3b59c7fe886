package dbreaker

import "time"

// Clock tells the time. The breaker reads it to time calls and to hold a
// known-open state locally; MemoryStore runs its state machine on it. Inject
// a fake one in tests.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// SystemClock is the real clock (monotonic readings included).
func SystemClock() Clock { return systemClock{} }
