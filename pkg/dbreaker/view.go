package dbreaker

import (
	"context"
	"sync"
	"time"
)

// view is what one replica knows of a breaker's shared state, learned from
// script replies and from the store's events. It is replaced whole (an
// atomic pointer), so the call path reads it without a lock.
type view struct {
	state State     // effective state
	inc   string    // incarnation it was learned in
	gen   int64     // generation it was learned at
	until time.Time // by the local clock, when state is Open and known
	epoch uint64    // the store's event epoch when it was learned
}

// openAt reports whether the view holds the breaker open at local time
// now: then the replica rejects without asking anyone.
func (v *view) openAt(now time.Time) bool {
	return v != nil && v.state == Open && now.Before(v.until)
}

// recentTransitions remembers the last transitions a replica reported.
type recentTransitions struct {
	mu   sync.Mutex
	keys [16]transitionKey
	next int
}

type transitionKey struct {
	inc      string
	gen      int64
	from, to State
	local    bool
}

// first reports whether t was not among the recent ones, and remembers it.
func (r *recentTransitions) first(t Transition) bool {
	k := transitionKey{t.Incarnation, t.Generation, t.From, t.To, t.Local}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.keys {
		if x == k {
			return false
		}
	}
	r.keys[r.next] = k
	r.next = (r.next + 1) % len(r.keys)
	return true
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
// have reached this replica (after a propagation delay), and the store is
// not degraded.
func (b *Breaker) trusted(v *view) bool {
	if v == nil || b.closed.Load() || b.degraded() {
		return false // no view yet, no more events since Close, or the store failed us
	}
	epoch, live := b.events()
	return live && v.epoch == epoch
}

// supersedes reports whether state learned as (inc, gen, state, until) in
// event epoch epoch is news to a replica whose view is cur: a view from an
// older epoch (events may have been missed since) or of another
// incarnation takes anything; within one incarnation a later generation
// wins, and within one generation a change of state or an earlier end of
// the open period.
func supersedes(cur *view, epoch uint64, inc string, gen int64, state State, until time.Time) bool {
	switch {
	case cur == nil || cur.epoch != epoch || cur.inc != inc:
		return true
	case gen != cur.gen:
		return gen > cur.gen
	case state != cur.state:
		return true
	default:
		return !until.IsZero() && (cur.until.IsZero() || until.Before(cur.until))
	}
}

// news reports whether what learn was given changes view cur: it
// supersedes cur, or it is a read that began at cur (start) and differs
// from it (a view ahead of Redis is replaced).
func (b *Breaker) news(cur, start *view, epoch uint64, inc string, gen int64, state State, until time.Time) bool {
	if supersedes(cur, epoch, inc, gen, state, until) {
		return true
	}
	return start != nil && cur == start && (cur.inc != inc || cur.gen != gen || cur.state != state)
}

// learn merges state read from the store or announced by an event,
// labelled with the event epoch current when the read began (a read that
// straddles a change of epoch is labelled with the older one, so it is not
// trusted). start is the view this replica held when the read began: if it
// still holds it, the read is the newest thing it knows and replaces it
// whatever it held, even a later generation (which Redis never goes back
// from, so that view came from a forged or misdirected event). An event
// passes start == nil: it is merged by supersedes alone.
func (b *Breaker) learn(start *view, epoch uint64, inc string, state State, gen int64, until time.Time) {
	if !b.news(b.view.Load(), start, epoch, inc, gen, state, until) {
		return // skip the lock on the hot path
	}
	b.viewMu.Lock()
	defer b.viewMu.Unlock()
	cur := b.view.Load()
	if !b.news(cur, start, epoch, inc, gen, state, until) {
		return
	}
	if cur != nil && cur.inc == inc && cur.gen == gen && cur.state == state && !cur.until.IsZero() && (until.IsZero() || cur.until.Before(until)) {
		// Same state: keep the earlier end. Each estimate is "when we heard
		// + what remained", and hearing late (a delayed event, a slow reply)
		// only pushes it later; a reply without the store's time keeps what
		// we knew.
		until = cur.until
	}
	b.view.Store(&view{state: state, inc: inc, gen: gen, until: until, epoch: epoch})
	if b.viewChanged != nil {
		b.viewChanged(state)
	}
}

// observe handles a store reply to a call that began at local time now in
// event epoch epoch, holding view start: logs and reports the transitions
// this replica committed, logs a corrupt state once, and updates the view.
func (b *Breaker) observe(now time.Time, epoch uint64, start *view, s Snapshot, transitions []Transition) {
	b.announce(s, transitions)
	b.learnReply(now, epoch, start, s)
}

// announce reports the transitions of a reply and logs a corrupt state
// once: the part of observe that reaches the observers and the log.
func (b *Breaker) announce(s Snapshot, transitions []Transition) {
	for _, t := range transitions {
		b.transitioned(t)
	}
	if s.Corrupt && b.corruptLogged.CompareAndSwap(false, true) {
		b.logger.Warn("[CIRCUIT_BREAKER] stored state is unreadable; treating it as closed until the next write repairs it", "breaker", b.name)
	}
}

// learnReply updates the view from a reply: the part of observe that
// touches no observer.
func (b *Breaker) learnReply(now time.Time, epoch uint64, start *view, s Snapshot) {
	var until time.Time
	if ra := s.RetryAfter(); ra > 0 {
		until = now.Add(ra)
	}
	b.learn(start, epoch, s.Incarnation, s.State, s.Generation, until)
}

// transitioned tells the observers and the log of a transition this
// replica committed, made locally, or learned of as an operator's action,
// once: a replica can hear of one twice (its own reply, and the event
// announcing it).
func (b *Breaker) transitioned(t Transition) {
	if !b.reported.first(t) {
		return
	}
	b.obs.OnTransition(t)
	b.logger.Info("[CIRCUIT_BREAKER] state changed", "breaker", b.name, "from", t.From.String(), "to", t.To.String(),
		"gen", t.Generation, "local", t.Local, "operator", t.Operator)
}

// event is a transition published by the store (see Store events).
type event struct {
	Breaker     string `json:"breaker"`
	From        string `json:"from"`
	To          string `json:"to"`
	Inc         string `json:"inc"`
	Gen         int64  `json:"gen"`
	OpenUntilMs int64  `json:"open_until_ms"`
	AtMs        int64  `json:"at_ms"`
	// Override names the operator action that caused the event.
	Override string `json:"override,omitempty"`

	// inProcess: from a MemoryStore, which cannot be forged or reordered.
	inProcess bool
}

// applyEvent merges a transition another replica (or this one) committed.
// Events are hints: anyone allowed to publish on the channel can send one.
// An event that follows the view by exactly one generation of the same
// incarnation is taken at once (trusting its open period up to the
// breaker's MaxOpenTimeout); one of an unknown incarnation, one that jumps
// generations, and every operator action are first confirmed with one
// snapshot of the store, which then replaces the view.
func (b *Breaker) applyEvent(ev event) {
	to, err := ParseState(ev.To)
	if err != nil || ev.Gen < 0 || !validIncarnation(ev.Inc, true) {
		return
	}
	now := b.clock.Now()
	var until time.Time
	if to == Open && ev.OpenUntilMs > ev.AtMs && ev.AtMs > 0 {
		open := min(time.Duration(ev.OpenUntilMs-ev.AtMs)*time.Millisecond, b.cfg.MaxOpenTimeout)
		until = now.Add(open)
	}
	v := b.view.Load()
	if ev.inProcess {
		b.learn(nil, b.epoch(), ev.Inc, to, ev.Gen, until)
		if from, err := ParseState(ev.From); ev.Override != "" && err == nil && from != to {
			b.transitioned(Transition{Breaker: b.name, From: from, To: to, Incarnation: ev.Inc, Generation: ev.Gen, Operator: true})
		}
		return
	}
	switch {
	case v != nil && v.inc == ev.Inc && v.gen == ev.Gen && v.state == to:
		// Known already (this replica committed it, or heard it before);
		// only an earlier end of the open period is news.
		b.learn(nil, b.epoch(), ev.Inc, to, ev.Gen, until)
	case ev.Override == "" && v != nil && v.inc == ev.Inc && ev.Gen <= v.gen:
		// Older than the view: nothing to learn.
	case ev.Override == "" && v != nil && v.inc == ev.Inc && ev.Gen == v.gen+1:
		b.learn(nil, b.epoch(), ev.Inc, to, ev.Gen, until)
	default:
		b.confirmer.request(ev)
	}
}

// confirm reads the store's state after events that the view could not
// take on trust, and makes it the view. An operator's action that the
// snapshot shows in force is reported to the observers as a transition.
func (b *Breaker) confirm(events []event) {
	now, epoch, start := b.clock.Now(), b.epoch(), b.view.Load()
	ctx, cancel := b.storeContext(context.Background())
	s, err := b.store.Snapshot(ctx, b.name, b.policy)
	cancel()
	if err != nil {
		b.storeFailed("snapshot", err)
		return
	}
	b.observe(now, epoch, start, s, nil)
	b.confirmed.Add(int64(len(events)))
	for _, ev := range events {
		from, errFrom := ParseState(ev.From)
		to, errTo := ParseState(ev.To)
		if ev.Override != "" && errFrom == nil && errTo == nil && from != to && s.Incarnation == ev.Inc && s.Generation == ev.Gen {
			b.transitioned(Transition{Breaker: b.name, From: from, To: to, Incarnation: ev.Inc, Generation: ev.Gen, OpenUntil: msTime(ev.OpenUntilMs), Operator: true})
		}
	}
}

// View is this replica's local knowledge of the breaker, read without any
// store call: the state it applies to the next call, and where that state
// comes from.
type View struct {
	// State is the state this replica applies: the shared state it last
	// learned, or, with Local set, its local breaker's.
	State       State
	Incarnation string
	Generation  int64
	// OpenFor: while open, how long until a probe may be tried.
	OpenFor time.Duration
	// Known: the replica has learned the shared state at all.
	Known bool
	// Current: learned in the live event stream's current epoch.
	Current bool
	// Local: the store is unavailable and this replica's local breaker
	// decides (with OnStoreFailure FallbackLocal): State is that breaker's,
	// unknown to every other replica.
	Local bool
}

// View returns this replica's local knowledge of the breaker. It costs no
// store call: use it for dashboards, metrics and readiness checks; State
// asks the store. Like Allow, it puts a shared open state that has not
// ended before the local breaker.
func (b *Breaker) View() View {
	now := b.clock.Now()
	v := b.view.Load()
	if b.decidesLocally() && !v.openAt(now) {
		s, _ := b.local.Snapshot(context.Background(), b.name, b.policy)
		return View{State: s.State, Incarnation: s.Incarnation, Generation: s.Generation, OpenFor: s.RetryAfter(), Known: true, Local: true}
	}
	if v == nil {
		return View{}
	}
	out := View{State: v.state, Incarnation: v.inc, Generation: v.gen, Known: true, Current: b.trusted(v)}
	if v.state == Open && !v.until.IsZero() {
		out.OpenFor = max(v.until.Sub(now), 0)
	}
	return out
}
