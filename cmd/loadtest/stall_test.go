package main

import (
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/clocktest"
)

func TestStallMeterKeepsTheLongestLateness(t *testing.T) {
	c := clocktest.New(time.Unix(1000, 0))
	m := &stallMeter{}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		m.run(c, stop)
	}()
	// Each timer fires 0 ms, 250 ms and 5 ms late.
	for _, wait := range []time.Duration{10 * time.Millisecond, 260 * time.Millisecond, 15 * time.Millisecond} {
		c.AwaitTimer(t)
		c.Advance(wait)
	}
	c.AwaitTimer(t) // the meter reads the third one's lateness, and waits again
	close(stop)
	<-done
	if got := m.max(); got != 250*time.Millisecond {
		t.Errorf("max stall %v, want 250ms", got)
	}
}
