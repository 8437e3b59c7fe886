package dbreaker

import (
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/clocktest"
)

// A late estimate of "open until" (an event delivered late) never pushes the
// end of a known open period later; an earlier one brings it forward.
func TestViewKeepsTheEarliestOpenUntil(t *testing.T) {
	clock := clocktest.New(time.UnixMilli(1_700_000_000_000))
	b, err := New("v", memStore(t, WithClock(clock)), Config{}, WithClock(clock), WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	b.learn(nil, 0, "a1", Open, 3, now.Add(10*time.Millisecond))
	b.learn(nil, 0, "a1", Open, 3, now.Add(15*time.Millisecond)) // heard 5 ms late
	if got := b.view.Load().until; !got.Equal(now.Add(10 * time.Millisecond)) {
		t.Fatalf("until = %v after a late estimate, want the earlier %v", got.Sub(now), 10*time.Millisecond)
	}
	b.learn(nil, 0, "a1", Open, 3, now.Add(8*time.Millisecond))
	if got := b.view.Load().until; !got.Equal(now.Add(8 * time.Millisecond)) {
		t.Fatalf("until = %v after an earlier estimate, want 8ms", got.Sub(now))
	}
	b.learn(nil, 0, "a1", Open, 3, time.Time{}) // a reply without the store's time
	if got := b.view.Load().until; !got.Equal(now.Add(8 * time.Millisecond)) {
		t.Fatalf("until = %v after a reply without time, want 8ms kept", got.Sub(now))
	}
	b.learn(nil, 0, "a1", Open, 5, now.Add(20*time.Millisecond)) // a new trip: a new period
	if got := b.view.Load().until; !got.Equal(now.Add(20 * time.Millisecond)) {
		t.Fatalf("until = %v for a new generation, want 20ms", got.Sub(now))
	}
}
