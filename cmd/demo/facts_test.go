package main

import (
	"testing"

	"github.com/healthagent/resilience/internal/testpg"
)

// apiCalls sums api_calls_total{api} over its statuses, and
// api_failures_total{api,error_type="rejected"}.
func apiCalls(t *testing.T, s *service, api string) (calls, rejected float64) {
	t.Helper()
	mfs, err := s.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch {
			case labels["api"] != api:
			case mf.GetName() == "api_calls_total":
				calls += m.GetCounter().GetValue()
			case mf.GetName() == "api_failures_total" && labels["error_type"] == "rejected":
				rejected += m.GetCounter().GetValue()
			}
		}
	}
	return calls, rejected
}

// Every part of the nutrition chain goes through its own upstream's Guard:
// each lookup step, and the write-through to the cache, which the cache's
// breaker refuses while it is open.
func TestNutritionCallsGoThroughTheirUpstreamsGuards(t *testing.T) {
	s := newTestService(t, map[string]string{"DATABASE_URL": testpg.DSN(), "NUTRITION_SCHEMA": testpg.NewSchema(t, testpg.Connect(t))})
	if s.facts.store != "postgres" {
		t.Fatalf("nutrition in %s, want postgres", s.facts.store)
	}
	sources, err := s.factSources()
	if err != nil {
		t.Fatal(err)
	}
	caches := 0
	for _, src := range sources {
		for _, st := range src.steps {
			if st.Guard != nil && st.Guard != src.guard {
				t.Errorf("step %s goes through the Guard of %s, not its upstream's (%s)", st.Name, st.Guard.Name(), src.guard.Name())
			}
		}
		if src.cache != nil {
			caches++
		}
	}
	if caches != 1 {
		t.Fatalf("%d sources say they are the cache, want 1", caches)
	}
	ctx := t.Context()
	find := func(name string) {
		t.Helper()
		if ans, err := s.facts.chain.Find(ctx, name); err != nil || ans.Step != "usda" {
			t.Fatalf("%s: %+v, %v; want USDA's answer", name, ans, err)
		}
	}
	usda, _ := apiCalls(t, s, "usda")
	cache, _ := apiCalls(t, s, "postgres")
	find("chicken breast")
	if got, _ := apiCalls(t, s, "usda"); got != usda+1 {
		t.Errorf("api_calls_total{api=usda}: %v, want %v", got, usda+1)
	}
	if got, _ := apiCalls(t, s, "postgres"); got != cache+1 {
		t.Errorf("api_calls_total{api=postgres}: %v, want %v: the write-through of USDA's answer did not go through the cache's Guard", got, cache+1)
	}
	if _, err := s.breaker("postgres").ForceOpen(ctx); err != nil {
		t.Fatal(err)
	}
	_, rejected := apiCalls(t, s, "postgres")
	find("raw apple")
	if _, got := apiCalls(t, s, "postgres"); got != rejected+1 {
		t.Errorf("api_failures_total{api=postgres,error_type=rejected}: %v, want %v: the cache's breaker, forced open, did not refuse the write-through", got, rejected+1)
	}
}
