// Package testsr24 gives tests the embedded SR24 food data, loaded once
// per test binary and shared: it is read-only.
package testsr24

import (
	"sync"
	"testing"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// Load returns the dataset, loading it on the first call only.
var Load = sync.OnceValues(sr24.Load)

// Dataset returns the dataset, failing tb if it cannot be loaded.
func Dataset(tb testing.TB) *sr24.Dataset {
	tb.Helper()
	data, err := Load()
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
