package retry

import (
	"context"
	"testing"
)

// lookup stands for the call under retry; it is not inlined, so direct and
// retried calls pay for the same function call.
//
//go:noinline
func lookup(context.Context) (int, error) { return 42, nil }

var sink int

func BenchmarkDirectCall(b *testing.B) {
	ctx := context.Background()
	fn := lookup
	for b.Loop() {
		v, err := fn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
}

func BenchmarkDoSuccess(b *testing.B) {
	ctx := context.Background()
	p := &Policy{}
	for b.Loop() {
		v, err := Do(ctx, p, lookup)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
}

func BenchmarkDoSuccessNilPolicy(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		v, err := Do(ctx, nil, lookup)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
}

// BenchmarkDoSuccessBudgetAndHooks adds what a production policy has: a
// budget deposit (real clock) and an OnStop hook.
func BenchmarkDoSuccessBudgetAndHooks(b *testing.B) {
	ctx := context.Background()
	budget, err := NewBudget(BudgetConfig{})
	if err != nil {
		b.Fatal(err)
	}
	stops := 0
	p := &Policy{Name: "openai", Budget: budget, OnStop: func(context.Context, StopEvent) { stops++ }}
	for b.Loop() {
		v, err := Do(ctx, p, lookup)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
	if stops == 0 {
		b.Fatal("OnStop never called")
	}
}

func BenchmarkRunSuccess(b *testing.B) {
	ctx := context.Background()
	p := &Policy{}
	fn := func(ctx context.Context) error { _, err := lookup(ctx); return err }
	for b.Loop() {
		if err := Run(ctx, p, fn); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDoOneRetry measures the failure path: one retryable failure, a
// zero wait, then success.
func BenchmarkDoOneRetry(b *testing.B) {
	ctx := context.Background()
	p := &Policy{Jitter: JitterFull, Rand: func() float64 { return 0 }}
	for b.Loop() {
		s := &script{errs: []error{errReset}}
		if _, err := Do(ctx, p, s.fn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBudgetDepositParallel(b *testing.B) {
	budget, err := NewBudget(BudgetConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			budget.Deposit()
		}
	})
}
