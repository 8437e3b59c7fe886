package main

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
)

// queries are the foods the virtual users ask about; each has a match in
// the fake upstream's data.
var queries = []string{
	"chicken breast", "banana", "white rice", "apple", "egg", "oatmeal",
	"salmon", "broccoli", "whole milk", "white bread", "cheddar cheese",
	"potato", "orange", "yogurt", "peanut butter", "spinach",
}

// target is where a virtual user sends a request: a live replica.
type target interface {
	serve(ctx context.Context, query string)
}

// load runs virtual users until stop is closed or the request limit is
// reached. Each user sends a request, waits for the answer, pauses for a
// think time drawn uniformly from [0.5, 1.5] × think, and starts again.
type load struct {
	clock   clock.Clock
	think   time.Duration
	seed    uint64
	limit   int64 // 0: none
	started atomic.Int64
	pick    func(vu int) target // nil when no replica is left
}

// run starts the users numbered vus and returns when every one has
// stopped. Requests in flight when stop closes run to their end, under
// ctx (cancelled only when the whole tool is interrupted).
func (l *load) run(ctx context.Context, stop <-chan struct{}, vus []int) {
	var wg sync.WaitGroup
	for _, vu := range vus {
		wg.Go(func() { l.user(ctx, stop, vu) })
	}
	wg.Wait()
}

func (l *load) user(ctx context.Context, stop <-chan struct{}, vu int) {
	rng := rand.New(rand.NewPCG(l.seed, uint64(vu)))
	// Users start spread over one think time, not all at once.
	if !l.pause(ctx, stop, time.Duration(rng.Float64()*float64(l.think))) {
		return
	}
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		if l.limit > 0 && l.started.Add(1) > l.limit {
			return
		}
		t := l.pick(vu)
		if t == nil {
			return
		}
		t.serve(ctx, queries[rng.IntN(len(queries))])
		if !l.pause(ctx, stop, time.Duration((0.5+rng.Float64())*float64(l.think))) {
			return
		}
	}
}

// pause waits d; false when the run stops meanwhile.
func (l *load) pause(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := l.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
}

// every calls fn at each tick of period until stop closes.
func every(clock clock.Clock, period time.Duration, stop <-chan struct{}, fn func(now time.Time)) {
	for {
		t := clock.NewTimer(period)
		select {
		case now := <-t.C():
			fn(now)
		case <-stop:
			t.Stop()
			return
		}
	}
}

// at calls fn once when d has passed since start, unless stop closes first.
func at(clock clock.Clock, start time.Time, d time.Duration, stop <-chan struct{}, fn func(now time.Time)) {
	wait := d - clock.Now().Sub(start)
	if wait > 0 {
		t := clock.NewTimer(wait)
		select {
		case <-t.C():
		case <-stop:
			t.Stop()
			return
		}
	}
	fn(clock.Now())
}
