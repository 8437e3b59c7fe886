package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/metrics"
)

// On Redis, an override made by one replica reaches the metrics of the
// others (state and transitions), and scraping them sends Redis nothing.
func TestOverrideReachesEveryReplicasMetricsWithoutAScrapeCallingRedis(t *testing.T) {
	ctx := context.Background()
	shared := testredis.Client(t)
	prefix := testredis.Prefix(t, shared)
	type redisReplica struct {
		replica
		commands *testredis.CommandCounter
	}
	start := func() redisReplica {
		client := redis.NewClient(&redis.Options{Addr: testredis.Addr(), ContextTimeoutEnabled: true})
		t.Cleanup(func() { client.Close() })
		counter := &testredis.CommandCounter{}
		client.AddHook(counter)
		store, err := dbreaker.NewRedisStore(client, dbreaker.WithKeyPrefix(prefix), dbreaker.WithLogger(quiet()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close(context.Background()) })
		r := newReplica(t, store, clock.Real())
		if _, err := r.b.State(ctx); err != nil { // as the service does at start-up
			t.Fatal(err)
		}
		return redisReplica{r, counter}
	}
	a, b := start(), start()
	// Events are hints that reach the replicas subscribed when they are
	// sent: wait until a's subscription is live (its view current).
	deadline := time.Now().Add(30 * time.Second) // room for a busy machine
	for !a.b.View().Current {
		if time.Now().After(deadline) {
			t.Fatal("replica a's event subscription never became live")
		}
		time.Sleep(5 * time.Millisecond) // polling interval
		if _, err := a.b.State(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.b.ForceOpen(ctx); err != nil {
		t.Fatal(err)
	}
	want := stateText("openai", dbreaker.ForcedOpen, metrics.SourceShared)
	deadline = time.Now().Add(30 * time.Second) // events cross Redis: room for a busy machine
	for testutil.CollectAndCompare(a.m, strings.NewReader(want), "circuit_breaker_state") != nil {
		if time.Now().After(deadline) {
			t.Fatal(testutil.CollectAndCompare(a.m, strings.NewReader(want), "circuit_breaker_state"))
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	// Replica a learned the override once. Replica b committed it, and may
	// also learn it back from its own event before the store's reply: at
	// least once.
	if got := testutil.ToFloat64(a.m.TransitionsCounter("openai", "closed", "forced_open", metrics.SourceShared, metrics.CauseOperator)); got != 1 {
		t.Errorf("replica a counted %v closed→forced_open transitions, want 1", got)
	}
	if got := testutil.ToFloat64(b.m.TransitionsCounter("openai", "closed", "forced_open", metrics.SourceShared, metrics.CauseOperator)); got < 1 {
		t.Errorf("replica b counted %v closed→forced_open transitions, want at least 1", got)
	}
	before := a.commands.Count()
	for range 20 {
		if err := testutil.CollectAndCompare(a.m, strings.NewReader(want), "circuit_breaker_state"); err != nil {
			t.Fatal(err)
		}
	}
	if n := a.commands.Count() - before; n != 0 {
		t.Errorf("20 scrapes sent Redis %d commands, want none", n)
	}
	if got := testutil.ToFloat64(a.m.StoreErrorsCounter("snapshot")); got != 0 {
		t.Errorf("circuit_breaker_store_errors_total{op=snapshot} = %v, want 0", got)
	}
}
