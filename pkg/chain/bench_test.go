package chain_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/metrics"
	"github.com/healthagent/resilience/pkg/retry"
	"github.com/prometheus/client_golang/prometheus"
)

// answer stands for the call a step makes; it is not inlined, so direct and
// chained calls pay for the same function call.
//
//go:noinline
func answer(context.Context) (int, error) { return 42, nil }

var errBench = errors.New("upstream down")

//go:noinline
func fails(context.Context) (int, error) { return 0, errBench }

var sink int

// threeSteps is the shape of the bot's chains: primary, fallback, cache.
func threeSteps(b *testing.B, first func(context.Context) (int, error), opts ...chain.Option) *chain.Chain[int] {
	b.Helper()
	c, err := chain.New("text", []chain.Step[int]{
		{Name: "anthropic", Fn: first},
		{Name: "openai", Fn: answer},
		{Name: "cache", Degraded: true, Fn: answer},
	}, append([]chain.Option{chain.WithLogger(discardLogger())}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkDirect(b *testing.B) {
	ctx := context.Background()
	fn := answer
	for b.Loop() {
		v, err := fn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
}

func BenchmarkChainFirstStepSucceeds(b *testing.B) {
	ctx := context.Background()
	c := threeSteps(b, answer)
	for b.Loop() {
		res, err := c.Execute(ctx)
		if err != nil {
			b.Fatal(err)
		}
		sink = res.Value
	}
}

// BenchmarkChainFirstStepSucceedsWithMetrics adds the fallback metrics'
// observer, as production chains have it.
func BenchmarkChainFirstStepSucceedsWithMetrics(b *testing.B) {
	ctx := context.Background()
	m, err := metrics.NewFallbacks(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	c := threeSteps(b, answer, chain.WithObserver(m))
	for b.Loop() {
		res, err := c.Execute(ctx)
		if err != nil {
			b.Fatal(err)
		}
		sink = res.Value
	}
}

// BenchmarkChainFirstStepSucceedsWithTimeouts adds a total deadline and a
// step timeout: each costs a context.WithTimeout per run.
func BenchmarkChainFirstStepSucceedsWithTimeouts(b *testing.B) {
	ctx := context.Background()
	c, err := chain.New("text", []chain.Step[int]{
		{Name: "anthropic", Timeout: 10 * time.Second, Fn: answer},
		{Name: "openai", Fn: answer},
		{Name: "cache", Fn: answer},
	}, chain.WithLogger(discardLogger()), chain.WithTimeout(20*time.Second))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := c.Execute(ctx)
		if err != nil {
			b.Fatal(err)
		}
		sink = res.Value
	}
}

// BenchmarkChainFallback measures the failure path: the first step fails
// (logged, to a discarding handler) and the second serves.
func BenchmarkChainFallback(b *testing.B) {
	ctx := context.Background()
	c := threeSteps(b, fails)
	for b.Loop() {
		res, err := c.Execute(ctx)
		if err != nil || res.Index != 1 {
			b.Fatal(res, err)
		}
		sink = res.Value
	}
}

func newBenchGuard(b *testing.B, withBreaker bool, obs chain.Observer) *chain.Guard {
	b.Helper()
	cfg := chain.GuardConfig{AttemptTimeout: 20 * time.Second, Retry: newPolicy(b, "openai", retry.Config{})}
	var opts []chain.Option
	if obs != nil {
		opts = append(opts, chain.WithObserver(obs))
	}
	if withBreaker {
		br, err := dbreaker.New("openai", memStore(b), dbreaker.Config{}, dbreaker.WithLogger(discardLogger()))
		if err != nil {
			b.Fatal(err)
		}
		cfg.Breaker = br
	}
	g, err := chain.NewGuard("openai", cfg, opts...)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// BenchmarkGuardSuccess is the Guard's success path: retry, a MemoryStore
// breaker (acquire and report), the attempt timeout, one call.
func BenchmarkGuardSuccess(b *testing.B) {
	ctx := context.Background()
	g := newBenchGuard(b, true, nil)
	for b.Loop() {
		v, err := chain.Execute(ctx, g, answer)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
}

// BenchmarkGuardSuccessWithMetrics adds the API metrics' observer.
func BenchmarkGuardSuccessWithMetrics(b *testing.B) {
	ctx := context.Background()
	m, err := metrics.NewAPIs(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	g := newBenchGuard(b, true, m)
	for b.Loop() {
		v, err := chain.Execute(ctx, g, answer)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
}

// BenchmarkGuardSuccessNoBreaker is the Guard with breakers switched off.
func BenchmarkGuardSuccessNoBreaker(b *testing.B) {
	ctx := context.Background()
	g := newBenchGuard(b, false, nil)
	for b.Loop() {
		v, err := chain.Execute(ctx, g, answer)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
}
