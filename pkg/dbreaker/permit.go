package dbreaker

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/healthagent/resilience/pkg/redact"
)

// Permit is one admitted call. Call Done exactly once with the call's error;
// later calls of Done do nothing. It holds what its report needs (the
// breaker, the incarnation and generation of the admission, the probe
// token, the start time), not the call's context.
type Permit struct {
	b     *Breaker
	inc   string
	gen   int64
	token string // set for a probe only
	state State
	start time.Time
	by    decider
	done  atomic.Bool
}

// decider says who admitted a call, and so where its outcome goes.
type decider uint8

const (
	byStore     decider = iota // the shared store, synchronously
	byView                     // this replica's view (Fast mode): queued report
	byLocal                    // the local breaker, while the store is unavailable
	passThrough                // disabled, or failing open: nothing to report
)

// Probe reports whether the call holds a half-open probe slot.
func (p *Permit) Probe() bool { return p.token != "" }

// Generation is the breaker generation the call was admitted in.
func (p *Permit) Generation() int64 { return p.gen }

func (b *Breaker) reject(state State, retryAfter time.Duration, reason error) error {
	result := ResultRejected
	switch reason {
	case ErrTooManyProbes:
		result = ResultRejectedProbes
	case ErrStoreUnavailable:
		result = ResultStoreUnavailable
	}
	b.obs.OnCall(b.name, result)
	return &RejectedError{Breaker: b.name, State: state, RetryAfter: retryAfter, reason: reason}
}

// Allow asks to admit one call. It returns a *RejectedError (ErrOpen,
// ErrForcedOpen, ErrTooManyProbes, or ErrStoreUnavailable when failing
// closed) when the breaker refuses, and ctx's error when ctx ends before
// the store answers. While the replica knows the breaker is open it rejects
// without asking the store; in Fast mode it also admits without asking
// while it knows the breaker is closed, until it has seen as many
// consecutive failures that the store has not yet seen as the
// FailureThreshold: then it rejects until the store answers.
func (b *Breaker) Allow(ctx context.Context) (*Permit, error) {
	now := b.clock.Now()
	v := b.view.Load()
	if v.openAt(now) {
		return nil, b.reject(Open, v.until.Sub(now), ErrOpen)
	}
	if b.cfg.Consistency == Fast && b.trusted(v) {
		switch v.state {
		case Closed, ForcedClosed:
			if v.state == Closed && b.unseenFailuresReached() {
				return nil, b.reject(Open, 0, ErrOpen)
			}
			return &Permit{b: b, inc: v.inc, gen: v.gen, state: v.state, start: now, by: byView}, nil
		case Disabled:
			return &Permit{b: b, inc: v.inc, gen: v.gen, state: v.state, start: now, by: passThrough}, nil
		case ForcedOpen:
			return nil, b.reject(ForcedOpen, 0, ErrForcedOpen)
		}
	}
	if b.degraded() {
		return b.allowWithoutStore(ctx, now)
	}
	token := b.newToken()
	d, err := b.acquire(ctx, token)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the caller gave up: not the store's failure
		}
		return b.allowWithoutStore(ctx, now)
	}
	if !d.Allowed {
		return nil, b.reject(d.Snapshot.State, d.Snapshot.RetryAfter(), d.Reason)
	}
	p := &Permit{b: b, inc: d.Snapshot.Incarnation, gen: d.Snapshot.Generation, state: d.Snapshot.State, start: now, by: byStore}
	if d.Snapshot.State == Disabled {
		p.by = passThrough
	}
	if d.Probe {
		p.token = token
	}
	return p, nil
}

// unseenFailuresReached reports whether this replica has queued as many
// consecutive failures as the FailureThreshold that the store has not seen
// yet (Fast mode), and if so asks for a flush now.
func (b *Breaker) unseenFailuresReached() bool {
	if b.queue == nil || b.policy.FailureThreshold <= 0 || b.queue.unseenFailures() < int64(b.policy.FailureThreshold) {
		return false
	}
	b.queue.s.wakeFlusher()
	return true
}

// newToken returns a probe token unique among this store's callers: the
// breaker's random prefix and a sequence number.
func (b *Breaker) newToken() string {
	return b.tokenPrefix + strconv.FormatUint(b.tokenSeq.Add(1), 10)
}

// allowWithoutStore decides a call by the store-failure policy.
func (b *Breaker) allowWithoutStore(ctx context.Context, now time.Time) (*Permit, error) {
	b.fallbacks.Add(1)
	switch b.cfg.OnStoreFailure {
	case FailOpen:
		return &Permit{b: b, start: now, by: passThrough}, nil
	case FailClosed:
		return nil, b.reject(Closed, 0, ErrStoreUnavailable)
	}
	token := b.newToken()
	d, _ := b.local.Acquire(ctx, b.name, b.policy, token) // in memory: never fails
	b.transitionedLocally(d.Transitions)
	if !d.Allowed {
		return nil, b.reject(d.Snapshot.State, d.Snapshot.RetryAfter(), d.Reason)
	}
	p := &Permit{b: b, inc: d.Snapshot.Incarnation, gen: d.Snapshot.Generation, state: d.Snapshot.State, start: now, by: byLocal}
	if d.Probe {
		p.token = token
	}
	return p, nil
}

// Done reports the call's outcome (classified by Config.Classify, timed from
// the start of Allow). In Strict mode the report reaches the store before
// Done returns; in Fast mode it is queued, except a probe's. The report
// outlives the call's context, which may be cancelled by then: it is sent
// under a context of its own, bounded by StoreTimeout.
func (p *Permit) Done(err error) {
	if p == nil || !p.done.CompareAndSwap(false, true) {
		return
	}
	b := p.b
	outcome := b.cfg.Classify(err)
	if outcome > Ignored {
		outcome = Failure // a classifier that answers no Outcome: count the call against the upstream
	}
	b.obs.OnCall(b.name, CallResult(outcome)) // Success, Failure, Ignored share their values
	if p.by == passThrough || outcome == Ignored && p.token == "" {
		return // nothing for the store to count
	}
	now := b.clock.Now()
	r := Report{
		Incarnation: p.inc,
		Generation:  p.gen,
		Token:       p.token,
		Outcome:     outcome,
		Slow:        now.Sub(p.start) >= b.cfg.SlowCallDuration,
		Count:       1,
	}
	if outcome == Failure && err != nil {
		r.Error = redact.ErrorText(err.Error())
	}
	switch {
	case p.by == byLocal:
		res, _ := b.local.Report(context.Background(), b.name, b.policy, []Report{r})
		b.noteStale(res.Stale)
		b.transitionedLocally(res.Transitions)
	case p.by == byView && b.queue != nil && b.queue.push(r):
	default:
		b.reportNow(r)
	}
}

// reportNow sends one report to the store and waits for its reply.
func (b *Breaker) reportNow(r Report) {
	if b.degraded() {
		b.recordLocally([]Report{r})
		return
	}
	ctx := context.Background()
	if b.grouped != nil {
		_ = b.reports.submit(ctx, &member[Report]{req: r}) // without cancellation: never gives up
		return
	}
	b.sendReports(ctx, []*member[Report]{{req: r}})
}

// recordLocally feeds outcomes the store could not take to the local
// breaker (with FallbackLocal), so failures are never lost while degraded.
func (b *Breaker) recordLocally(reports []Report) {
	if b.local == nil || b.cfg.OnStoreFailure != FallbackLocal {
		return
	}
	ctx := context.Background()
	for _, r := range reports {
		if r.Outcome == Ignored {
			continue
		}
		s, _ := b.local.Snapshot(ctx, b.name, b.policy)
		if s.State != Closed {
			continue // the local breaker already stopped calls: nothing to count
		}
		r.Incarnation, r.Generation, r.Token = s.Incarnation, s.Generation, ""
		res, _ := b.local.Report(ctx, b.name, b.policy, []Report{r})
		b.transitionedLocally(res.Transitions)
	}
}

// transitionedLocally reports the local breaker's transitions, marked as
// local.
func (b *Breaker) transitionedLocally(transitions []Transition) {
	for _, t := range transitions {
		t.Local = true
		b.transitioned(t)
	}
}

func (b *Breaker) noteStale(n int) {
	if n > 0 {
		b.stale.Add(int64(n))
		b.obs.OnStale(b.name, n)
	}
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
