package clocktest

import (
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fired reports whether a timer's channel holds a value, without waiting.
func fired(c <-chan time.Time) (time.Time, bool) {
	select {
	case at := <-c:
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestManualTimersFireWhenTheTimePassesThem(t *testing.T) {
	c := New(start)
	short, long := c.NewTimer(time.Second), c.NewTimer(time.Minute)
	if _, ok := fired(short.C()); ok {
		t.Fatal("a timer fired before Advance")
	}
	c.Advance(999 * time.Millisecond)
	if _, ok := fired(short.C()); ok {
		t.Fatal("a 1s timer fired after 999ms")
	}
	c.Advance(time.Millisecond)
	if at, ok := fired(short.C()); !ok || !at.Equal(start.Add(time.Second)) {
		t.Fatalf("the 1s timer after 1s: fired %v at %v", ok, at)
	}
	if c.Pending() != 1 {
		t.Errorf("Pending() = %d, want the 1m timer", c.Pending())
	}
	if !long.Stop() || long.Stop() {
		t.Error("Stop of a pending timer: want true, then false")
	}
	if c.Pending() != 0 {
		t.Errorf("Pending() = %d after Stop, want 0", c.Pending())
	}
	c.Advance(time.Hour)
	if _, ok := fired(long.C()); ok {
		t.Error("a stopped timer fired")
	}
	if short.Stop() {
		t.Error("Stop of a fired timer = true, want false")
	}
	if got := c.Now(); !got.Equal(start.Add(time.Hour + time.Second)) {
		t.Errorf("Now() = %v", got)
	}
}

func TestAutoTimersFireAtOnceAndMoveTheTime(t *testing.T) {
	c := NewAuto(start)
	for _, d := range []time.Duration{time.Second, 2 * time.Second} {
		tm := c.NewTimer(d)
		if _, ok := fired(tm.C()); !ok {
			t.Fatalf("a %v timer of an auto clock did not fire at once", d)
		}
		if tm.Stop() {
			t.Error("Stop of a fired timer = true")
		}
	}
	if got := c.Now(); !got.Equal(start.Add(3 * time.Second)) {
		t.Errorf("Now() = %v, want start + 3s", got)
	}
	if w := c.Waits(); !slices.Equal(w, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("Waits() = %v", w)
	}
}

func TestAwaitTimerReturnsEachTimerOnce(t *testing.T) {
	c := New(start)
	go func() {
		c.NewTimer(time.Second)
		c.NewTimer(time.Minute)
	}()
	if d := c.AwaitTimer(t); d != time.Second {
		t.Errorf("first AwaitTimer = %v, want 1s", d)
	}
	if d := c.AwaitTimer(t); d != time.Minute {
		t.Errorf("second AwaitTimer = %v, want 1m", d)
	}
}

func TestOffsetIsTheRealClockOffByD(t *testing.T) {
	before := time.Now()
	got := Offset(time.Hour).Now()
	after := time.Now()
	if got.Before(before.Add(time.Hour)) || got.After(after.Add(time.Hour)) {
		t.Errorf("Offset(1h).Now() = %v, want between %v and %v", got, before.Add(time.Hour), after.Add(time.Hour))
	}
}
