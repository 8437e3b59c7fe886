package dbreaker

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// publish sends an event as anyone allowed to publish on the channel can.
func publish(t *testing.T, r *replica, ev map[string]any) {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.client.Publish(context.Background(), r.store.Channel(), payload).Err(); err != nil {
		t.Fatal(err)
	}
}

// Events are hints. A forged event cannot block the fleet for longer than
// the breaker's own maximum open timeout, cannot switch a Fast replica's
// protection off, and an operator's Reset replaces whatever a view held.
func TestForgedEvents(t *testing.T) {
	ctx := context.Background()
	yearMs := (365 * 24 * time.Hour).Milliseconds()

	t.Run("an open event far ahead is confirmed and ignored", func(t *testing.T) {
		client := testredis.Client(t)
		prefix := testredis.Prefix(t, client)
		r := newReplica(t, testredis.Addr(), prefix, "openai", Config{StoreTimeout: roomy})
		r.current(t)
		v := r.b.View()
		now := time.Now().UnixMilli()
		publish(t, r, map[string]any{"breaker": "openai", "from": "closed", "to": "open", "inc": v.Incarnation,
			"gen": 1_000_000_000, "open_until_ms": now + yearMs, "at_ms": now})
		testwait.For(t, 5*time.Second, "the event to be confirmed", func() bool { return r.b.Stats().ConfirmedEvents == 1 })
		if got := r.b.View(); got.State != Closed || got.Generation != v.Generation {
			t.Fatalf("view after a forged open at generation 10^9: %+v", got)
		}
		if err := r.b.Do(ctx, succeeding); err != nil {
			t.Fatalf("call after the forged event: %v", err)
		}
	})

	t.Run("an open event of the next generation holds at most MaxOpenTimeout, and Reset undoes it", func(t *testing.T) {
		client := testredis.Client(t)
		prefix := testredis.Prefix(t, client)
		cfg := Config{OpenTimeout: time.Second, MaxOpenTimeout: 2 * time.Second, StoreTimeout: roomy}
		victim := newReplica(t, testredis.Addr(), prefix, "openai", cfg)
		operator := newReplica(t, testredis.Addr(), prefix, "openai", cfg)
		victim.current(t)
		v := victim.b.View()
		now := time.Now().UnixMilli()
		publish(t, victim, map[string]any{"breaker": "openai", "from": "closed", "to": "open", "inc": v.Incarnation,
			"gen": v.Generation + 1, "open_until_ms": now + yearMs, "at_ms": now})
		testwait.For(t, 5*time.Second, "the forged open to arrive", func() bool { return victim.b.View().State == Open })
		if got := victim.b.View().OpenFor; got > cfg.MaxOpenTimeout {
			t.Fatalf("a forged event holds the breaker open for %v, more than MaxOpenTimeout %v", got, cfg.MaxOpenTimeout)
		}
		if _, err := operator.b.Reset(ctx); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, 5*time.Second, "Reset to replace the forged view", func() bool { return victim.b.View().State == Closed })
		if err := victim.b.Do(ctx, succeeding); err != nil {
			t.Fatalf("call after Reset: %v", err)
		}
	})

	t.Run("a forged disabled cannot stop a Fast replica from tripping", func(t *testing.T) {
		for _, to := range []string{"disabled", "closed", "forced_closed"} {
			t.Run(to, func(t *testing.T) {
				client := testredis.Client(t)
				prefix := testredis.Prefix(t, client)
				r := newReplica(t, testredis.Addr(), prefix, "usda", Config{Consistency: Fast, FailureThreshold: 3, StoreTimeout: roomy},
					WithFlushInterval(time.Millisecond))
				r.current(t)
				v := r.b.View()
				now := time.Now().UnixMilli()
				publish(t, r, map[string]any{"breaker": "usda", "from": "closed", "to": to, "inc": v.Incarnation,
					"gen": 1_000_000_000, "open_until_ms": 0, "at_ms": now})
				testwait.For(t, 10*time.Second, "the shared breaker to trip", func() bool {
					if err := r.b.Do(ctx, failing); err != nil && !errors.Is(err, errUpstream) && !errors.Is(err, ErrOpen) {
						t.Fatalf("call: %v", err)
					}
					s, err := r.b.State(ctx)
					return err == nil && s.State == Open
				})
			})
		}
	})
}
