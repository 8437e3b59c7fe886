package main

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/fakeupstream"
)

// BenchmarkMealFallbackLatency measures POST /v1/meals through a replica
// whose models and USDA are a fake upstream: healthy (the baseline), then
// with USDA down and its breaker open, then with the models' breakers
// open too (the local parser reads the caption). It reports the p50 and
// p99 latency of a request; docs/benchmarks.md records the figures.
func BenchmarkMealFallbackLatency(b *testing.B) {
	for _, tt := range []struct {
		name string
		open []string // breakers forced open
		down []fakeupstream.Upstream
	}{
		{name: "healthy"},
		{name: "usda_open", open: []string{"usda"}, down: []fakeupstream.Upstream{fakeupstream.USDA}},
		{name: "usda_and_models_open", open: []string{"usda", "openai", "anthropic"},
			down: []fakeupstream.Upstream{fakeupstream.USDA, fakeupstream.OpenAI, fakeupstream.Anthropic}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			s, fake, _ := newModelService(b, nil)
			for _, u := range tt.down {
				if err := fake.SetFault(u, fakeupstream.Fault{HangRate: 1}); err != nil {
					b.Fatal(err)
				}
			}
			for _, name := range tt.open {
				if _, err := s.breaker(name).ForceOpen(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			h := s.apiHandler()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				code, _, _ := postMeal(b, h, "150 g chicken breast and a cup of rice")
				lat = append(lat, time.Since(start))
				if code != http.StatusOK {
					b.Fatalf("status %d", code)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
		})
	}
}
