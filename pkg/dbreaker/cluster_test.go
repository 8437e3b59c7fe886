package dbreaker

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/redis/go-redis/v9"
)

// Redis Cluster: a three-master cluster of the test's own, reached through
// redis.NewClusterClient. Every key of one breaker shares the hash tag
// {name}, so each script runs on one master; different breakers spread over
// all of them.
func TestRedisCluster(t *testing.T) {
	cluster := testredis.StartCluster(t, 3)
	target := redisTarget{
		admin:     func(t *testing.T) redis.UniversalClient { return cluster.Client(t) },
		newClient: func(t *testing.T) redis.UniversalClient { return cluster.Client(t) },
	}

	t.Run("store contract", func(t *testing.T) {
		runStoreContract(t, func(t *testing.T) storeHarness {
			client := cluster.Client(t)
			store, err := NewRedisStore(client, WithKeyPrefix(testredis.Prefix(t, client)))
			if err != nil {
				t.Fatal(err)
			}
			return storeHarness{store: store, advance: redisAdvance(client), unit: 250 * time.Millisecond}
		})
	})
	t.Run("trip at exactly the threshold", func(t *testing.T) { testReplicasTripAtExactlyTheThreshold(t, target) })
	t.Run("96 one-shot failures", func(t *testing.T) { testReplicasBarrierOf96OneShotFailures(t, target) })
	t.Run("log and heartbeats", func(t *testing.T) { testLogAndPresenceOnCluster(t, cluster) })
	t.Run("bulk reads", func(t *testing.T) {
		client := cluster.Client(t)
		testBulkReads(t, bulkFleet(t, client, testredis.Prefix(t, client)))
	})
	t.Run("half-open probe limit", func(t *testing.T) { testReplicasHalfOpenProbesNeverExceedTheLimit(t, target) })
	t.Run("vanished probe", func(t *testing.T) { testReplicasVanishedProbeFreesItsSlotAfterTheLease(t, target) })

	t.Run("breakers spread over every master", func(t *testing.T) {
		client := cluster.Client(t)
		prefix := testredis.Prefix(t, client)
		store, err := NewRedisStore(client, WithKeyPrefix(prefix), WithLogger(discardLogger()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close(context.Background()) })
		masters := map[string]int{}
		for i := 0; i < 30; i++ {
			name := "upstream-" + strconv.Itoa(i)
			b, err := New(name, store, Config{FailureThreshold: 1, FailureRate: 0.9, StoreTimeout: roomy}, WithLogger(discardLogger()))
			if err != nil {
				t.Fatal(err)
			}
			_ = b.Do(context.Background(), failing) // writes the state and window keys
			state, window, probes := store.Keys(name)
			slot := func(key string) int64 {
				s, err := client.ClusterKeySlot(context.Background(), key).Result()
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			if slot(state) != slot(window) || slot(state) != slot(probes) {
				t.Fatalf("%s: keys in slots %d, %d, %d; want one", name, slot(state), slot(window), slot(probes))
			}
			master, err := client.MasterForKey(context.Background(), state)
			if err != nil {
				t.Fatal(err)
			}
			masters[master.Options().Addr]++
			if s, err := b.State(context.Background()); err != nil || s.State != Open {
				t.Fatalf("%s: %+v, %v", name, s, err)
			}
		}
		if len(masters) != 3 {
			t.Fatalf("breakers on %d masters (%v), want all 3", len(masters), masters)
		}
	})

	t.Run("events reach every replica", func(t *testing.T) {
		admin := cluster.Client(t)
		prefix := testredis.Prefix(t, admin)
		var rs []*replica
		for i := 0; i < 3; i++ {
			r := &replica{commands: &testredis.CommandCounter{}}
			client := cluster.Client(t)
			var err error
			if r.store, err = NewRedisStore(client, WithKeyPrefix(prefix), WithLogger(discardLogger())); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.store.Close(context.Background()) })
			if r.b, err = New("anthropic", r.store, Config{OpenTimeout: time.Minute, StoreTimeout: roomy}, WithLogger(discardLogger())); err != nil {
				t.Fatal(err)
			}
			r.current(t)
			rs = append(rs, r)
		}
		for i := 0; i < 5; i++ {
			_ = rs[i%3].b.Do(context.Background(), failing)
		}
		for _, r := range rs {
			r.learned(t, Open)
		}
	})
}
