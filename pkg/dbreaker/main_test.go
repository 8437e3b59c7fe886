package dbreaker

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test stops what it starts: no goroutine outlives the package's
// tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
