package dbreaker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// Breaker guards calls to one upstream. Its state lives in a Store shared by
// every replica that uses the same name. Safe for concurrent use.
type Breaker struct {
	name   string
	store  Store
	cfg    Config
	policy Policy
	clock  Clock
	logger *slog.Logger
	obs    observers

	tokenPrefix string
	tokenSeq    atomic.Uint64

	// open caches a known-open state so rejections cost no store call.
	open          atomic.Pointer[openMark]
	corruptLogged atomic.Bool

	stale       atomic.Int64
	storeErrors atomic.Int64
}

// openMark: the breaker is open until `until` by the local clock (converted
// from the store's clock with the store's own reading, so clock skew between
// replica and store does not matter).
type openMark struct {
	until time.Time
	gen   int64
}

type options struct {
	clock     Clock
	logger    *slog.Logger
	observers observers
}

// Option configures a Breaker.
type Option func(*options)

// WithClock sets the clock used to time calls and hold a known-open state
// (default: the system clock).
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger sets the logger (default slog.Default()). Messages start with
// "[CIRCUIT_BREAKER]".
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithObserver adds an observer (metrics, tests); it may be given several
// times.
func WithObserver(o Observer) Option {
	return func(opts *options) { opts.observers = append(opts.observers, o) }
}

// New returns a breaker named name on store. It validates the name and the
// config (errors name the field and the value) and sends nothing to the store.
func New(name string, store Store, cfg Config, opts ...Option) (*Breaker, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, fmt.Errorf("dbreaker: New(%q): nil store", name)
	}
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	o := options{clock: SystemClock(), logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil || o.logger == nil || slices.Contains(o.observers, nil) {
		return nil, fmt.Errorf("dbreaker: New(%q): nil clock, logger or observer option", name)
	}
	var seed [6]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, fmt.Errorf("dbreaker: New(%q): probe token seed: %w", name, err)
	}
	return &Breaker{
		name:        name,
		store:       store,
		cfg:         cfg,
		policy:      cfg.policy(),
		clock:       o.clock,
		logger:      o.logger,
		obs:         o.observers,
		tokenPrefix: hex.EncodeToString(seed[:]) + ":",
	}, nil
}

// Name returns the breaker's name.
func (b *Breaker) Name() string { return b.name }

// Config returns the breaker's config with defaults applied.
func (b *Breaker) Config() Config { return b.cfg }

// Permit is one admitted call. Call Done exactly once with the call's error;
// later calls of Done do nothing.
type Permit struct {
	b     *Breaker
	ctx   context.Context
	gen   int64
	token string // set for a probe only
	state State
	start time.Time
	done  atomic.Bool
}

// Probe reports whether the call holds a half-open probe slot.
func (p *Permit) Probe() bool { return p.token != "" }

// Generation is the breaker generation the call was admitted in.
func (p *Permit) Generation() int64 { return p.gen }

// Allow asks to admit one call. It returns a *RejectedError (ErrOpen,
// ErrForcedOpen, ErrTooManyProbes) when the breaker refuses. While the
// replica knows the breaker is open it rejects without asking the store.
func (b *Breaker) Allow(ctx context.Context) (*Permit, error) {
	now := b.clock.Now()
	if m := b.open.Load(); m != nil && now.Before(m.until) {
		b.obs.OnCall(b.name, ResultRejected)
		return nil, &RejectedError{Breaker: b.name, State: Open, RetryAfter: m.until.Sub(now), reason: ErrOpen}
	}
	token := b.tokenPrefix + strconv.FormatUint(b.tokenSeq.Add(1), 10)
	sctx, cancel := b.storeContext(ctx)
	d, err := b.store.Acquire(sctx, b.name, b.policy, token)
	cancel()
	if err != nil {
		b.storeFailed("acquire", err)
		b.obs.OnCall(b.name, ResultStoreUnavailable)
		return nil, fmt.Errorf("%w: breaker %q: %w", ErrStoreUnavailable, b.name, err)
	}
	b.observe(now, d.Snapshot, d.Transitions)
	if !d.Allowed {
		if d.Reason == ErrTooManyProbes {
			b.obs.OnCall(b.name, ResultRejectedProbes)
		} else {
			b.obs.OnCall(b.name, ResultRejected)
		}
		return nil, &RejectedError{Breaker: b.name, State: d.Snapshot.State, RetryAfter: d.Snapshot.RetryAfter(), reason: d.Reason}
	}
	p := &Permit{b: b, ctx: ctx, gen: d.Snapshot.Generation, state: d.Snapshot.State, start: now}
	if d.Probe {
		p.token = token
	}
	return p, nil
}

// Done reports the call's outcome (classified by Config.Classify, timed from
// the start of Allow). In Strict mode the report reaches the store before Done returns.
// The report outlives a cancelled call context: it uses the context given to
// Allow without its cancellation, bounded by StoreTimeout.
func (p *Permit) Done(err error) {
	if p == nil || !p.done.CompareAndSwap(false, true) {
		return
	}
	b := p.b
	outcome := b.cfg.Classify(err)
	b.obs.OnCall(b.name, CallResult(outcome)) // Success, Failure, Ignored share their values
	if p.state == Disabled || outcome == Ignored && p.token == "" {
		return // nothing for the store to count
	}
	now := b.clock.Now()
	r := Report{
		Generation: p.gen,
		Token:      p.token,
		Outcome:    outcome,
		Slow:       now.Sub(p.start) >= b.cfg.SlowCallDuration,
		Count:      1,
	}
	if outcome == Failure && err != nil {
		r.Error = RedactErrorText(err.Error())
	}
	ctx, cancel := b.storeContext(context.WithoutCancel(p.ctx))
	res, rerr := b.store.Report(ctx, b.name, b.policy, []Report{r})
	cancel()
	if rerr != nil {
		b.storeFailed("report", rerr)
		return
	}
	if res.Stale > 0 {
		b.stale.Add(int64(res.Stale))
		b.obs.OnStale(b.name, res.Stale)
	}
	b.observe(now, res.Snapshot, res.Transitions)
}

