package dbreaker

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// Sentinel: one master, one replica, one sentinel, all local. The store
// runs on redis.NewFailoverClient; when the master dies, calls decide
// locally until the sentinel promotes the replica, then the shared state
// (as far as it was replicated) is used again.
func TestSentinelFailover(t *testing.T) {
	master := testredis.StartServer(t)
	replicaSrv := testredis.StartServer(t, "--replicaof", "127.0.0.1", portOf(master.Addr))
	sentinel := testredis.StartSentinel(t, "breakers", master.Addr)
	newClient := func() *redis.Client {
		c := redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: "breakers", SentinelAddrs: []string{sentinel.Addr}, MaxRetries: -1, ContextTimeoutEnabled: true,
		})
		t.Cleanup(func() { c.Close() })
		return c
	}
	admin := newClient()
	testwait.For(t, 10*time.Second, "the replica to sync", func() bool {
		info, err := replicaSrv.Client().Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	ctx := context.Background()
	var bs []*Breaker
	for i := 0; i < 2; i++ {
		store, err := NewRedisStore(newClient(), WithKeyPrefix("sentinel"), WithLogger(discardLogger()), WithHealthCheckInterval(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close(ctx) })
		b, err := New("web", store, Config{FailureThreshold: 3, OpenTimeout: time.Hour, StoreTimeout: roomy}, WithLogger(discardLogger()))
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
	}
	for i := 0; i < 3; i++ {
		_ = bs[i%2].Do(ctx, failing)
	}
	if err := bs[1].Do(ctx, succeeding); !errors.Is(err, ErrOpen) {
		t.Fatalf("before the failover: %v", err)
	}
	if err := admin.Wait(ctx, 1, time.Second).Err(); err != nil { // the trip reached the replica
		t.Fatal(err)
	}

	master.Stop()
	// Calls go on (the local fallback answers) until the failover ends.
	testwait.For(t, 30*time.Second, "the sentinel to promote the replica", func() bool {
		for _, b := range bs {
			if err := b.Do(ctx, succeeding); err != nil && !errors.Is(err, ErrOpen) {
				t.Fatalf("a call failed during the failover: %v", err)
			}
		}
		role, err := replicaSrv.Client().Do(ctx, "ROLE").Slice()
		return err == nil && len(role) > 0 && role[0] == "master"
	})
	// The promoted replica had the trip: every replica finds the breaker open.
	for _, b := range bs {
		testwait.For(t, 10*time.Second, "the store on the new master", func() bool {
			s, err := b.State(ctx)
			return err == nil && s.State == Open && s.Generation == 1
		})
	}
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}
