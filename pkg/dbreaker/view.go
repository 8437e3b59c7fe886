package dbreaker

import "time"

// view is what one replica knows of a breaker's shared state, learned from
// script replies and from the store's events. It is replaced whole (an
// atomic pointer), so the call path reads it without a lock.
type view struct {
	state State     // effective state
	gen   int64     // generation it was learned at
	until time.Time // by the local clock, when state is Open and known
	epoch uint64    // the store's event epoch when it was learned
}

// events returns the store's event epoch and whether its stream is live.
func (b *Breaker) events() (uint64, bool) {
	if w, ok := b.store.(watchable); ok {
		return w.events()
	}
	return 0, false
}

// epoch is the store's event epoch now.
func (b *Breaker) epoch() uint64 {
	e, _ := b.events()
	return e
}

// trusted reports whether v is current enough to admit calls on: learned
// in the live event stream's current epoch, so a transition since would
// have reached this replica (after a propagation delay).
func (b *Breaker) trusted(v *view) bool {
	if v == nil || b.closed.Load() {
		return false // no view yet, or no more events since Close
	}
	epoch, live := b.events()
	return live && v.epoch == epoch
}

// learn merges state read from the store, labelled with the event epoch
// current when the read began (a read that straddles a change of epoch is
// labelled with the older one, so it is not trusted). A view from an older
// generation never replaces a newer one within an epoch; a new epoch (after
// a reconnect, when the store may have restarted empty and generations
// began again) accepts anything.
func (b *Breaker) learn(epoch uint64, state State, gen int64, until time.Time) {
	cur := b.view.Load()
	if cur != nil && cur.epoch == epoch && (gen < cur.gen || gen == cur.gen && cur.state == state && (until.IsZero() || !until.Before(cur.until))) {
		return // older, or nothing new: skip the lock on the hot path
	}
	b.viewMu.Lock()
	defer b.viewMu.Unlock()
	cur = b.view.Load()
	if cur != nil && cur.epoch == epoch && gen < cur.gen {
		return
	}
	if cur != nil && cur.gen == gen && cur.state == state && !cur.until.IsZero() && (until.IsZero() || cur.until.Before(until)) {
		// Same state: keep the earlier end. Each estimate is "when we heard
		// + what remained", and hearing late (a delayed event, a slow reply)
		// only pushes it later; a reply without the store's time keeps what
		// we knew.
		until = cur.until
	}
	b.view.Store(&view{state: state, gen: gen, until: until, epoch: epoch})
	if b.viewChanged != nil {
		b.viewChanged(state)
	}
}

// observe handles a store reply to a call that began at local time now in
// event epoch epoch: logs and reports the transitions this replica
// committed, logs a corrupt state once, and updates the view.
func (b *Breaker) observe(now time.Time, epoch uint64, s Snapshot, transitions []Transition) {
	for _, t := range transitions {
		b.obs.OnTransition(t)
		b.logger.Info("[CIRCUIT_BREAKER] state changed", "breaker", b.name, "from", t.From.String(), "to", t.To.String(), "gen", t.Generation)
	}
	if s.Corrupt && b.corruptLogged.CompareAndSwap(false, true) {
		b.logger.Warn("[CIRCUIT_BREAKER] stored state is unreadable; treating it as closed until the next write repairs it", "breaker", b.name)
	}
	var until time.Time
	if ra := s.RetryAfter(); ra > 0 {
		until = now.Add(ra)
	}
	b.learn(epoch, s.State, s.Generation, until)
}

// event is a transition published by the store (see Store events).
type event struct {
	Breaker     string `json:"breaker"`
	From        string `json:"from"`
	To          string `json:"to"`
	Gen         int64  `json:"gen"`
	OpenUntilMs int64  `json:"open_until_ms"`
	AtMs        int64  `json:"at_ms"`
}

// applyEvent merges a transition another replica (or this one) committed.
func (b *Breaker) applyEvent(ev event) {
	to, err := ParseState(ev.To)
	if err != nil {
		return
	}
	now := b.clock.Now()
	var until time.Time
	if to == Open && ev.OpenUntilMs > ev.AtMs && ev.AtMs > 0 {
		until = now.Add(time.Duration(ev.OpenUntilMs-ev.AtMs) * time.Millisecond)
	}
	b.learn(b.epoch(), to, ev.Gen, until)
}

// View is this replica's local knowledge of the breaker, read without any
// store call: the effective state, its generation, and whether it is
// current (learned in the store's live event stream).
type View struct {
	State      State
	Generation int64
	// OpenFor: while open, how long until a probe may be tried.
	OpenFor time.Duration
	// Known: the replica has learned the state at all.
	Known bool
	// Current: learned in the live event stream's current epoch.
	Current bool
}

// View returns this replica's local knowledge of the breaker. It costs no
// store call: use it for dashboards and readiness checks; State asks the
// store.
func (b *Breaker) View() View {
	v := b.view.Load()
	if v == nil {
		return View{}
	}
	out := View{State: v.state, Generation: v.gen, Known: true, Current: b.trusted(v)}
	if v.state == Open && !v.until.IsZero() {
		out.OpenFor = max(v.until.Sub(b.clock.Now()), 0)
	}
	return out
}
