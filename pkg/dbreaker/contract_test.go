package dbreaker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/internal/testredis"
	"github.com/redis/go-redis/v9"
)

// storeHarness gives the contract suite a fresh store and a way to move the
// store's clock forward.
type storeHarness struct {
	store Store
	// advance moves the store's clock forward by at least d.
	advance func(t *testing.T, d time.Duration)
	// unit is a duration long against scheduling noise; the suite expresses
	// every timeout in units.
	unit time.Duration
}

func memoryHarness(t *testing.T) storeHarness {
	clock := clocktest.New(time.UnixMilli(1_700_000_000_000))
	return storeHarness{
		store:   memStore(t, WithClock(clock)),
		advance: func(_ *testing.T, d time.Duration) { clock.Advance(d) },
		unit:    time.Second,
	}
}

func redisHarness(t *testing.T) storeHarness {
	client := testredis.Client(t)
	store, err := NewRedisStore(client, WithKeyPrefix(testredis.Prefix(t, client)))
	if err != nil {
		t.Fatal(err)
	}
	return storeHarness{store: store, advance: redisAdvance(client), unit: 250 * time.Millisecond}
}

// redisAdvance returns waitRedisTime on client, for harnesses.
func redisAdvance(client redis.UniversalClient) func(t *testing.T, d time.Duration) {
	return func(t *testing.T, d time.Duration) {
		t.Helper()
		waitRedisTime(t, client, d)
	}
}

// waitRedisTime waits until Redis' own clock has moved forward by d.
func waitRedisTime(t testing.TB, client redis.UniversalClient, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	start, err := client.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	target := start.Add(d + time.Millisecond)
	deadline := time.Now().Add(d + 10*time.Second)
	for {
		now, err := client.Time(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if !now.Before(target) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis clock did not reach %v", target)
		}
		time.Sleep(min(target.Sub(now), 5*time.Millisecond))
	}
}

func TestMemoryStoreContract(t *testing.T) { runStoreContract(t, memoryHarness) }

func TestRedisStoreContract(t *testing.T) { runStoreContract(t, redisHarness) }

// contract wraps a harness with helpers that fail the test on store errors.
type contract struct {
	t *testing.T
	storeHarness
	name  string
	p     Policy
	token atomic.Int64
}

func newContract(t *testing.T, h storeHarness, cfg Config) *contract {
	t.Helper()
	cfg, err := cfg.resolved()
	if err != nil {
		t.Fatal(err)
	}
	return &contract{t: t, storeHarness: h, name: "upstream-1", p: cfg.policy()}
}

func (c *contract) acquire() Decision {
	c.t.Helper()
	d, err := c.store.Acquire(context.Background(), c.name, c.p, "tok-"+strconv.FormatInt(c.token.Add(1), 10))
	if err != nil {
		c.t.Fatalf("Acquire: %v", err)
	}
	return d
}

// acquireToken is acquire that also returns the token used.
func (c *contract) acquireToken() (Decision, string) {
	c.t.Helper()
	tok := "tok-" + strconv.FormatInt(c.token.Add(1), 10)
	d, err := c.store.Acquire(context.Background(), c.name, c.p, tok)
	if err != nil {
		c.t.Fatalf("Acquire: %v", err)
	}
	return d, tok
}

func (c *contract) report(reports ...Report) ReportResult {
	c.t.Helper()
	r, err := c.store.Report(context.Background(), c.name, c.p, reports)
	if err != nil {
		c.t.Fatalf("Report: %v", err)
	}
	return r
}

func (c *contract) snapshot() Snapshot {
	c.t.Helper()
	s, err := c.store.Snapshot(context.Background(), c.name, c.p)
	if err != nil {
		c.t.Fatalf("Snapshot: %v", err)
	}
	return s
}

func (c *contract) override(a Action) (Snapshot, []Transition) {
	c.t.Helper()
	s, tr, err := c.store.Override(context.Background(), c.name, a)
	if err != nil {
		c.t.Fatalf("Override(%v): %v", a, err)
	}
	return s, tr
}

