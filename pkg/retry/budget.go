package retry

import (
	"math"
	"sync"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
)

// Defaults used for the zero fields of a BudgetConfig.
const (
	DefaultBudgetRatio               = 0.1
	DefaultBudgetMinRetriesPerSecond = 1.0
	DefaultBudgetWindow              = 10 * time.Second
)

// NoMinRetries, as BudgetConfig.MinRetriesPerSecond, removes the floor: only
// deposits pay for retries.
const NoMinRetries = -1

// budgetSlots is the number of slots a window is split into; deposits and
// withdrawals leave the window one slot at a time.
const budgetSlots = 10

// minBudgetWindow keeps each slot at least a millisecond long.
const minBudgetWindow = budgetSlots * time.Millisecond

// BudgetConfig configures a Budget. Its zero value is the default: retries
// may add 10 % to the first attempts of the last 10 s, plus one retry per
// second whatever the traffic.
type BudgetConfig struct {
	// Ratio is the share of a token each first attempt deposits, in (0, 1];
	// 0 means DefaultBudgetRatio (0.1). A retry costs one token.
	Ratio float64
	// MinRetriesPerSecond is the floor: retries allowed per second even
	// without deposits, so that an upstream with little traffic can still be
	// retried. 0 means DefaultBudgetMinRetriesPerSecond (1); NoMinRetries
	// (-1) means none. Other negative values, NaN and infinities are invalid.
	MinRetriesPerSecond float64
	// Window is how long deposits and withdrawals count; older ones expire,
	// so a long quiet or healthy spell does not bank retries for later. 0
	// means DefaultBudgetWindow (10 s); otherwise it must be at least 10 ms.
	Window time.Duration
}

// Budget limits the retries of every call to one upstream, across all the
// goroutines that share it, so that a failing upstream sees at most a small
// share of extra load instead of a retry storm. Over any Window, retries are
// allowed while
//
//	withdrawals < Ratio × first attempts + MinRetriesPerSecond × Window
//
// (deposits and withdrawals expire in ten steps of Window/10). A Policy
// given it (WithBudget) deposits for each first attempt and withdraws one token before each retry; when no
// whole token is left it stops with ErrBudgetExhausted.
//
// A Budget is safe for concurrent use. Create it with NewBudget, or use the
// zero value for the defaults; do not copy it after first use.
type Budget struct {
	mu    sync.Mutex
	ready bool
	ratio float64
	floor float64 // tokens the floor grants per window
	slot  time.Duration
	clock clock.Clock
	start time.Time
	cur   int64 // number of the current slot since start

	deposits       [budgetSlots]int64
	withdrawals    [budgetSlots]int64
	sumDeposits    int64
	sumWithdrawals int64
}

// NewBudget validates cfg and returns a Budget, or a *config.Error naming
// the first invalid field or option. It takes WithClock.
func NewBudget(cfg BudgetConfig, opts ...Option) (*Budget, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var o options
	if err := o.apply("NewBudget", opts, "WithClock"); err != nil {
		return nil, err
	}
	b := &Budget{}
	b.init(cfg, o.clock)
	return b, nil
}

func (cfg *BudgetConfig) validate() error {
	if math.IsNaN(cfg.Ratio) || cfg.Ratio < 0 || cfg.Ratio > 1 {
		return invalid("Ratio", cfg.Ratio, "must be in (0, 1] (0 means the default 0.1)")
	}
	m := cfg.MinRetriesPerSecond
	if math.IsNaN(m) || math.IsInf(m, 0) || (m < 0 && m != NoMinRetries) {
		return invalid("MinRetriesPerSecond", m, "must be a finite number ≥ 0 (0 means the default 1), or NoMinRetries (-1)")
	}
	if cfg.Window < 0 || (cfg.Window > 0 && cfg.Window < minBudgetWindow) {
		return invalid("Window", cfg.Window, "must be at least "+minBudgetWindow.String()+" (0 means the default 10s)")
	}
	return nil
}

// init fills in the defaults of a valid cfg and reads time from c (nil:
// the real clock); b.mu is held or b is new.
func (b *Budget) init(cfg BudgetConfig, c clock.Clock) {
	ratio, perSecond, window := cfg.Ratio, cfg.MinRetriesPerSecond, cfg.Window
	if ratio == 0 {
		ratio = DefaultBudgetRatio
	}
	switch perSecond {
	case 0:
		perSecond = DefaultBudgetMinRetriesPerSecond
	case NoMinRetries:
		perSecond = 0
	}
	if window == 0 {
		window = DefaultBudgetWindow
	}
	b.clock = c
	if b.clock == nil {
		b.clock = clock.Real()
	}
	b.ratio = ratio
	b.floor = perSecond * window.Seconds()
	b.slot = window / budgetSlots
	b.start = b.clock.Now()
	b.ready = true
}

// advance expires the slots that left the window by now; b.mu is held.
func (b *Budget) advance() {
	if !b.ready {
		b.init(BudgetConfig{}, nil)
	}
	idx := int64(b.clock.Now().Sub(b.start) / b.slot)
	if idx <= b.cur {
		return // same slot, or a clock that went back
	}
	steps := min(idx-b.cur, budgetSlots)
	for i := int64(1); i <= steps; i++ {
		j := (b.cur + i) % budgetSlots
		b.sumDeposits -= b.deposits[j]
		b.sumWithdrawals -= b.withdrawals[j]
		b.deposits[j], b.withdrawals[j] = 0, 0
	}
	b.cur = idx
}

// tokens is the balance; b.mu is held and the window advanced.
func (b *Budget) tokens() float64 {
	return b.floor + b.ratio*float64(b.sumDeposits) - float64(b.sumWithdrawals)
}

// Deposit records a first attempt.
func (b *Budget) Deposit() {
	b.mu.Lock()
	b.advance()
	b.deposits[b.cur%budgetSlots]++
	b.sumDeposits++
	b.mu.Unlock()
}

// Withdraw takes one token for a retry and reports whether there was one.
func (b *Budget) Withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance()
	// The tolerance absorbs rounding in Ratio×deposits (0.29×100 is
	// 28.999999999999996 in floating point).
	if b.tokens() < 1-1e-9 {
		return false
	}
	b.withdrawals[b.cur%budgetSlots]++
	b.sumWithdrawals++
	return true
}

// Available returns the tokens left in the current window, for metrics and
// tests; a retry needs a whole one.
func (b *Budget) Available() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance()
	return b.tokens()
}
