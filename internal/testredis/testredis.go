// Package testredis gives tests a real Redis: the shared server at
// 127.0.0.1:6379 (REDIS_ADDR overrides) with a key prefix of their own that is
// deleted when the test ends, or a redis-server process of their own on a
// free loopback port, which they may stop, kill and restart.
//
//	client := testredis.Client(t)
//	prefix := testredis.Prefix(t, client)
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Addr is the shared Redis server's address.
func Addr() string {
	if a := os.Getenv("REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// Client returns a new client of the shared server, closed at cleanup. The
// test fails (never skips) when the server does not answer.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s is not reachable (%v); start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no", Addr(), err)
	}
	return c
}

// Prefix returns a key prefix unique to this test; every key under it is
// deleted at cleanup.
func Prefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	if len(name) > 30 {
		name = name[:30]
	}
	prefix := "test:" + name + ":" + hex.EncodeToString(b[:])
	t.Cleanup(func() { DeleteKeys(t, c, prefix) })
	return prefix
}

// DeleteKeys deletes every key starting with prefix (with SCAN, never
// FLUSHDB).
func DeleteKeys(t testing.TB, c redis.UniversalClient, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	del := func(ctx context.Context, node redis.UniversalClient) error {
		iter := node.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			if err := node.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return del(ctx, node) })
	} else {
		err = del(ctx, c)
	}
	if err != nil {
		t.Errorf("testredis: deleting keys %s*: %v", prefix, err)
	}
}
