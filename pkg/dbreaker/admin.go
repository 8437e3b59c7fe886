package dbreaker

import "context"

// State returns the state this replica applies: the shared state, read
// from the store, or, while the store is unavailable and the local breaker
// decides (FallbackLocal), the local breaker's, with Local set.
func (b *Breaker) State(ctx context.Context) (Snapshot, error) {
	if b.decidesLocally() {
		return b.appliedSnapshot(), nil
	}
	sctx, cancel := b.storeContext(ctx)
	defer cancel()
	now, epoch, start := b.clock.Now(), b.epoch(), b.view.Load()
	s, err := b.store.Snapshot(sctx, b.name, b.policy)
	if err != nil {
		if ctx.Err() != nil {
			return Snapshot{}, ctx.Err()
		}
		b.storeFailed("snapshot", err)
		if b.decidesLocally() {
			return b.appliedSnapshot(), nil
		}
		return Snapshot{}, err
	}
	b.observe(now, epoch, start, s, nil)
	return s, nil
}

// appliedSnapshot is the state this replica applies while the store is
// unavailable: a shared open state it knows of that has not ended (as
// Allow does), else its local breaker's.
func (b *Breaker) appliedSnapshot() Snapshot {
	now := b.clock.Now()
	if v := b.view.Load(); v.openAt(now) {
		return Snapshot{Name: b.name, State: Open, Underlying: Open, Incarnation: v.inc, Generation: v.gen, OpenUntil: v.until, StoreTime: now}
	}
	s, _ := b.local.Snapshot(context.Background(), b.name, b.policy) // in memory: never fails
	s.Local = true
	return s
}

// ForceOpen makes every replica reject every call until Reset. Like the
// other overrides, it is recorded in the breaker's log (RedisStore) with
// the operator named in ctx (ContextWithOperator).
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
	now, epoch, start := b.clock.Now(), b.epoch(), b.view.Load()
	s, transitions, err := b.store.Override(sctx, b.name, a)
	if err != nil {
		if ctx.Err() != nil {
			return Snapshot{}, ctx.Err()
		}
		b.storeFailed("override", err)
		return Snapshot{}, err
	}
	b.logger.Info("[CIRCUIT_BREAKER] override applied", "breaker", b.name, "action", a.String(), "state", s.State.String(), "gen", s.Generation,
		"by", OperatorFrom(ctx))
	for i := range transitions {
		transitions[i].Operator = true
	}
	b.observe(now, epoch, start, s, transitions)
	return s, nil
}
