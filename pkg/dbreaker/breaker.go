package dbreaker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
)

// Breaker guards calls to one upstream. Its state lives in a Store shared by
// every replica that uses the same name. Safe for concurrent use. Close it
// when done, so the store stops telling it of transitions and its queued
// reports are flushed.
type Breaker struct {
	name   string
	store  Store
	cfg    Config
	policy Policy
	clock  clock.Clock
	logger *slog.Logger
	obs    observers

	// remote: the store does I/O (calls get StoreTimeout, failures degrade
	// to local); local is the in-memory breaker used meanwhile.
	remote bool
	local  *MemoryStore

	tokenPrefix string
	tokenSeq    atomic.Uint64

	// view is what this replica knows of the shared state (see view.go).
	view          atomic.Pointer[view]
	viewMu        sync.Mutex
	viewChanged   func(State) // tests and benchmarks: called under viewMu
	confirmer     confirmer
	corruptLogged atomic.Bool
	reported      recentTransitions

	unwatch func()
	// grouped: a store whose acquires and reports go in group commits.
	grouped  groupedStore
	acquires groupCommit[acquireCall]
	reports  groupCommit[Report]

	queue     *reportQueue // Fast mode on a batching store
	closeOnce sync.Once
	closed    atomic.Bool

	stale       atomic.Int64
	storeErrors atomic.Int64
	fallbacks   atomic.Int64
	confirmed   atomic.Int64
}

// New returns a breaker named name on store. It validates the name and the
// config (errors name the field and the value) and sends nothing to the
// store; a RedisStore starts its event subscription for it.
func New(name string, store Store, cfg Config, opts ...Option) (*Breaker, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, invalid("store", nil, fmt.Sprintf("New(%q) was given a nil store", name))
	}
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	o, err := resolve("New", opts, "WithClock", "WithLogger", "WithObserver")
	if err != nil {
		return nil, err
	}
	var seed [6]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, fmt.Errorf("dbreaker: New(%q): probe token seed: %w", name, err)
	}
	b := &Breaker{
		name:        name,
		store:       store,
		cfg:         cfg,
		policy:      cfg.policy(),
		clock:       o.clock,
		logger:      o.logger,
		obs:         o.observers,
		tokenPrefix: hex.EncodeToString(seed[:]) + ":",
		unwatch:     func() {},
	}
	if _, inproc := store.(inProcess); !inproc {
		b.remote = true
		b.local = newMemoryStore(o.clock)
	}
	b.confirmer = confirmer{b: b, spawn: func(fn func()) { fn() }}
	if sp, ok := store.(spawner); ok {
		b.confirmer.spawn = func(fn func()) {
			if !sp.background(fn) {
				fn()
			}
		}
	}
	if g, ok := store.(groupedStore); ok {
		b.grouped = g
		b.acquires = groupCommit[acquireCall]{spawn: g.background, send: b.sendAcquires, abandon: b.abandonAcquire}
		b.reports = groupCommit[Report]{spawn: g.background, send: b.sendReports}
	}
	if w, ok := store.(watchable); ok {
		b.unwatch = w.watch(name, b)
	}
	if q, ok := store.(batching); ok && cfg.Consistency == Fast {
		b.queue = q.newQueue(b)
	}
	return b, nil
}

// Name returns the breaker's name.
func (b *Breaker) Name() string { return b.name }

// Config returns the breaker's config with defaults applied.
func (b *Breaker) Config() Config { return b.cfg }

// Close stops the store's events for this breaker and flushes its queued
// reports (Fast mode), within ctx. The breaker keeps working afterwards,
// without events (as on a store whose event stream is down): it asks the
// store for every call and reports every outcome at once.
func (b *Breaker) Close(ctx context.Context) error {
	var err error
	b.closeOnce.Do(func() {
		b.closed.Store(true)
		b.unwatch()
		if b.queue != nil {
			err = b.queue.close(ctx)
		}
	})
	return err
}

// Stats are counters kept by this replica.
type Stats struct {
	// StaleReports: outcomes the store discarded because the breaker had
	// moved on (a call admitted before a transition, or a lapsed probe
	// lease). In Fast mode this is the overshoot after a trip.
	StaleReports int64
	// StoreErrors: store calls that failed.
	StoreErrors int64
	// LocalDecisions: calls decided by the store-failure policy (a local
	// breaker, fail open or fail closed) because the store was unavailable.
	LocalDecisions int64
	// ConfirmedEvents: events this replica read the store to confirm before
	// believing them (operator actions, a generation it missed, a new
	// incarnation, or an event nobody in the fleet sent).
	ConfirmedEvents int64
}

// Stats returns this replica's counters.
func (b *Breaker) Stats() Stats {
	return Stats{StaleReports: b.stale.Load(), StoreErrors: b.storeErrors.Load(), LocalDecisions: b.fallbacks.Load(),
		ConfirmedEvents: b.confirmed.Load()}
}

// inProcess marks stores that do no I/O: their calls need no timeout and
// cannot fail for want of a connection.
type inProcess interface{ inProcess() }

// watchable stores tell breakers of transitions committed by other
// replicas.
type watchable interface {
	// watch registers b for events about name; the func unregisters it.
	watch(name string, b *Breaker) func()
	// events returns the epoch of the event stream (it changes whenever
	// events may have been missed) and whether the stream is live now.
	events() (epoch uint64, live bool)
}

// batching stores take Fast-mode reports in per-breaker queues.
type batching interface {
	newQueue(b *Breaker) *reportQueue
}

// degradable stores can be unavailable; while Degraded is true their
// breakers decide locally without trying them.
type degradable interface {
	Degraded() bool
}

// spawner stores run background work that their Close waits for; after
// Close they run none and say so.
type spawner interface {
	background(fn func()) bool
}

// groupedStore stores take acquires in batches (see group.go), run the
// group commits' background work, and can give back a probe slot that an
// acquire which failed on the client may still have taken (trying for
// as long as the store timeout allows each time, until Redis takes it).
type groupedStore interface {
	spawner
	acquireBatch(ctx context.Context, name string, p Policy, tokens []string) ([]Decision, error)
	releaseProbe(name, token string, timeout time.Duration)
}

// storeContext bounds a store call by StoreTimeout, with errStoreTimeout
// as the cause, so the store tells its own timeout from the caller's.
func (b *Breaker) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if !b.remote {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, b.cfg.StoreTimeout, errStoreTimeout)
}

func (b *Breaker) storeFailed(op string, err error) {
	b.storeErrors.Add(1)
	b.obs.OnStoreError(b.name, op, err)
	b.logger.Debug("[CIRCUIT_BREAKER] store call failed", "breaker", b.name, "op", op, "error", err)
}

// degraded reports whether the store is known to be unavailable (an
// in-process store never is).
func (b *Breaker) degraded() bool {
	d, ok := b.store.(degradable)
	return ok && b.remote && d.Degraded()
}

// decidesLocally reports whether this replica's local breaker decides now:
// the store is unavailable and the policy is FallbackLocal.
func (b *Breaker) decidesLocally() bool {
	return b.local != nil && b.cfg.OnStoreFailure == FallbackLocal && b.degraded()
}
