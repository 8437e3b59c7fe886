package retry

import (
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthagent/resilience/pkg/config"
)

func TestNewBudgetValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   BudgetConfig
		field string // "" when valid
	}{
		{"zero", BudgetConfig{}, ""},
		{"ratio one", BudgetConfig{Ratio: 1}, ""},
		{"no floor", BudgetConfig{MinRetriesPerSecond: NoMinRetries}, ""},
		{"shortest window", BudgetConfig{Window: 10 * time.Millisecond}, ""},
		{"negative ratio", BudgetConfig{Ratio: -0.1}, "Ratio"},
		{"ratio above one", BudgetConfig{Ratio: 1.5}, "Ratio"},
		{"NaN ratio", BudgetConfig{Ratio: math.NaN()}, "Ratio"},
		{"negative floor", BudgetConfig{MinRetriesPerSecond: -2}, "MinRetriesPerSecond"},
		{"NaN floor", BudgetConfig{MinRetriesPerSecond: math.NaN()}, "MinRetriesPerSecond"},
		{"infinite floor", BudgetConfig{MinRetriesPerSecond: math.Inf(1)}, "MinRetriesPerSecond"},
		{"negative window", BudgetConfig{Window: -time.Second}, "Window"},
		{"window too short", BudgetConfig{Window: 5 * time.Millisecond}, "Window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewBudget(tt.cfg)
			if tt.field == "" {
				if err != nil || b == nil {
					t.Fatalf("NewBudget = %v, %v; want a budget", b, err)
				}
				return
			}
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Fatalf("NewBudget error = %v, want a *config.Error for %s", err, tt.field)
			}
			if b != nil {
				t.Error("NewBudget returned a budget with an error")
			}
			if !strings.Contains(err.Error(), "retry: invalid "+tt.field+" = ") {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
}

// withdrawAll withdraws until refused and returns how many succeeded.
func withdrawAll(t *testing.T, b *Budget) int {
	t.Helper()
	n := 0
	for b.Withdraw() {
		n++
		if n > 1_000_000 {
			t.Fatal("the budget never runs out")
		}
	}
	return n
}

func TestBudgetDepositsAndFloor(t *testing.T) {
	tests := []struct {
		name     string
		cfg      BudgetConfig
		deposits int
		want     int // retries allowed
	}{
		{"no traffic, no floor", BudgetConfig{MinRetriesPerSecond: NoMinRetries}, 0, 0},
		{"nine deposits make 0.9 token", BudgetConfig{MinRetriesPerSecond: NoMinRetries}, 9, 0},
		{"ten deposits make one token", BudgetConfig{MinRetriesPerSecond: NoMinRetries}, 10, 1},
		{"25 deposits make 2.5 tokens", BudgetConfig{MinRetriesPerSecond: NoMinRetries}, 25, 2},
		{"ratio 0.29 is not hurt by rounding", BudgetConfig{Ratio: 0.29, MinRetriesPerSecond: NoMinRetries}, 100, 29},
		{"default floor: 1/s over 10 s", BudgetConfig{}, 0, 10},
		{"floor 0.5/s over 4 s", BudgetConfig{MinRetriesPerSecond: 0.5, Window: 4 * time.Second}, 0, 2},
		{"floor and deposits add up", BudgetConfig{}, 30, 13},
		{"ratio one", BudgetConfig{Ratio: 1, MinRetriesPerSecond: NoMinRetries}, 7, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewBudget(tt.cfg, WithClock(newClock()))
			if err != nil {
				t.Fatal(err)
			}
			for range tt.deposits {
				b.Deposit()
			}
			if got := withdrawAll(t, b); got != tt.want {
				t.Errorf("%d retries allowed, want %d", got, tt.want)
			}
			if got := b.Available(); got >= 1 {
				t.Errorf("Available() = %v after running out, want < 1", got)
			}
		})
	}
}

