// Package clock is the one source of time of the module: every package that
// reads the time or waits takes a Clock (through its WithClock option), so
// that tests inject a fake one and never sleep.
//
// Usage:
//
//	b, _ := dbreaker.New("openai", store, dbreaker.Config{}, dbreaker.WithClock(clock.Real()))
//
// Real is the clock of package time. Tests use the manual clock of
// internal/clocktest, whose timers fire when the test moves its time.
package clock

import "time"

// Clock tells the time and makes timers.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that fires once, after d.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer made by a Clock.
type Timer interface {
	// C delivers the time when the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether the call
	// stopped the timer, as time.Timer.Stop does.
	Stop() bool
}

// Real returns the clock of package time (monotonic readings included).
func Real() Clock { return real{} }

type real struct{}

func (real) Now() time.Time                 { return time.Now() }
func (real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }
