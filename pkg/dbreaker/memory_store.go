package dbreaker

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/healthagent/resilience/pkg/clock"
)

// MemoryStore keeps breaker state in process, with the same behaviour as
// RedisStore (one contract test suite runs against both) and time from its
// clock. It is the embedded default when no Redis is configured; a
// breaker on it is shared by the goroutines of one process only. Safe for
// concurrent use.
type MemoryStore struct {
	clock    clock.Clock
	incs     *incarnations
	mu       sync.Mutex
	breakers map[string]*memBreaker

	watchMu  sync.RWMutex
	watchers map[string][]*Breaker
}

func (*MemoryStore) inProcess() {}

// NewMemoryStore returns an empty store. It takes WithClock (default
// clock.Real()).
func NewMemoryStore(opts ...Option) (*MemoryStore, error) {
	o, err := resolve("NewMemoryStore", opts, "WithClock")
	if err != nil {
		return nil, err
	}
	return newMemoryStore(o.clock), nil
}

// newMemoryStore returns an empty store reading time from c.
func newMemoryStore(c clock.Clock) *MemoryStore {
	incs, err := newIncarnations()
	if err != nil {
		panic(err) // crypto/rand never fails on the platforms Go supports
	}
	return &MemoryStore{clock: c, incs: incs, breakers: make(map[string]*memBreaker), watchers: make(map[string][]*Breaker)}
}

// watch implements watchable: breakers on one MemoryStore learn of each
// other's transitions at once.
func (m *MemoryStore) watch(name string, b *Breaker) func() {
	m.watchMu.Lock()
	defer m.watchMu.Unlock()
	m.watchers[name] = append(m.watchers[name], b)
	return func() {
		m.watchMu.Lock()
		defer m.watchMu.Unlock()
		m.watchers[name] = slices.DeleteFunc(m.watchers[name], func(x *Breaker) bool { return x == b })
	}
}

// events implements watchable: the in-process stream never misses one.
func (m *MemoryStore) events() (uint64, bool) { return 0, true }

// notify tells watchers of transitions, and of the operator action that
// caused them (override, or ""); called without m.mu held.
func (m *MemoryStore) notify(name string, transitions []Transition, override string) {
	if len(transitions) == 0 {
		return
	}
	m.watchMu.RLock()
	watchers := slices.Clone(m.watchers[name])
	m.watchMu.RUnlock()
	now := m.clock.Now()
	for _, t := range transitions {
		ev := event{Breaker: name, From: t.From.String(), To: t.To.String(), Inc: t.Incarnation, Gen: t.Generation, Override: override, inProcess: true}
		if !t.OpenUntil.IsZero() {
			ev.OpenUntilMs, ev.AtMs = t.OpenUntil.UnixMilli(), now.UnixMilli()
		}
		for _, b := range watchers {
			b.applyEvent(ev)
		}
	}
}

// memBreaker mirrors the Redis state hash, window hash and probes ZSET; times
// are milliseconds, as in Redis.
type memBreaker struct {
	state                      State // Closed, Open or HalfOpen
	forced                     State // ForcedOpen, ForcedClosed, Disabled; Closed: none
	inc                        string
	gen, failures, successes   int64
	trips, openedAt, openUntil int64
	updatedAt                  int64
	lastError                  string
	window                     map[int64]*[3]int64 // bucket -> calls, failures, slow
	probes                     map[string]int64    // token -> lease end
	name                       string
	transitions                []Transition
}

func (m *MemoryStore) get(name string) *memBreaker {
	b := m.breakers[name]
	if b == nil {
		b = &memBreaker{name: name}
		m.breakers[name] = b
	}
	b.transitions = nil
	return b
}

func (m *MemoryStore) now() int64 { return m.clock.Now().UnixMilli() }

// written gives a breaker its incarnation when its state is first written,
// as the scripts do.
func (m *MemoryStore) written(b *memBreaker) {
	if b.inc == "" {
		b.inc = m.incs.next()
	}
}

// current reports whether a report was admitted in the breaker's present
// incarnation and generation (see report.lua).
func (b *memBreaker) current(r Report) bool {
	return r.Generation == b.gen && (r.Incarnation == b.inc || r.Incarnation == "" && b.gen == 0)
}
func (b *memBreaker) effective() State {
	if b.forced != Closed {
		return b.forced
	}
	return b.state
}

