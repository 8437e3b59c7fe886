package main

import (
	"testing"

	"github.com/redis/go-redis/v9"
)

// The redis-down scenario's server: it answers, stops for good when
// killed, and comes back empty on the same port.
func TestRedisServerStopsAndRestartsOnTheSamePort(t *testing.T) {
	ctx := t.Context()
	s, err := startRedisServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET on a fresh server: %v", err)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING answered after stop")
	}
	if err := s.stop(); err == nil {
		t.Error("a second stop did not say the server is not running")
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Errorf("after the restart on %s: EXISTS k = %d, %v; want an empty server", s.Addr, n, err)
	}
}
