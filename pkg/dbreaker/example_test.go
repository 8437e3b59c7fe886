package dbreaker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/redis/go-redis/v9"
)

var quiet = dbreaker.WithLogger(slog.New(slog.DiscardHandler))

func Example() {
	store, err := dbreaker.NewMemoryStore() // in process; NewRedisStore shares it among replicas
	if err != nil {
		panic(err)
	}
	b, err := dbreaker.New("usda", store, dbreaker.Config{FailureThreshold: 3}, quiet)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		err := b.Do(ctx, func(context.Context) error { return errors.New("503 Service Unavailable") })
		var rejected *dbreaker.RejectedError
		switch {
		case errors.As(err, &rejected):
			fmt.Printf("call %d: rejected, breaker %s, retry in %s\n", i+1, rejected.State, rejected.RetryAfter.Round(time.Second))
		default:
			fmt.Printf("call %d: %v\n", i+1, err)
		}
	}
	// Output:
	// call 1: 503 Service Unavailable
	// call 2: 503 Service Unavailable
	// call 3: 503 Service Unavailable
	// call 4: rejected, breaker open, retry in 1m0s
}

func ExampleExecute() {
	store, _ := dbreaker.NewMemoryStore()
	b, _ := dbreaker.New("anthropic", store, dbreaker.Config{}, quiet)
	answer, err := dbreaker.Execute(context.Background(), b, func(ctx context.Context) (string, error) {
		return "a banana has about 105 kcal", nil
	})
	fmt.Println(answer, err)
	// Output: a banana has about 105 kcal <nil>
}

// A breaker around an http.RoundTripper with the two-step API: 5xx answers
// count as failures, the rest as successes.
type breakerTransport struct {
	b    *dbreaker.Breaker
	next http.RoundTripper
}

func (t breakerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	permit, err := t.b.Allow(req.Context())
	if err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil && resp.StatusCode >= 500 {
		permit.Done(fmt.Errorf("upstream status %d", resp.StatusCode))
		return resp, nil
	}
	permit.Done(err)
	return resp, err
}

func ExampleBreaker_Allow() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer upstream.Close()
	store, _ := dbreaker.NewMemoryStore()
	b, _ := dbreaker.New("web", store, dbreaker.Config{FailureThreshold: 2}, quiet)
	client := &http.Client{Transport: breakerTransport{b: b, next: http.DefaultTransport}}
	for i := 0; i < 3; i++ {
		resp, err := client.Get(upstream.URL)
		if err != nil {
			fmt.Println("open:", errors.Is(err, dbreaker.ErrOpen))
			continue
		}
		resp.Body.Close()
		fmt.Println("status:", resp.StatusCode)
	}
	// Output:
	// status: 503
	// status: 503
	// open: true
}

func ExampleBreaker_ForceOpen() {
	store, _ := dbreaker.NewMemoryStore()
	replicaA, _ := dbreaker.New("openai", store, dbreaker.Config{}, quiet)
	replicaB, _ := dbreaker.New("openai", store, dbreaker.Config{}, quiet)
	ctx := context.Background()
	replicaA.ForceOpen(ctx)
	err := replicaB.Do(ctx, func(context.Context) error { return nil })
	fmt.Println(errors.Is(err, dbreaker.ErrForcedOpen), errors.Is(err, dbreaker.ErrOpen))
	s, _ := replicaB.Reset(ctx)
	fmt.Println(s.State, s.Generation)
	// Output:
	// true true
	// closed 2
}

// Three replicas, each with its own Redis client, share one breaker: five
// failures in total open it for all of them.
func ExampleNewRedisStore() {
	ctx := context.Background()
	var replicas []*dbreaker.Breaker
	for i := 0; i < 3; i++ {
		client := redis.NewClient(&redis.Options{Addr: testredis.Addr(), ContextTimeoutEnabled: true})
		defer client.Close()
		store, err := dbreaker.NewRedisStore(client, dbreaker.WithKeyPrefix("example:NewRedisStore"))
		if err != nil {
			panic(err)
		}
		defer store.Close(ctx)
		state, window, probes := store.Keys("usda")
		client.Del(ctx, state, window, probes, store.LogKey("usda")) // start from a known state, and leave nothing behind
		defer client.Del(ctx, state, window, probes, store.LogKey("usda"))
		// A store call slower than StoreTimeout is decided by the replica
		// alone; give Redis room on a busy machine.
		b, _ := dbreaker.New("usda", store, dbreaker.Config{StoreTimeout: time.Second}, quiet)
		replicas = append(replicas, b)
	}
	for i := 0; i < 5; i++ {
		replicas[i%3].Do(ctx, func(context.Context) error { return errors.New("timeout") })
	}
	for i, b := range replicas {
		err := b.Do(ctx, func(context.Context) error { return nil })
		fmt.Printf("replica %d: open=%v\n", i, errors.Is(err, dbreaker.ErrOpen))
	}
	// Output:
	// replica 0: open=true
	// replica 1: open=true
	// replica 2: open=true
}

// An operator's action is recorded in the breaker's log with the name the
// context carries; History reads the log, newest first.
func ExampleRedisStore_History() {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: testredis.Addr(), ContextTimeoutEnabled: true})
	defer client.Close()
	store, err := dbreaker.NewRedisStore(client, dbreaker.WithKeyPrefix("example:History"))
	if err != nil {
		panic(err)
	}
	defer store.Close(ctx)
	state, window, probes := store.Keys("web")
	client.Del(ctx, state, window, probes, store.LogKey("web"))
	defer client.Del(ctx, state, window, probes, store.LogKey("web"))
	b, _ := dbreaker.New("web", store, dbreaker.Config{FailureThreshold: 1, StoreTimeout: time.Second}, quiet)
	b.Do(ctx, func(context.Context) error { return errors.New("503 from https://search.example/?key=SECRET") })
	octx, err := dbreaker.ContextWithOperator(ctx, "Ada Lovelace")
	if err != nil {
		panic(err)
	}
	b.ForceClosed(octx)
	entries, _ := store.History(ctx, "web", 10)
	for _, e := range entries {
		fmt.Printf("gen %d: %s -> %s %s %q %q\n", e.Generation, e.From, e.To, e.Action, e.Operator, e.Error)
	}
	_, err = dbreaker.ContextWithOperator(ctx, "")
	fmt.Println(err)
	// Output:
	// gen 2: open -> forced_closed forced_closed "Ada Lovelace" ""
	// gen 1: closed -> open  "" "503 from https://search.example/?REDACTED"
	// dbreaker: invalid operator name: empty
}
