package main

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testredis"
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
	if rec, out := post(t, h, "/v1/meals", `{"caption":"150 g chicken breast"}`); rec.Code != http.StatusOK {
		t.Fatalf("meal with Redis down: %d %v", rec.Code, out)
	}

	srv.Start()
	eventuallyT(t, 30*time.Second, "the replica to leave the degraded mode", func() bool { return !s.rstore.Degraded() })
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
	eventuallyT(t, 30*time.Second, "the replica to obey the override", func() bool {
		p, err := s.breaker("usda").Allow(context.Background())
		if err == nil {
			p.Done(nil)
		}
		return dbreaker.IsRejected(err)
	})
}
