package meal

import (
	"sync"
	"testing"

	"github.com/healthagent/resilience/internal/testsr24"
)

// dataset and parser are loaded once per test binary; both are read-only.
var (
	parser = sync.OnceValues(func() (*Parser, error) {
		data, err := testsr24.Load()
		if err != nil {
			return nil, err
		}
		return New(data)
	})
)

func newParser(t testing.TB) *Parser {
	t.Helper()
	p, err := parser()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