// Do runs fn if the breaker admits it and reports its outcome. A panic in fn
// is reported as a failure and re-raised.
func (b *Breaker) Do(ctx context.Context, fn func(context.Context) error) error {
	_, err := Execute(ctx, b, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(ctx)
	})
	return err
}

// Execute runs fn if b admits it and reports its outcome. A panic in fn is
// reported as a failure and re-raised.
func Execute[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error)) (T, error) {
	p, err := b.Allow(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	defer func() {
		if r := recover(); r != nil {
			p.Done(fmt.Errorf("dbreaker: call panicked: %v", r))
			panic(r)
		}
	}()
	v, err := fn(ctx)
	p.Done(err)
	return v, err
}

// State returns the breaker's shared state, read from the store.
func (b *Breaker) State(ctx context.Context) (Snapshot, error) {
	sctx, cancel := b.storeContext(ctx)
	defer cancel()
	s, err := b.store.Snapshot(sctx, b.name, b.policy)
	if err != nil {
		b.storeFailed("snapshot", err)
		return Snapshot{}, err
	}
	b.observe(b.clock.Now(), s, nil)
	return s, nil
}

// ForceOpen makes every replica reject every call until Reset.
func (b *Breaker) ForceOpen(ctx context.Context) (Snapshot, error) {
	return b.override(ctx, ActionForceOpen)
}

// ForceClosed makes every replica admit every call, still counting outcomes
// but never tripping, until Reset.
func (b *Breaker) ForceClosed(ctx context.Context) (Snapshot, error) {
	return b.override(ctx, ActionForceClosed)
}

// Disable makes the breaker pass-through on every replica until Reset.
func (b *Breaker) Disable(ctx context.Context) (Snapshot, error) {
	return b.override(ctx, ActionDisable)
}

// Reset clears every counter, lease and override: closed, as new.
func (b *Breaker) Reset(ctx context.Context) (Snapshot, error) {
	return b.override(ctx, ActionReset)
}

func (b *Breaker) override(ctx context.Context, a Action) (Snapshot, error) {
	sctx, cancel := b.storeContext(ctx)
	defer cancel()
	s, transitions, err := b.store.Override(sctx, b.name, a)
	if err != nil {
		b.storeFailed("override", err)
		return Snapshot{}, err
	}
	b.logger.Info("[CIRCUIT_BREAKER] override applied", "breaker", b.name, "action", a.String(), "state", s.State.String(), "gen", s.Generation)
	b.observe(b.clock.Now(), s, transitions)
	return s, nil
}

// Stats are counters kept by this replica.
type Stats struct {
	// StaleReports: outcomes the store discarded because the breaker had
	// moved on (a call admitted before a transition, or a lapsed probe lease).
	StaleReports int64
	// StoreErrors: store calls that failed.
	StoreErrors int64
}

// Stats returns this replica's counters.
func (b *Breaker) Stats() Stats {
	return Stats{StaleReports: b.stale.Load(), StoreErrors: b.storeErrors.Load()}
}

// observe updates the local view from a store reply: transitions are logged,
// a corrupt state is logged once, and a known-open state is cached.
func (b *Breaker) observe(now time.Time, s Snapshot, transitions []Transition) {
	for _, t := range transitions {
		b.obs.OnTransition(t)
		b.logger.Info("[CIRCUIT_BREAKER] state changed", "breaker", b.name, "from", t.From.String(), "to", t.To.String(), "gen", t.Generation)
	}
	if s.Corrupt && b.corruptLogged.CompareAndSwap(false, true) {
		b.logger.Warn("[CIRCUIT_BREAKER] stored state is unreadable; treating it as closed until the next write repairs it", "breaker", b.name)
	}
	var next *openMark
	switch {
	case s.State == Open && s.RetryAfter() > 0:
		next = &openMark{until: now.Add(s.RetryAfter()), gen: s.Generation}
	case s.State == Open:
		return // no time to convert open_until with: keep what we know
	}
	for {
		cur := b.open.Load()
		if cur == nil && next == nil || cur != nil && cur.gen > s.Generation {
			return // nothing to clear, or a newer reply already set the view
		}
		if b.open.CompareAndSwap(cur, next) {
			return
		}
	}
}

// inProcess marks stores that do no I/O: their calls need no timeout.
type inProcess interface{ inProcess() }

// storeContext bounds a store call by StoreTimeout.
func (b *Breaker) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, local := b.store.(inProcess); local {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, b.cfg.StoreTimeout)
}

func (b *Breaker) storeFailed(op string, err error) {
	b.storeErrors.Add(1)
	b.obs.OnStoreError(b.name, op, err)
	b.logger.Warn("[CIRCUIT_BREAKER] store call failed", "breaker", b.name, "op", op, "error", err)
}
