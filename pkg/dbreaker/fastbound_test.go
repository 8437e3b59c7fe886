package dbreaker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testredis"
)

// An upstream that fails at once, 3 Fast replicas of 32 goroutines each:
// a replica stops admitting as soon as it holds FailureThreshold failures
// that Redis has not seen, so the calls that reach the upstream before
// every replica rejects are bounded by replicas × (threshold + the calls
// already in flight), whatever the flush interval.
func TestFastOvershootIsBoundedInCalls(t *testing.T) {
	const goroutines = 32
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	cfg := Config{Consistency: Fast, FailureThreshold: 5, OpenTimeout: time.Hour, StoreTimeout: roomy}
	var replicas []*replica
	for i := 0; i < replicaCount; i++ {
		r := newReplica(t, testredis.Addr(), prefix, "openai", cfg, WithFlushInterval(time.Hour))
		r.current(t)
		replicas = append(replicas, r)
	}
	upstream := make([]atomic.Int64, replicaCount)
	var wg sync.WaitGroup
	for i, r := range replicas {
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					err := r.b.Do(context.Background(), func(context.Context) error {
						upstream[i].Add(1)
						return errUpstream
					})
					if errors.Is(err, ErrOpen) && r.b.View().State == Open {
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	for i := range replicas {
		t.Logf("replica %d: %d failing calls reached the upstream", i, upstream[i].Load())
		if n := upstream[i].Load(); n > int64(cfg.FailureThreshold+goroutines) {
			t.Errorf("replica %d: %d failing calls reached the upstream, want at most %d (threshold + goroutines)",
				i, n, cfg.FailureThreshold+goroutines)
		}
	}
	s, err := replicas[0].b.State(context.Background())
	if err != nil || s.State != Open || s.Failures != int64(cfg.FailureThreshold) {
		t.Fatalf("shared state: %+v, %v", s, err)
	}
}

// A classifier that answers no Outcome counts the call as a failure; it
// loses no report, the breaker's or any other in the same flush.
func TestUnknownOutcomeCountsAsFailure(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	cfg := Config{Consistency: Fast, FailureThreshold: 3, Classify: func(error) Outcome { return Outcome(9) }}
	r := newReplica(t, testredis.Addr(), prefix, "web", cfg, WithFlushInterval(time.Hour))
	r.current(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		_ = r.b.Do(ctx, failing)
	}
	if err := r.store.flushAll(ctx, true); err != nil {
		t.Fatal(err)
	}
	if s, err := r.b.State(ctx); err != nil || s.State != Open || s.Failures != 3 {
		t.Fatalf("after 3 calls classified as outcome 9: %+v, %v", s, err)
	}
}

// Observers run outside every lock: one that calls through the breaker
// when it hears of a transition, filling the Fast-mode queue, does not
// deadlock the flush that told it.
func TestObserverMayCallTheBreakerFromAFlush(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	var b *Breaker
	called := make(chan struct{}, 1)
	obs := transitionHook{fn: func(Transition) {
		for i := 0; i < 3; i++ { // MaxQueue 2: the third push flushes at once
			if p, err := b.Allow(context.Background()); err == nil {
				p.Done(nil)
			}
		}
		select {
		case called <- struct{}{}:
		default:
		}
	}}
	r := newObservedReplica(t, testredis.Addr(), prefix, "web", Config{Consistency: Fast, FailureThreshold: 1, OpenTimeout: time.Millisecond}, obs,
		WithFlushInterval(time.Hour), WithMaxQueue(2))
	b = r.b
	r.current(t)
	_ = b.Do(context.Background(), failing)
	done := make(chan error, 1)
	go func() { done <- r.store.flushAll(context.Background(), true) }()
	select {
	case <-called:
	case <-time.After(time.Minute):
		t.Fatal("the observer never ran: the flush is stuck")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the flush never returned")
	}
}
