package sr24

import "testing"

// loadData loads the embedded dataset or stops the test.
func loadData(tb testing.TB) *Dataset {
	tb.Helper()
	d, err := Load()
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return d
}
