package fakeupstream

import (
	"sync"
	"testing"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
)

// waitLimit bounds every wait on a condition in these tests.
const waitLimit = 10 * time.Second

// waitDone waits until n more request handlers have returned.
func (ts *testServer) waitDone(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(waitLimit)
	for range n {
		select {
		case <-ts.done:
		case <-deadline:
			t.Fatalf("a request handler did not return within %v", waitLimit)
		}
	}
}

// drainDone forgets the requests finished so far.
func (ts *testServer) drainDone() {
	for {
		select {
		case <-ts.done:
		default:
			return
		}
	}
}

// manualClock is a Clock whose time moves only on Advance; it records the
// timers made on it.
type manualClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*manualTimer
	created chan struct{} // receives once per timer made
}

type manualTimer struct {
	clock   *manualClock
	when    time.Time
	length  time.Duration
	c       chan time.Time
	stopped bool
	fired   bool
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Unix(1_700_000_000, 0), created: make(chan struct{}, 1024)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) NewTimer(d time.Duration) clock.Timer {
	c.mu.Lock()
	t := &manualTimer{clock: c, when: c.now.Add(d), length: d, c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	c.created <- struct{}{}
	return t
}

// Advance moves the time by d and fires the timers due.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		if !t.stopped && !t.fired && !t.when.After(c.now) {
			t.fired = true
			t.c <- c.now
		}
	}
}

// waitTimer waits until one more timer is made and returns its length.
func (c *manualClock) waitTimer(t *testing.T) time.Duration {
	t.Helper()
	select {
	case <-c.created:
	case <-time.After(waitLimit):
		t.Fatalf("no timer was started within %v", waitLimit)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timers[len(c.timers)-1].length
}

func (t *manualTimer) C() <-chan time.Time { return t.c }

func (t *manualTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := !t.stopped && !t.fired
	t.stopped = true
	return was
}
