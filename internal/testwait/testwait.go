// Package testwait is how tests wait: for a condition, polled until it
// holds, with a deadline that fails the test and says what was awaited.
// Tests never sleep in its place.
package testwait

import (
	"testing"
	"time"
)

// pollInterval is how often the condition is checked.
const pollInterval = 2 * time.Millisecond

// For polls cond until it holds, failing tb (from the test's goroutine)
// if it still does not hold after timeout. A timeout that the test is not
// about should be roomy: a busy machine stretches every wait.
func For(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(pollInterval)
	}
}