// fail reports n failures at the breaker's current generation, one per call.
func (c *contract) fail(n int) ReportResult {
	c.t.Helper()
	var r ReportResult
	for i := 0; i < n; i++ {
		d := c.acquire()
		if !d.Allowed {
			c.t.Fatalf("failure %d: call rejected (%v) before the threshold", i+1, d.Reason)
		}
		r = c.report(Report{Incarnation: d.Snapshot.Incarnation, Generation: d.Snapshot.Generation, Outcome: Failure, Error: fmt.Sprintf("boom %d", i+1)})
	}
	return r
}

func (c *contract) trip() Snapshot {
	c.t.Helper()
	r := c.fail(c.p.FailureThreshold)
	if r.Snapshot.State != Open {
		c.t.Fatalf("after %d failures state = %v, want open", c.p.FailureThreshold, r.Snapshot.State)
	}
	return c.snapshot()
}

func wantTransitions(t *testing.T, got []Transition, want ...[2]State) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("transitions = %+v, want %v", got, want)
	}
	for i, w := range want {
		if got[i].From != w[0] || got[i].To != w[1] {
			t.Fatalf("transition %d = %v→%v, want %v→%v", i, got[i].From, got[i].To, w[0], w[1])
		}
	}
}

func runStoreContract(t *testing.T, newHarness func(*testing.T) storeHarness) {
	t.Run("fresh breaker is closed at generation 0", func(t *testing.T) {
		c := newContract(t, newHarness(t), Config{})
		s := c.snapshot()
		if s.State != Closed || s.Generation != 0 || s.Failures != 0 || s.Corrupt {
			t.Fatalf("fresh snapshot = %+v", s)
		}
		d := c.acquire()
		if !d.Allowed || d.Probe || d.Reason != nil || d.Snapshot.Generation != 0 || len(d.Transitions) != 0 {
			t.Fatalf("fresh acquire = %+v", d)
		}
	})

	t.Run("trips at exactly the consecutive failure threshold", func(t *testing.T) {
		for _, threshold := range []int{1, 3, 5} {
			t.Run(strconv.Itoa(threshold), func(t *testing.T) {
				h := newHarness(t)
				c := newContract(t, h, Config{FailureThreshold: threshold, OpenTimeout: 4 * h.unit})
				if threshold > 1 {
					r := c.fail(threshold - 1)
					if r.Snapshot.State != Closed || r.Snapshot.Failures != int64(threshold-1) || len(r.Transitions) != 0 {
						t.Fatalf("after %d failures: %+v", threshold-1, r)
					}
				}
				r := c.fail(1)
				wantTransitions(t, r.Transitions, [2]State{Closed, Open})
				if r.Snapshot.State != Open || r.Snapshot.Generation != 1 || r.Snapshot.Failures != int64(threshold) {
					t.Fatalf("report after the trip: %+v", r.Snapshot)
				}
				s := c.snapshot()
				if s.State != Open || s.Generation != 1 || s.Trips != 1 || s.LastError != "boom 1" || !s.OpenUntil.Equal(r.Snapshot.OpenUntil) {
					t.Fatalf("tripped snapshot = %+v", s)
				}
				if got := s.OpenUntil.Sub(s.OpenedAt); got != 4*h.unit {
					t.Fatalf("open for %v, want %v", got, 4*h.unit)
				}
				if r.Transitions[0].Generation != 1 || !r.Transitions[0].OpenUntil.Equal(s.OpenUntil) {
					t.Fatalf("transition = %+v, snapshot open until %v", r.Transitions[0], s.OpenUntil)
				}
			})
		}
	})

	t.Run("a success resets the consecutive failures", func(t *testing.T) {
		c := newContract(t, newHarness(t), Config{})
		c.fail(4)
		d := c.acquire()
		r := c.report(Report{Incarnation: d.Snapshot.Incarnation, Generation: d.Snapshot.Generation, Outcome: Success})
		if r.Snapshot.Failures != 0 || r.Applied != 1 {
			t.Fatalf("after a success: %+v", r)
		}
		if r := c.fail(4); r.Snapshot.State != Closed {
			t.Fatalf("4 failures after a success tripped the breaker: %+v", r.Snapshot)
		}
	})

	t.Run("ignored outcomes change no counter", func(t *testing.T) {
		c := newContract(t, newHarness(t), Config{FailureThreshold: 2})
		c.fail(1)
		d := c.acquire()
		r := c.report(Report{Incarnation: d.Snapshot.Incarnation, Generation: d.Snapshot.Generation, Outcome: Ignored})
		if r.Snapshot.Failures != 1 || r.Snapshot.State != Closed || r.Applied != 1 {
			t.Fatalf("after an ignored outcome: %+v", r)
		}
	})

	t.Run("open rejects until the open timeout, then admits one probe", func(t *testing.T) {
		h := newHarness(t)
		c := newContract(t, h, Config{OpenTimeout: 4 * h.unit, ProbeLease: 20 * h.unit})
		opened := c.trip()
		d := c.acquire()
		if d.Allowed || !errors.Is(d.Reason, ErrOpen) || d.Snapshot.State != Open {
			t.Fatalf("acquire while open = %+v", d)
		}
		if ra := d.Snapshot.RetryAfter(); ra <= 0 || ra > 4*h.unit {
			t.Fatalf("RetryAfter = %v, want in (0, %v]", ra, 4*h.unit)
		}
		h.advance(t, 4*h.unit)
		probe := c.acquire()
		if !probe.Allowed || !probe.Probe || probe.Snapshot.State != HalfOpen || probe.Snapshot.Generation != opened.Generation+1 {
			t.Fatalf("acquire after the open timeout = %+v", probe)
		}
		wantTransitions(t, probe.Transitions, [2]State{Open, HalfOpen})
		second := c.acquire()
		if second.Allowed || !errors.Is(second.Reason, ErrTooManyProbes) || len(second.Transitions) != 0 {
			t.Fatalf("second acquire while the probe runs = %+v", second)
		}
		if s := c.snapshot(); s.Probes != 1 || s.State != HalfOpen {
			t.Fatalf("snapshot while probing: %+v", s)
		}
	})

	t.Run("probe success closes after the success threshold", func(t *testing.T) {
		h := newHarness(t)
		c := newContract(t, h, Config{OpenTimeout: h.unit, SuccessThreshold: 2, HalfOpenMaxProbes: 2})
		c.trip()
		h.advance(t, h.unit)
		p1, t1 := c.acquireToken()
		p2, t2 := c.acquireToken()
		if !p1.Probe || !p2.Probe {
			t.Fatalf("two probe slots: %+v %+v", p1, p2)
		}
		r := c.report(Report{Incarnation: p1.Snapshot.Incarnation, Generation: p1.Snapshot.Generation, Token: t1, Outcome: Success})
		if r.Snapshot.State != HalfOpen || r.Snapshot.Successes != 1 || len(r.Transitions) != 0 {
			t.Fatalf("after one probe success: %+v", r)
		}
		r = c.report(Report{Incarnation: p2.Snapshot.Incarnation, Generation: p2.Snapshot.Generation, Token: t2, Outcome: Success})
		wantTransitions(t, r.Transitions, [2]State{HalfOpen, Closed})
		if s := r.Snapshot; s.State != Closed || s.Trips != 0 || s.Failures != 0 || s.Successes != 0 || s.Generation != p2.Snapshot.Generation+1 {
			t.Fatalf("closed snapshot = %+v", s)
		}
		if s := c.snapshot(); s.Probes != 0 {
			t.Fatalf("probes left after closing: %d", s.Probes)
		}
	})

	t.Run("probe failure reopens with a growing, capped timeout", func(t *testing.T) {
		h := newHarness(t)
		c := newContract(t, h, Config{OpenTimeout: h.unit, OpenTimeoutGrowth: 2, MaxOpenTimeout: 3 * h.unit})
		s := c.trip()
		want := []time.Duration{h.unit, 2 * h.unit, 3 * h.unit, 3 * h.unit}
		for i, w := range want {
			if got := s.OpenUntil.Sub(s.OpenedAt); got != w {
				t.Fatalf("trip %d: open for %v, want %v", i+1, got, w)
			}
			if s.Trips != int64(i+1) {
				t.Fatalf("trip %d: trips = %d", i+1, s.Trips)
			}
			if i == len(want)-1 {
				break
			}
			h.advance(t, w)
			d, tok := c.acquireToken()
			if !d.Probe {
				t.Fatalf("no probe after the open timeout: %+v", d)
			}
			r := c.report(Report{Incarnation: d.Snapshot.Incarnation, Generation: d.Snapshot.Generation, Token: tok, Outcome: Failure, Error: "still down"})
			wantTransitions(t, r.Transitions, [2]State{HalfOpen, Open})
			s = c.snapshot()
			if s.LastError != "still down" {
				t.Fatalf("last_error = %q", s.LastError)
			}
		}
	})

	t.Run("an ignored probe frees its slot and changes nothing", func(t *testing.T) {
		h := newHarness(t)
		c := newContract(t, h, Config{OpenTimeout: h.unit, ProbeLease: 20 * h.unit})
		c.trip()
		h.advance(t, h.unit)
		d, tok := c.acquireToken()
		r := c.report(Report{Incarnation: d.Snapshot.Incarnation, Generation: d.Snapshot.Generation, Token: tok, Outcome: Ignored})
		if r.Snapshot.State != HalfOpen || r.Applied != 1 || len(r.Transitions) != 0 {
			t.Fatalf("after an ignored probe: %+v", r)
		}
		if next := c.acquire(); !next.Probe {
			t.Fatalf("slot not freed: %+v", next)
		}
	})

	t.Run("a lapsed probe lease frees the slot and its report is stale", func(t *testing.T) {
		h := newHarness(t)
		c := newContract(t, h, Config{OpenTimeout: h.unit, ProbeLease: 2 * h.unit})
		c.trip()
		h.advance(t, h.unit)
		first, firstTok := c.acquireToken()
		if !first.Probe {
			t.Fatalf("no probe: %+v", first)
		}
		if d := c.acquire(); d.Allowed {
			t.Fatalf("second probe granted while the first holds its lease: %+v", d)
		}
		h.advance(t, 2*h.unit)
		second, secondTok := c.acquireToken()
		if !second.Probe || second.Snapshot.Generation != first.Snapshot.Generation {
			t.Fatalf("no probe after the lease lapsed: %+v", second)
		}
		r := c.report(Report{Incarnation: first.Snapshot.Incarnation, Generation: first.Snapshot.Generation, Token: firstTok, Outcome: Failure})
		if r.Stale != 1 || r.Applied != 0 || r.Snapshot.State != HalfOpen {
			t.Fatalf("report of the lapsed probe: %+v", r)
		}
		r = c.report(Report{Incarnation: second.Snapshot.Incarnation, Generation: second.Snapshot.Generation, Token: secondTok, Outcome: Success})
		if r.Snapshot.State != Closed {
			t.Fatalf("report of the live probe: %+v", r)
		}
	})

	t.Run("reports from an older generation are stale", func(t *testing.T) {
		c := newContract(t, newHarness(t), Config{FailureThreshold: 1})
		old := c.acquire()
		c.trip()
		before := c.snapshot()
		r := c.report(Report{Incarnation: old.Snapshot.Incarnation, Generation: old.Snapshot.Generation, Outcome: Failure}, Report{Incarnation: old.Snapshot.Incarnation, Generation: old.Snapshot.Generation, Outcome: Success, Count: 3})
		if r.Stale != 4 || r.Applied != 0 || len(r.Transitions) != 0 {
			t.Fatalf("stale reports: %+v", r)
		}
		after := c.snapshot()
		if after.Generation != before.Generation || after.State != before.State || after.Failures != before.Failures || !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Fatalf("stale reports changed the state: before %+v after %+v", before, after)
		}
	})

	t.Run("a batch is applied in order and goes stale after a trip", func(t *testing.T) {
		c := newContract(t, newHarness(t), Config{FailureThreshold: 3})
		d := c.acquire()
		g, inc := d.Snapshot.Generation, d.Snapshot.Incarnation
		r := c.report(
			Report{Incarnation: inc, Generation: g, Outcome: Failure},
			Report{Incarnation: inc, Generation: g, Outcome: Success, Count: 10},
			Report{Incarnation: inc, Generation: g, Outcome: Failure},
			Report{Incarnation: inc, Generation: g, Outcome: Failure},
			Report{Incarnation: inc, Generation: g, Outcome: Failure, Error: "third in a row"},
			Report{Incarnation: inc, Generation: g, Outcome: Failure},
			Report{Incarnation: inc, Generation: g, Outcome: Success, Count: 2},
		)
		if r.Applied != 14 || r.Stale != 3 || r.Snapshot.State != Open {
			t.Fatalf("batch result: %+v", r)
		}
		if s := c.snapshot(); s.LastError != "third in a row" {
			t.Fatalf("last_error = %q, want the failure that tripped it", s.LastError)
		}
		wantTransitions(t, r.Transitions, [2]State{Closed, Open})
	})

	t.Run("failure rate over the sliding window", func(t *testing.T) {
		h := newHarness(t)
		c := newContract(t, h, Config{FailureThreshold: Off, FailureRate: 0.5, MinimumCalls: 6, Window: 8 * h.unit, WindowBuckets: 4})
		d := c.acquire()
		g, inc := d.Snapshot.Generation, d.Snapshot.Incarnation
		// 5 calls, 4 failed: above the rate, below the minimum.
		r := c.report(Report{Incarnation: inc, Generation: g, Outcome: Failure}, Report{Incarnation: inc, Generation: g, Outcome: Failure},
			Report{Incarnation: inc, Generation: g, Outcome: Failure}, Report{Incarnation: inc, Generation: g, Outcome: Failure}, Report{Incarnation: inc, Generation: g, Outcome: Success})
		if r.Snapshot.State != Closed {
			t.Fatalf("tripped below MinimumCalls: %+v", r.Snapshot)
		}
		if s := c.snapshot(); s.Window != (WindowCounts{Calls: 5, Failures: 4}) {
			t.Fatalf("window = %+v", s.Window)
		}
		// The window slides: the old calls fall out.
		h.advance(t, 8*h.unit)
		if s := c.snapshot(); s.Window != (WindowCounts{}) {
			t.Fatalf("window after it slid past = %+v", s.Window)
		}
		r = c.report(Report{Incarnation: inc, Generation: g, Outcome: Success, Count: 3}, Report{Incarnation: inc, Generation: g, Outcome: Failure},
			Report{Incarnation: inc, Generation: g, Outcome: Failure})
		if r.Snapshot.State != Closed {
			t.Fatalf("tripped at 2 failures in 5 calls: %+v", r.Snapshot)
		}
		r = c.report(Report{Incarnation: inc, Generation: g, Outcome: Failure})
		if r.Snapshot.State != Open {
			t.Fatalf("3 failures in 6 calls did not trip at rate 0.5: %+v", r.Snapshot)
		}
		wantTransitions(t, r.Transitions, [2]State{Closed, Open})
		if s := c.snapshot(); s.Window != (WindowCounts{}) {
			t.Fatalf("window not cleared by the trip: %+v", s.Window)
		}
	})

	t.Run("slow-call rate trips, and a slow probe fails", func(t *testing.T) {
		h := newHarness(t)
		c := newContract(t, h, Config{FailureThreshold: Off, SlowCallRate: 0.5, MinimumCalls: 4, OpenTimeout: h.unit})
		d := c.acquire()
		g, inc := d.Snapshot.Generation, d.Snapshot.Incarnation
		r := c.report(Report{Incarnation: inc, Generation: g, Outcome: Success, Slow: true}, Report{Incarnation: inc, Generation: g, Outcome: Success},
			Report{Incarnation: inc, Generation: g, Outcome: Success})
		if r.Snapshot.State != Closed {
			t.Fatalf("tripped below MinimumCalls: %+v", r.Snapshot)
		}
		r = c.report(Report{Incarnation: inc, Generation: g, Outcome: Success, Slow: true})
		if r.Snapshot.State != Open {
			t.Fatalf("2 slow calls in 4 did not trip at rate 0.5: %+v", r.Snapshot)
		}
		h.advance(t, h.unit)
		p, tok := c.acquireToken()
		r = c.report(Report{Incarnation: p.Snapshot.Incarnation, Generation: p.Snapshot.Generation, Token: tok, Outcome: Success, Slow: true})
		wantTransitions(t, r.Transitions, [2]State{HalfOpen, Open})
	})

	t.Run("force open rejects everywhere until reset", func(t *testing.T) {
		c := newContract(t, newHarness(t), Config{})
		inFlight := c.acquire()
		s, tr := c.override(ActionForceOpen)
		wantTransitions(t, tr, [2]State{Closed, ForcedOpen})
		if s.State != ForcedOpen || s.Underlying != Closed || s.Generation != 1 {
			t.Fatalf("forced open snapshot: %+v", s)
		}
		d := c.acquire()
		if d.Allowed || !errors.Is(d.Reason, ErrForcedOpen) {
			t.Fatalf("acquire while forced open: %+v", d)
		}
		if r := c.report(Report{Incarnation: inFlight.Snapshot.Incarnation, Generation: inFlight.Snapshot.Generation, Outcome: Failure}); r.Stale != 1 {
			t.Fatalf("in-flight report after forcing: %+v", r)
		}
		if _, tr := c.override(ActionForceOpen); len(tr) != 0 {
			t.Fatalf("forcing open twice made a transition: %+v", tr)
		}
		s, tr = c.override(ActionReset)
		wantTransitions(t, tr, [2]State{ForcedOpen, Closed})
		if s.State != Closed || s.Generation != 2 {
			t.Fatalf("after reset: %+v", s)
		}
		if d := c.acquire(); !d.Allowed {
			t.Fatalf("acquire after reset: %+v", d)
		}
	})

	t.Run("force closed admits and counts but never trips", func(t *testing.T) {
		h := newHarness(t)
		c := newContract(t, h, Config{FailureThreshold: 2, OpenTimeout: 4 * h.unit})
		c.trip()
		s, tr := c.override(ActionForceClosed)
		wantTransitions(t, tr, [2]State{Open, ForcedClosed})
		if s.State != ForcedClosed || s.Underlying != Closed {
			t.Fatalf("forced closed snapshot: %+v", s)
		}
		r := c.fail(5)
		if r.Snapshot.State != ForcedClosed || r.Snapshot.Failures != 5 || len(r.Transitions) != 0 {
			t.Fatalf("failures while forced closed: %+v", r)
		}
		s, _ = c.override(ActionReset)
		if s.State != Closed || s.Failures != 0 {
			t.Fatalf("after reset: %+v", s)
		}
	})

	t.Run("disable admits everything and records nothing", func(t *testing.T) {
		c := newContract(t, newHarness(t), Config{FailureThreshold: 1})
		s, tr := c.override(ActionDisable)
		wantTransitions(t, tr, [2]State{Closed, Disabled})
		d := c.acquire()
		if !d.Allowed || d.Snapshot.State != Disabled {
			t.Fatalf("acquire while disabled: %+v", d)
		}
		r := c.report(Report{Incarnation: d.Snapshot.Incarnation, Generation: d.Snapshot.Generation, Outcome: Failure})
		if r.Snapshot.State != Disabled || r.Snapshot.Failures != 0 || r.Applied != 0 {
			t.Fatalf("report while disabled: %+v", r)
		}
		if s.Generation != d.Snapshot.Generation {
			t.Fatalf("generation moved without a transition")
		}
	})

	t.Run("reset clears a tripped breaker and its leases", func(t *testing.T) {
		h := newHarness(t)
		c := newContract(t, h, Config{OpenTimeout: h.unit, ProbeLease: 20 * h.unit})
		c.trip()
		h.advance(t, h.unit)
		if d := c.acquire(); !d.Probe {
			t.Fatalf("no probe: %+v", d)
		}
		s, tr := c.override(ActionReset)
		wantTransitions(t, tr, [2]State{HalfOpen, Closed})
		if s.State != Closed || s.Trips != 0 || s.Failures != 0 || !s.OpenUntil.IsZero() {
			t.Fatalf("after reset: %+v", s)
		}
		if s := c.snapshot(); s.Probes != 0 {
			t.Fatalf("probe leases survived reset: %d", s.Probes)
		}
	})

	t.Run("live probe leases count against the next half-open period", func(t *testing.T) {
		h := newHarness(t)
		c := newContract(t, h, Config{OpenTimeout: h.unit, ProbeLease: 40 * h.unit, HalfOpenMaxProbes: 3})
		c.trip()
		h.advance(t, h.unit)
		var probes []Decision
		var tokens []string
		for i := 0; i < 3; i++ {
			d, tok := c.acquireToken()
			if !d.Probe {
				t.Fatalf("probe %d: %+v", i+1, d)
			}
			probes, tokens = append(probes, d), append(tokens, tok)
		}
		// The first probe fails and reopens the breaker while the other two
		// still run: the next half-open period has one slot, not three.
		r := c.report(Report{Incarnation: probes[0].Snapshot.Incarnation, Generation: probes[0].Snapshot.Generation, Token: tokens[0], Outcome: Failure})
		wantTransitions(t, r.Transitions, [2]State{HalfOpen, Open})
		h.advance(t, h.unit)
		if d := c.acquire(); !d.Probe {
			t.Fatalf("the free slot: %+v", d)
		}
		if d := c.acquire(); d.Allowed || !errors.Is(d.Reason, ErrTooManyProbes) {
			t.Fatalf("a slot beyond the two probes still running: %+v", d)
		}
		// A probe of the old period reports: stale, and its slot is free.
		r = c.report(Report{Incarnation: probes[1].Snapshot.Incarnation, Generation: probes[1].Snapshot.Generation, Token: tokens[1], Outcome: Success})
		if r.Stale != 1 || r.Applied != 0 {
			t.Fatalf("report of a probe from the previous period: %+v", r)
		}
		if d := c.acquire(); !d.Probe {
			t.Fatalf("the slot the old probe gave back: %+v", d)
		}
	})

	t.Run("successes folded into one report all count", func(t *testing.T) {
		c := newContract(t, newHarness(t), Config{})
		if r := c.report(Report{Outcome: Success, Count: 7}); r.Applied != 7 || r.Stale != 0 {
			t.Fatalf("7 folded successes on a breaker never written: %+v", r)
		}
		c.fail(1)
		d := c.acquire()
		r := c.report(Report{Incarnation: d.Snapshot.Incarnation, Generation: d.Snapshot.Generation, Outcome: Success, Count: 7})
		if r.Applied != 7 || r.Snapshot.Failures != 0 {
			t.Fatalf("7 folded successes after a failure: %+v", r)
		}
		r = c.report(Report{Incarnation: d.Snapshot.Incarnation, Generation: d.Snapshot.Generation, Outcome: Success, Count: 7})
		if r.Applied != 7 {
			t.Fatalf("7 folded successes with no failure to reset: %+v", r)
		}
	})

	t.Run("incarnations", func(t *testing.T) {
		c := newContract(t, newHarness(t), Config{FailureThreshold: 2})
		d := c.acquire()
		if d.Snapshot.Incarnation != "" || d.Snapshot.Generation != 0 {
			t.Fatalf("a breaker never written: %+v", d.Snapshot)
		}
		r := c.report(Report{Outcome: Success})
		if r.Applied != 1 || r.Snapshot.Incarnation != "" {
			t.Fatalf("a success on a breaker never written writes nothing: %+v", r)
		}
		r = c.report(Report{Outcome: Failure})
		inc := r.Snapshot.Incarnation
		if r.Applied != 1 || inc == "" || r.Snapshot.Failures != 1 {
			t.Fatalf("the first failure: %+v", r)
		}
		// Admitted before the state was written: still counts at generation 0.
		r = c.report(Report{Outcome: Failure})
		if r.Applied != 1 || r.Snapshot.State != Open || r.Snapshot.Incarnation != inc || r.Transitions[0].Incarnation != inc {
			t.Fatalf("the second failure: %+v", r)
		}
		// Another incarnation's report is stale whatever its generation.
		r = c.report(Report{Incarnation: "other1", Generation: 1, Outcome: Failure})
		if r.Stale != 1 || r.Applied != 0 {
			t.Fatalf("a report of another incarnation: %+v", r)
		}
		if s, _ := c.override(ActionReset); s.Incarnation != inc {
			t.Fatalf("reset changed the incarnation: %q, was %q", s.Incarnation, inc)
		}
	})

	t.Run("invalid input is an error", func(t *testing.T) {
		c := newContract(t, newHarness(t), Config{})
		if _, err := c.store.Report(context.Background(), c.name, c.p, []Report{{Outcome: Outcome(9)}}); err == nil {
			t.Error("Report accepted outcome 9")
		}
		if _, _, err := c.store.Override(context.Background(), c.name, Action(9)); err == nil {
			t.Error("Override accepted action 9")
		}
	})
}
