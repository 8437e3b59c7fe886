package retry

import (
	"sync"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
)

// fakeClock is a Clock for tests. In auto mode a new timer fires at once and
// moves the clock forward by its duration, so Do runs through its waits
// synchronously; otherwise timers fire only when Advance passes them.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	pending []*fakeTimer
	waits   []time.Duration // the duration of every timer made
	created chan struct{}   // one value per timer made
}

func newFakeClock(auto bool) *fakeClock {
	return &fakeClock{
		now:     time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		auto:    auto,
		created: make(chan struct{}, 1000),
	}
}

type fakeTimer struct {
	clock   *fakeClock
	c       chan time.Time
	at      time.Time
	done    bool // fired or stopped
	stopped bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) clock.Timer {
	c.mu.Lock()
	t := &fakeTimer{clock: c, c: make(chan time.Time, 1), at: c.now.Add(d)}
	c.waits = append(c.waits, d)
	if c.auto {
		c.now = t.at
		t.done = true
		t.c <- c.now
	} else {
		c.pending = append(c.pending, t)
	}
	c.mu.Unlock()
	c.created <- struct{}{}
	return t
}

// Advance moves the clock forward and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.pending[:0]
	for _, t := range c.pending {
		switch {
		case t.done:
		case !t.at.After(c.now):
			t.done = true
			t.c <- c.now
		default:
			kept = append(kept, t)
		}
	}
	c.pending = kept
}

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	if t.done {
		return false
	}
	t.done, t.stopped = true, true
	return true
}