func TestBudgetExpiresOldDeposits(t *testing.T) {
	clock := newClock()
	b, err := NewBudget(BudgetConfig{MinRetriesPerSecond: NoMinRetries, Window: 10 * time.Second}, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		b.Deposit()
	}
	steps := []struct {
		advance time.Duration
		want    float64
	}{
		{0, 10},
		{5 * time.Second, 10},
		{4999 * time.Millisecond, 10}, // 9.999 s after the deposits: still in the window
		{time.Millisecond, 0},         // 10 s: gone
		{time.Hour, 0},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		if got := b.Available(); got != st.want {
			t.Fatalf("after advancing %s: Available() = %v, want %v", st.advance, got, st.want)
		}
	}
}

func TestBudgetWithdrawalsExpireToo(t *testing.T) {
	clock := newClock()
	b, err := NewBudget(BudgetConfig{MinRetriesPerSecond: 1, Window: 10 * time.Second}, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	if got := withdrawAll(t, b); got != 10 {
		t.Fatalf("first window: %d retries, want 10", got)
	}
	clock.Advance(5 * time.Second)
	if got := withdrawAll(t, b); got != 0 {
		t.Fatalf("same window: %d retries, want 0", got)
	}
	clock.Advance(5 * time.Second)
	if got := withdrawAll(t, b); got != 10 {
		t.Fatalf("next window: %d retries, want 10", got)
	}
}

// TestBudgetDoesNotBankHealthyTraffic: a long healthy spell leaves no more
// tokens than one window of traffic earns.
func TestBudgetDoesNotBankHealthyTraffic(t *testing.T) {
	clock := newClock()
	b, err := NewBudget(BudgetConfig{MinRetriesPerSecond: NoMinRetries, Window: 10 * time.Second}, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	var atMinute float64
	for sec := 1; sec <= 120; sec++ {
		for range 100 {
			b.Deposit()
		}
		clock.Advance(time.Second)
		if sec == 60 {
			atMinute = b.Available()
		}
	}
	// Deposits made at t = 51…59 s are still inside the window at 60 s
	// (those at 50 s are exactly Window old): 9 s × 100 × 0.1.
	if want := 9 * 100 * 0.1; math.Abs(atMinute-want) > 1e-9 {
		t.Errorf("after 60 s of traffic: Available() = %v, want %v", atMinute, want)
	}
	if got := b.Available(); math.Abs(got-atMinute) > 1e-9 {
		t.Errorf("after 120 s: Available() = %v, want it unchanged from 60 s (%v)", got, atMinute)
	}
}

func TestBudgetClockGoingBack(t *testing.T) {
	clock := newClock()
	b, err := NewBudget(BudgetConfig{MinRetriesPerSecond: NoMinRetries}, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	for range 20 {
		b.Deposit()
	}
	clock.Advance(-30 * time.Second)
	if got := b.Available(); got != 2 {
		t.Errorf("Available() = %v after the clock went back, want 2", got)
	}
}

func TestBudgetZeroValueUsesDefaults(t *testing.T) {
	var b Budget
	// Default floor: 1 retry per second over a 10 s window, on the real
	// clock; the withdrawals could only expire if this loop took 10 s.
	if got := withdrawAll(t, &b); got != 10 {
		t.Errorf("zero Budget allowed %d retries, want 10", got)
	}
}

func TestBudgetConcurrentUse(t *testing.T) {
	const (
		goroutines = 8
		perG       = 500
	)
	clock := newClock()
	b, err := NewBudget(BudgetConfig{}, WithClock(clock)) // floor 10 per window
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range perG {
				b.Deposit()
			}
		})
	}
	wg.Wait()
	var granted atomic.Int64
	for range goroutines {
		wg.Go(func() {
			for range perG {
				if b.Withdraw() {
					granted.Add(1)
				}
				_ = b.Available()
			}
		})
	}
	wg.Wait()
	// 4000 deposits × 0.1 + floor 10.
	if got, want := granted.Load(), int64(goroutines*perG/10+10); got != want {
		t.Errorf("%d retries granted concurrently, want exactly %d", got, want)
	}
}
