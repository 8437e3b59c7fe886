package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/fakeupstream"
	"github.com/healthagent/resilience/internal/testpg"
	"github.com/healthagent/resilience/internal/testredis"
)

// Three replicas of the service over HTTP, each with its own Redis client,
// against one fake upstream and the real Redis and PostgreSQL.
func TestThreeReplicasShareTheUSDABreaker(t *testing.T) {
	fake, err := fakeupstream.New(fakeupstream.Config{USDAKey: "usda-key"})
	if err != nil {
		t.Fatal(err)
	}
	upstream := httptest.NewServer(fake)
	t.Cleanup(upstream.Close)
	ep := fakeupstream.EndpointsAt(upstream.URL)
	redisClient := testredis.Client(t)
	env := map[string]string{
		"REDIS_URL":                  "redis://" + testredis.Addr() + "/0",
		"CIRCUIT_BREAKER_KEY_PREFIX": testredis.Prefix(t, redisClient),
		"DATABASE_URL":               testpg.DSN(),
		"NUTRITION_SCHEMA":           testpg.NewSchema(t, testpg.Connect(t)),
		"OPENAI_BASE_URL":            ep.OpenAI, "OPENAI_API_KEY": "k",
		"ANTHROPIC_BASE_URL": ep.Anthropic, "ANTHROPIC_API_KEY": "k",
		"USDA_BASE_URL": upstream.URL, "USDA_API_KEY": "usda-key",
		"WEB_SEARCH_URL":          ep.Web,
		"CIRCUIT_BREAKER_TIMEOUT": "1s",
		"API_RETRY_MAX":           "3",
		"API_RETRY_BASE_DELAY":    "1ms",
	}
	var replicas []*httptest.Server
	for i := 0; i < 3; i++ {
		cfg, err := loadConfig(envOf(env))
		if err != nil {
			t.Fatal(err)
		}
		s, err := newService(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.close(context.Background()) })
		if s.facts.store != "postgres" || s.rstore == nil {
			t.Fatalf("replica %d: nutrition in %s, breakers in redis=%v", i, s.facts.store, s.rstore != nil)
		}
		srv := httptest.NewServer(s.apiHandler())
		t.Cleanup(srv.Close)
		replicas = append(replicas, srv)
	}
	meal := func(i int) (source string, degraded bool) {
		t.Helper()
		resp, err := http.Post(replicas[i%3].URL+"/v1/meals", "application/json", strings.NewReader(`{"caption":"150 g chicken breast"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ans mealAnswer
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&ans) != nil || len(ans.Items) != 1 {
			t.Fatalf("replica %d: status %d, %+v", i%3, resp.StatusCode, ans)
		}
		if e := ans.Items[0].Nutrients.EnergyKcal; e == nil || *e != 247.5 {
			t.Fatalf("150 g chicken breast: %+v, want 247.5 kcal", ans.Items[0].Nutrients)
		}
		return ans.Items[0].Source, ans.Items[0].Degraded
	}
	usdaCalls := func() uint64 { return fake.Stats()[fakeupstream.USDA].Requests }

	if src, degraded := meal(0); src != "usda" || degraded {
		t.Fatalf("healthy: %s degraded=%v", src, degraded)
	}
	// USDA goes down. Every request still gets its answer, from the cache;
	// the breaker opens after five failed attempts in total across the
	// replicas (retries included), then nobody calls USDA.
	if err := fake.SetFault(fakeupstream.USDA, fakeupstream.Fault{Outage: fakeupstream.OutageError}); err != nil {
		t.Fatal(err)
	}
	before := usdaCalls()
	for i := 0; i < 12; i++ {
		if src, degraded := meal(i); src != "local_cache" || !degraded {
			t.Fatalf("USDA down, request %d: %s degraded=%v", i, src, degraded)
		}
	}
	if failed := usdaCalls() - before; failed != 5 {
		t.Fatalf("%d USDA calls during the outage, want exactly 5 (the threshold)", failed)
	}
	// The outage ends. After the open timeout one probe closes the breaker
	// and USDA serves again.
	fake.ResetFaults()
	before = usdaCalls()
	deadline := time.Now().Add(10 * time.Second)
	for {
		src, _ := meal(0)
		if src == "usda" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("USDA never served again after the outage")
		}
		time.Sleep(100 * time.Millisecond) // the open timeout runs on Redis' clock
	}
	if probes := usdaCalls() - before; probes != 1 {
		t.Fatalf("%d USDA calls to recover, want the one probe", probes)
	}
	for i := 1; i < 4; i++ {
		if src, degraded := meal(i); src != "usda" || degraded {
			t.Fatalf("after recovery on replica %d: %s degraded=%v", i%3, src, degraded)
		}
	}
}
