package meal

import (
	"sync"
	"testing"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// dataset and parser are loaded once per test binary; both are read-only.
var (
	dataset = sync.OnceValues(sr24.Load)
	parser  = sync.OnceValues(func() (*Parser, error) {
		data, err := dataset()
		if err != nil {
			return nil, err
		}
		return New(data)
	})
)

func loadData(t testing.TB) *sr24.Dataset {
	t.Helper()
	data, err := dataset()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func newParser(t testing.TB) *Parser {
	t.Helper()
	p, err := parser()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