func (b *memBreaker) snapshot(now int64) Snapshot {
	return Snapshot{
		Name:        b.name,
		State:       b.effective(),
		Underlying:  b.state,
		Incarnation: b.inc,
		Generation:  b.gen,
		Failures:    b.failures,
		Successes:   b.successes,
		Trips:       b.trips,
		OpenedAt:    msTime(b.openedAt),
		OpenUntil:   msTime(b.openUntil),
		LastError:   b.lastError,
		UpdatedAt:   msTime(b.updatedAt),
		StoreTime:   msTime(now),
	}
}

func (b *memBreaker) commit(from State, now int64) {
	b.gen++
	b.updatedAt = now
	b.transitions = append(b.transitions, Transition{
		Breaker: b.name, From: from, To: b.effective(), Incarnation: b.inc, Generation: b.gen, OpenUntil: msTime(b.openUntil),
	})
}

func (b *memBreaker) liveProbes(now int64) int {
	for token, end := range b.probes {
		if end <= now {
			delete(b.probes, token)
		}
	}
	return len(b.probes)
}

// Acquire implements Store.
func (m *MemoryStore) Acquire(_ context.Context, name string, p Policy, token string) (Decision, error) {
	d := m.acquire(name, p, token)
	m.notify(name, d.Transitions, "")
	return d, nil
}

func (m *MemoryStore) acquire(name string, p Policy, token string) Decision {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	b := m.get(name)
	d := Decision{}
	switch {
	case b.forced == ForcedOpen:
		d.Reason = ErrForcedOpen
	case b.forced != Closed || b.state == Closed:
		d.Allowed = true
	default:
		if b.state == Open {
			if now < b.openUntil {
				d.Reason = ErrOpen
			} else {
				b.state, b.successes = HalfOpen, 0
				b.commit(Open, now)
			}
		}
		if b.state == HalfOpen {
			if b.liveProbes(now) < p.HalfOpenMaxProbes {
				if b.probes == nil {
					b.probes = make(map[string]int64)
				}
				b.probes[token] = now + ms(p.ProbeLease)
				d.Allowed, d.Probe = true, true
			} else {
				d.Reason = ErrTooManyProbes
			}
		}
	}
	d.Snapshot, d.Transitions = b.snapshot(now), b.transitions
	return d
}

// Report implements Store.
func (m *MemoryStore) Report(_ context.Context, name string, p Policy, reports []Report) (ReportResult, error) {
	for _, r := range reports {
		if int(r.Outcome) >= len(outcomeNames) {
			return ReportResult{}, fmt.Errorf("dbreaker: report: invalid outcome %d", r.Outcome)
		}
	}
	res := m.report(name, p, reports)
	m.notify(name, res.Transitions, "")
	return res, nil
}

func (m *MemoryStore) report(name string, p Policy, reports []Report) ReportResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	b := m.get(name)
	res := ReportResult{}
	width := ms(p.Window) / int64(max(p.WindowBuckets, 1))
	for _, r := range reports {
		count := max(r.Count, 1)
		end, leased := b.probes[r.Token]
		leased = leased && end > now
		delete(b.probes, r.Token) // a probe's report always gives its slot back
		switch {
		case !b.current(r) || b.forced == ForcedOpen || b.forced == Disabled:
			res.Stale += count
		case b.state == Closed:
			res.Applied += count
			if r.Outcome == Ignored {
				continue
			}
			if r.Outcome == Failure || b.failures != 0 { // what the state hash records changes
				m.written(b)
				b.updatedAt = now
			}
			fails := 0
			if r.Outcome == Failure {
				b.failures += int64(count)
				b.lastError = truncateText(r.Error, maxErrorText)
				fails = count
			} else {
				b.failures = 0
			}
			if p.usesWindow() {
				b.windowAdd(now, width, count, fails, boolInt(r.Slow)*count)
			}
			if b.forced == Closed && b.tripped(p, now, width) {
				b.open(p, Closed, now)
			}
		case b.state == HalfOpen && r.Token != "" && b.forced == Closed:
			if !leased {
				res.Stale += count
				continue
			}
			res.Applied += count
			switch {
			case r.Outcome == Failure || r.Outcome == Success && r.Slow && p.SlowCallRate > 0:
				if r.Outcome == Failure {
					b.lastError = truncateText(r.Error, maxErrorText)
				}
				b.open(p, HalfOpen, now)
			case r.Outcome == Success:
				b.successes++
				b.updatedAt = now
				if b.successes >= int64(p.SuccessThreshold) {
					b.state, b.failures, b.successes, b.trips, b.openUntil = Closed, 0, 0, 0, 0
					b.window = nil
					b.commit(HalfOpen, now)
				}
			}
		default:
			res.Stale += count
		}
	}
	res.Snapshot, res.Transitions = b.snapshot(now), b.transitions
	return res
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

