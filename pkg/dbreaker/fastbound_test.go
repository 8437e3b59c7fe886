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
