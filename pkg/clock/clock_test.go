package clock

import (
	"testing"
	"time"
)

func TestRealClockTimer(t *testing.T) {
	c := Real()
	long := c.NewTimer(time.Hour)
	if !long.Stop() {
		t.Error("Stop() = false for a timer an hour away, want true")
	}
	if long.Stop() {
		t.Error("a second Stop() = true, want false")
	}
	due := c.NewTimer(0)
	select {
	case <-due.C():
	case <-time.After(10 * time.Second):
		t.Fatal("a zero-length real timer did not fire within 10s")
	}
	if c.Now().IsZero() {
		t.Error("Now() is the zero time")
	}
}
