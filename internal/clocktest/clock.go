// Package clocktest provides the fake clock of the module's tests: a
// clock.Clock whose time moves only when the test says so, and whose timers
// fire when that time passes them.
//
//	c := clocktest.New(time.Unix(1_700_000_000, 0))
//	b, _ := dbreaker.New("usda", store, cfg, dbreaker.WithClock(c))
//	c.Advance(cfg.OpenTimeout) // the open timeout passes; no test sleeps
//
// A clock made with NewAuto fires each timer as it is made, moving its time
// forward by the timer's duration, so that code which waits (a retry's
// backoff) runs through its waits at once; Waits tells how long each was.
package clocktest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
)

// Clock is a manual clock, safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	pending []*timer
	waits   []time.Duration // the duration of every timer made
	awaited int             // timers AwaitTimer has returned
	made    chan struct{}   // closed and replaced when a timer is made
}

// New returns a clock reading start whose timers fire when Advance passes
// them.
func New(start time.Time) *Clock {
	return &Clock{now: start, made: make(chan struct{})}
}

// NewAuto returns a clock reading start whose timers fire as soon as they
// are made, each moving the clock forward by its duration.
func NewAuto(start time.Time) *Clock {
	c := New(start)
	c.auto = true
	return c
}

var _ clock.Clock = (*Clock)(nil)

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires once the clock reaches now + d (at
// once, for a clock made with NewAuto).
func (c *Clock) NewTimer(d time.Duration) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{clock: c, c: make(chan time.Time, 1), at: c.now.Add(d)}
	c.waits = append(c.waits, d)
	if c.auto {
		c.now = t.at
		t.fire(c.now)
	} else {
		c.pending = append(c.pending, t)
	}
	close(c.made)
	c.made = make(chan struct{})
	return t
}

// Advance moves the clock forward by d and fires the timers that are due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.pending[:0]
	for _, t := range c.pending {
		switch {
		case t.done:
		case !t.at.After(c.now):
			t.fire(c.now)
		default:
			kept = append(kept, t)
		}
	}
	c.pending = kept
}

// Waits returns the duration of every timer made, in order.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

// Pending returns how many timers are waiting to fire: made, neither fired
// nor stopped.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.pending {
		if !t.done {
			n++
		}
	}
	return n
}

// AwaitTimer blocks until the code under test has made one more timer than
// AwaitTimer has returned so far, and returns that timer's duration. It
// fails the test when none comes within a generous deadline.
func (c *Clock) AwaitTimer(t testing.TB) time.Duration {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		if c.awaited < len(c.waits) {
			d := c.waits[c.awaited]
			c.awaited++
			c.mu.Unlock()
			return d
		}
		made := c.made
		c.mu.Unlock()
		select {
		case <-made:
		case <-deadline:
			t.Fatal("clocktest: no timer was made within 10s")
			return 0
		}
	}
}

type timer struct {
	clock *Clock
	c     chan time.Time
	at    time.Time
	done  bool // fired or stopped
}

// fire delivers now; c.clock.mu is held.
func (t *timer) fire(now time.Time) {
	t.done = true
	t.c <- now
}

func (t *timer) C() <-chan time.Time { return t.c }

func (t *timer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	return true
}

// Offset returns the real clock off by d, as on a machine whose clock is
// wrong by d.
func Offset(d time.Duration) clock.Clock { return offset{clock.Real(), d} }

type offset struct {
	clock.Clock
	d time.Duration
}

func (o offset) Now() time.Time { return o.Clock.Now().Add(o.d) }
