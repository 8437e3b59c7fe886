package main

import (
	"sync"
	"testing"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
)

// scriptedClock tells the times of its script one after the other, and its
// timers fire at once; stop closes when the script runs out.
type scriptedClock struct {
	mu    sync.Mutex
	times []time.Time
	stop  chan struct{}
}

func (c *scriptedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.times[0]
	if len(c.times) > 1 {
		c.times = c.times[1:]
	} else {
		select {
		case <-c.stop:
		default:
			close(c.stop)
		}
	}
	return t
}

type firedTimer struct{ c chan time.Time }

func (t firedTimer) C() <-chan time.Time { return t.c }
func (t firedTimer) Stop() bool          { return false }

func (c *scriptedClock) NewTimer(time.Duration) clock.Timer {
	ch := make(chan time.Time, 1)
	ch <- time.Time{}
	return firedTimer{ch}
}

func TestStallMeterKeepsTheLongestLateness(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	// Pairs of (before the timer, after it fired): 0 ms, 250 ms and 5 ms
	// late.
	c := &scriptedClock{times: []time.Time{ms(0), ms(10), ms(10), ms(270), ms(270), ms(285)}, stop: make(chan struct{})}
	m := &stallMeter{}
	m.run(c, c.stop)
	if got := m.max(); got != 250*time.Millisecond {
		t.Errorf("max stall %v, want 250ms", got)
	}
}
