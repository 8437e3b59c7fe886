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

func BenchmarkExecuteSuccess(b *testing.B) {
	ctx := context.Background()
	p := newPolicy(b, "", Config{})
	for b.Loop() {
		v, err := Execute(ctx, p, lookup)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
}

func BenchmarkExecuteSuccessNilPolicy(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		v, err := Execute(ctx, nil, lookup)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
}

// stopCounter is an Observer that counts stops.
type stopCounter struct {
	NopObserver
	n int
}

func (c *stopCounter) OnStop(context.Context, StopEvent) { c.n++ }

// BenchmarkExecuteSuccessBudgetAndHooks adds what a production policy has:
// a budget deposit (real clock) and an observer.
func BenchmarkExecuteSuccessBudgetAndHooks(b *testing.B) {
	ctx := context.Background()
	budget, err := NewBudget(BudgetConfig{})
	if err != nil {
		b.Fatal(err)
	}
	stops := &stopCounter{}
	p := newPolicy(b, "openai", Config{}, WithBudget(budget), WithObserver(stops))
	for b.Loop() {
		v, err := Execute(ctx, p, lookup)
		if err != nil {
			b.Fatal(err)
		}
		sink = v
	}
	if stops.n == 0 {
		b.Fatal("OnStop never called")
	}
}

func BenchmarkDoSuccess(b *testing.B) {
	ctx := context.Background()
	p := newPolicy(b, "", Config{})
	fn := func(ctx context.Context) error { _, err := lookup(ctx); return err }
	for b.Loop() {
		if err := p.Do(ctx, fn); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecuteOneRetry measures the failure path: one retryable
// failure, a zero wait, then success.
func BenchmarkExecuteOneRetry(b *testing.B) {
	ctx := context.Background()
	p := newPolicy(b, "", Config{Jitter: JitterFull}, WithRand(func() float64 { return 0 }))
	for b.Loop() {
		s := &script{errs: []error{errReset}}
		if _, err := Execute(ctx, p, s.fn); err != nil {
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
