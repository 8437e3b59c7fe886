// Command replicas shows three replicas of a service sharing one circuit
// breaker over Redis: the upstream goes down, five failures in total open
// the breaker for every replica, one replica probes, and all recover.
//
//	go run ./examples/replicas            # Redis at REDIS_URL or redis://127.0.0.1:6379
//
// Without a reachable Redis it runs on an in-process MemoryStore and says so.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/redis/go-redis/v9"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

// upstream is a stand-in for USDA FoodData Central that can be switched off.
type upstream struct {
	down  atomic.Bool
	calls atomic.Int64
}

func (u *upstream) call(context.Context) error {
	u.calls.Add(1)
	if u.down.Load() {
		return errors.New("503 Service Unavailable")
	}
	return nil
}

func run(ctx context.Context) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	newStore, where, err := storeFactory(ctx)
	if err != nil {
		return err
	}
	fmt.Println("store:", where)
	cfg := dbreaker.Config{FailureThreshold: 5, OpenTimeout: 2 * time.Second}
	var replicas []*dbreaker.Breaker
	for i := 0; i < 3; i++ {
		store, err := newStore()
		if err != nil {
			return err
		}
		b, err := dbreaker.New("example-usda", store, cfg, dbreaker.WithLogger(logger))
		if err != nil {
			return err
		}
		replicas = append(replicas, b)
	}
	if _, err := replicas[0].Reset(ctx); err != nil {
		return err
	}

	up := &upstream{}
	round := func(label string) {
		line := fmt.Sprintf("%-26s", label)
		for i, b := range replicas {
			err := b.Do(ctx, up.call)
			result := "ok"
			switch {
			case errors.Is(err, dbreaker.ErrOpen):
				result = "rejected (open)"
			case errors.Is(err, dbreaker.ErrTooManyProbes):
				result = "rejected (probing)"
			case err != nil:
				result = "failed"
			}
			line += fmt.Sprintf("  replica %d: %-18s", i, result)
		}
		s, _ := replicas[0].State(ctx)
		fmt.Printf("%s  shared state: %-9s gen %d  upstream calls so far: %d\n", line, s.State, s.Generation, up.calls.Load())
	}

	round("healthy")
	up.down.Store(true)
	for i := 1; i <= 3; i++ {
		round(fmt.Sprintf("upstream down, round %d", i))
	}
	up.down.Store(false)
	fmt.Println("upstream back; waiting for the open timeout (2s)…")
	time.Sleep(cfg.OpenTimeout + 100*time.Millisecond)
	round("after the open timeout")
	round("recovered")
	return nil
}

// storeFactory returns a constructor of one store per replica: each replica
// gets its own Redis client, as separate processes would.
func storeFactory(ctx context.Context) (func() (dbreaker.Store, error), string, error) {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379"
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, "", fmt.Errorf("REDIS_URL=%q: %w", url, err)
	}
	opts.ContextTimeoutEnabled = true // so the store's timeout bounds every Redis call
	probe := redis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	err = probe.Ping(pingCtx).Err()
	probe.Close()
	if err != nil {
		shared, merr := dbreaker.NewMemoryStore()
		if merr != nil {
			return nil, "", merr
		}
		return func() (dbreaker.Store, error) { return shared, nil },
			fmt.Sprintf("in-process MemoryStore (Redis at %s not reachable: %v)", opts.Addr, err), nil
	}
	return func() (dbreaker.Store, error) {
		return dbreaker.NewRedisStore(redis.NewClient(opts), dbreaker.WithKeyPrefix("example"))
	}, "Redis at " + opts.Addr + " (keys example:{example-usda}*)", nil
}
