package dbreaker

import "context"

// State returns the breaker's shared state, read from the store.
func (b *Breaker) State(ctx context.Context) (Snapshot, error) {
	sctx, cancel := b.storeContext(ctx)
	defer cancel()
	now, epoch := b.clock.Now(), b.epoch()
	s, err := b.store.Snapshot(sctx, b.name, b.policy)
	if err != nil {
		b.storeFailed("snapshot", err)
		return Snapshot{}, err
	}
	b.observe(now, epoch, s, nil)
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
	now, epoch := b.clock.Now(), b.epoch()
	s, transitions, err := b.store.Override(sctx, b.name, a)
	if err != nil {
		b.storeFailed("override", err)
		return Snapshot{}, err
	}
	b.logger.Info("[CIRCUIT_BREAKER] override applied", "breaker", b.name, "action", a.String(), "state", s.State.String(), "gen", s.Generation)
	b.observe(now, epoch, s, transitions)
	return s, nil
}
