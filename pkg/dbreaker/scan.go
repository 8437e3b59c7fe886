package dbreaker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// BreakerNames lists, sorted, every breaker that has a state hash or a log
// under the store's key prefix. It SCANs the keyspace (every master of a
// Cluster): for consoles and tools, never for the call path.
func (s *RedisStore) BreakerNames(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	head := s.prefix + ":{"
	err := s.scanKeys(ctx, head+"*", func(key string) {
		rest := strings.TrimPrefix(key, head)
		name, suffix, ok := strings.Cut(rest, "}")
		if ok && (suffix == "" || suffix == ":log") && ValidateName(name) == nil {
			seen[name] = true
		}
	})
	if err != nil {
		return nil, fmt.Errorf("dbreaker: listing breakers: %w", err)
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// scanKeys calls fn (serialised) for every key matching pattern, on every
// master of a Cluster.
func (s *RedisStore) scanKeys(ctx context.Context, pattern string, fn func(key string)) error {
	var mu sync.Mutex
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			fn(iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	if cc, ok := s.client.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return scan(ctx, node) })
	}
	return scan(ctx, s.client)
}

// KeyPrefix returns the prefix of the store's keys and channels.
func (s *RedisStore) KeyPrefix() string { return s.prefix }
