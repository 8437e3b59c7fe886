package testwait

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int32
	For(t, time.Minute, "the third check", func() bool { return calls.Add(1) == 3 })
	if n := calls.Load(); n != 3 {
		t.Fatalf("condition checked %d times, want 3", n)
	}
}

// recorder is a testing.TB that records a Fatalf instead of stopping the
// goroutine's test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = format
	panic(r)
}

func TestForFailsAtTheDeadline(t *testing.T) {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		For(r, time.Millisecond, "a condition that never holds", func() bool { return false })
	}()
	if r.failed == "" {
		t.Fatal("For returned without the condition holding")
	}
}
