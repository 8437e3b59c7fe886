package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/fakeupstream"
	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
	"github.com/healthagent/resilience/pkg/dbreaker"
)

// A replica started while Redis is down serves, says it is degraded, and
// joins the shared state when Redis comes up: an override made elsewhere
// then reaches it.
func TestReplicaStartedWithoutRedisJoinsItLater(t *testing.T) {
	srv := testredis.StartServer(t)
	srv.Stop()
	s := newTestService(t, map[string]string{"CIRCUIT_BREAKER_STORE": "redis", "REDIS_URL": "redis://" + srv.Addr})
	if s.rstore == nil {
		t.Fatal("the replica started on a MemoryStore: it would never join Redis")
	}
	h := s.apiHandler()
	if out := get(t, h, "/readyz"); out["status"] != "degraded" || out["breaker_store_degraded"] != true {
		t.Fatalf("/readyz with Redis down: %v", out)
	}
	if got := gaugeValue(t, s, "health_agent_degraded", degradedBreakerStore); got != 1 {
		t.Errorf("health_agent_degraded{component=breaker_store} = %v, want 1", got)
	}
	// USDA fails: the local breaker trips, and the replica says so.
	if err := s.fake.SetFault(fakeupstream.USDA, fakeupstream.Fault{Outage: fakeupstream.OutageError}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if rec, out := post(t, h, "/v1/meals", `{"caption":"150 g chicken breast"}`); rec.Code != http.StatusOK {
			t.Fatalf("meal with Redis down: %d %v", rec.Code, out)
		}
	}
	var breakers struct{ Breakers []breakerView }
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/breakers", nil))
	if err := json.Unmarshal(rec.Body.Bytes(), &breakers); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(breakers.Breakers, func(b breakerView) bool { return b.Name == "usda" })
	if i < 0 || breakers.Breakers[i].State != "open" || breakers.Breakers[i].Source != "local" {
		t.Fatalf("/v1/breakers with Redis down, USDA failing: %s", rec.Body.String())
	}
	if got := stateGauge(t, s, "usda", "open", "local"); got != 1 {
		t.Errorf("circuit_breaker_state{breaker=usda,state=open,source=local} = %v, want 1", got)
	}
	s.fake.ResetFaults()

	srv.Start()
	testwait.For(t, 30*time.Second, "the replica to leave the degraded mode", func() bool { return !s.rstore.Degraded() })
	if out := get(t, h, "/readyz"); slices.Contains(anyStrings(out["degraded"]), degradedBreakerStore) {
		t.Fatalf("/readyz with Redis back: %v", out)
	}
	// An operator forces usda open through another client.
	admin, err := dbreaker.NewRedisStore(srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	b, err := dbreaker.New("usda", admin, dbreaker.Config{}, dbreaker.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ForceOpen(context.Background()); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 30*time.Second, "the replica to obey the override", func() bool {
		p, err := s.breaker("usda").Allow(context.Background())
		if err == nil {
			p.Done(nil)
		}
		return dbreaker.IsRejected(err)
	})
}

// stateGauge reads circuit_breaker_state{breaker,state,source} from the
// replica's registry, -1 when the series does not exist.
func stateGauge(t *testing.T, s *service, breaker, state, source string) float64 {
	t.Helper()
	mfs, err := s.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"breaker": breaker, "state": state, "source": source}
	for _, mf := range mfs {
		if mf.GetName() != "circuit_breaker_state" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if maps.Equal(got, want) {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}
