package meal

import (
	"testing"

	"github.com/healthagent/resilience/internal/testsr24"
)

// BenchmarkParse reads a caption of three foods, one a dish.
func BenchmarkParse(b *testing.B) {
	p := newParser(b)
	for b.Loop() {
		if _, err := p.Parse("2 large eggs, a slice of toast with butter and a chicken caesar salad"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNew builds a parser: every SR24 food's measures and the dishes.
func BenchmarkNew(b *testing.B) {
	data := testsr24.Dataset(b)
	for b.Loop() {
		if _, err := New(data); err != nil {
			b.Fatal(err)
		}
	}
}