func (b *memBreaker) open(p Policy, from State, now int64) {
	b.state = Open
	b.trips++
	b.openedAt, b.openUntil, b.successes = now, now+ms(p.openTimeout(b.trips)), 0
	b.window = nil
	b.commit(from, now)
}

func (b *memBreaker) tripped(p Policy, now, width int64) bool {
	if p.FailureThreshold > 0 && b.failures >= int64(p.FailureThreshold) {
		return true
	}
	if !p.usesWindow() {
		return false
	}
	w := b.windowTotals(now, width, int64(p.WindowBuckets), true)
	if w.Calls == 0 || w.Calls < int64(p.MinimumCalls) {
		return false
	}
	calls := float64(w.Calls)
	return p.FailureRate > 0 && float64(w.Failures)/calls >= p.FailureRate ||
		p.SlowCallRate > 0 && float64(w.Slow)/calls >= p.SlowCallRate
}

func (b *memBreaker) windowAdd(now, width int64, calls, fails, slow int) {
	if b.window == nil {
		b.window = make(map[int64]*[3]int64)
	}
	idx := now / width
	c := b.window[idx]
	if c == nil {
		c = new([3]int64)
		b.window[idx] = c
	}
	c[0] += int64(calls)
	c[1] += int64(fails)
	c[2] += int64(slow)
}

func (b *memBreaker) windowTotals(now, width, buckets int64, expire bool) WindowCounts {
	var w WindowCounts
	oldest := now/width - buckets + 1
	for idx, c := range b.window {
		if idx < oldest {
			if expire {
				delete(b.window, idx)
			}
			continue
		}
		w.Calls += c[0]
		w.Failures += c[1]
		w.Slow += c[2]
	}
	return w
}

// Snapshot implements Store.
func (m *MemoryStore) Snapshot(_ context.Context, name string, p Policy) (Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	b := m.breakers[name]
	if b == nil {
		return (&memBreaker{name: name}).snapshot(now), nil
	}
	s := b.snapshot(now)
	if p.usesWindow() {
		s.Window = b.windowTotals(now, ms(p.Window)/int64(max(p.WindowBuckets, 1)), int64(p.WindowBuckets), false)
	}
	for _, end := range b.probes {
		if end > now {
			s.Probes++
		}
	}
	return s, nil
}

// Override implements Store.
func (m *MemoryStore) Override(_ context.Context, name string, action Action) (Snapshot, []Transition, error) {
	var forced State
	switch action {
	case ActionReset:
		forced = Closed
	case ActionForceOpen:
		forced = ForcedOpen
	case ActionForceClosed:
		forced = ForcedClosed
	case ActionDisable:
		forced = Disabled
	default:
		return Snapshot{}, nil, fmt.Errorf("dbreaker: override: invalid action %d", action)
	}
	s, transitions := m.override(name, action, forced)
	m.notify(name, transitions, action.String())
	return s, transitions, nil
}

func (m *MemoryStore) override(name string, action Action, forced State) (Snapshot, []Transition) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	b := m.get(name)
	from := b.effective()
	if action == ActionReset || forced != b.forced {
		if action != ActionForceOpen {
			*b = memBreaker{name: name, inc: b.inc, gen: b.gen}
		}
		m.written(b)
		b.forced = forced
		b.commit(from, now)
	}
	return b.snapshot(now), b.transitions
}
