package main

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// window is a span of the run, timed from its start.
type window struct {
	Start, End time.Duration
}

// reportInput is what the report is computed from: the run's event log and
// what the tool knows besides.
type reportInput struct {
	Scenario  string
	Mode      string
	Replicas  int
	Threshold int
	// Fault is when the upstream was faulty (as applied), nil if never.
	Fault *window
	// RedisDown is when the tool's own Redis was stopped, nil if never.
	RedisDown *window
	// UpstreamCalls is the fake upstream's count of requests received.
	UpstreamCalls int64
	// End is when the run ended.
	End time.Duration
}

// latency summarises durations, in milliseconds.
type latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// result is one mode's row of the report. Every figure is defined in
// docs/loadtest.md; a null (nil) figure did not happen or does not apply
// (a breaker that never opened has no time to open).
type result struct {
	Mode              string  `json:"mode"`
	RedisKeyPrefix    string  `json:"redis_key_prefix,omitempty"`
	Requests          int64   `json:"requests"`
	Responded         int64   `json:"responded"`
	RespondedFull     int64   `json:"responded_full"`
	RespondedDegraded int64   `json:"responded_degraded"`
	Failed            int64   `json:"failed"`
	RespondedRatio    float64 `json:"responded_ratio"`
	LostInCrash       int64   `json:"lost_in_crash"`
	ReplicasKilled    int64   `json:"replicas_killed"`

	UpstreamCalls       int64   `json:"upstream_calls"`
	UpstreamCallsSeen   int64   `json:"upstream_calls_seen"`
	FailedUpstreamCalls int64   `json:"failed_upstream_calls"`
	Amplification       float64 `json:"amplification"`
	// FaultAmplification is Amplification over the fault window only.
	FaultAmplification *float64 `json:"fault_amplification"`

	FailedUpstreamCallsBeforeOpen *int64 `json:"failed_upstream_calls_before_open"`
	StaleFailuresBeforeOpen       *int64 `json:"stale_failures_before_open"`
	RecordedFailuresBeforeOpen    *int64 `json:"recorded_failures_before_open"`
	// LateSuccessesBeforeOpen: calls that succeeded but ended after the
	// outage began and before the trip. Each one's report resets the
	// consecutive-failure count, so the breaker may rightly record up to
	// threshold − 1 more failures per late success.
	LateSuccessesBeforeOpen *int64   `json:"late_successes_before_open"`
	AdmittedWhileOpen       *int64   `json:"admitted_while_open"`
	MaxConcurrentProbes     *int64   `json:"max_concurrent_half_open_probes"`
	TimeToTripMs            *float64 `json:"time_to_trip_ms"`
	TimeToOpenMs            *float64 `json:"time_to_open_ms"`
	TimeToCloseMs           *float64 `json:"time_to_close_ms"`
	Transitions             int64    `json:"transitions"`

	Latency         latency `json:"latency_ms"`
	FallbackLatency latency `json:"fallback_latency_ms"`
	GuardOverhead   latency `json:"guard_overhead_ms"`

	StoreErrors         int64  `json:"store_errors"`
	StaleReports        int64  `json:"stale_reports"`
	LocalDecisions      int64  `json:"local_decisions"`
	RedisCausedFailures *int64 `json:"redis_caused_failures"`

	DurationMs float64 `json:"duration_ms"`
	// MaxStallMs is the longest pause of the tool's process during the run
	// (see stallMeter).
	MaxStallMs float64 `json:"max_stall_ms"`
}

// sharedMode reports whether every replica shares one breaker in Redis.
func sharedMode(mode string) bool { return mode == modeStrict || mode == modeFast }

// compute derives the report from a run's events, sorted by time.
func compute(in reportInput, events []event) result {
	r := result{Mode: in.Mode, UpstreamCalls: in.UpstreamCalls, DurationMs: ms(in.End)}
	var all, fallback, overhead []time.Duration
	last := map[int]event{} // last state sample per replica
	for _, e := range events {
		switch e.Kind {
		case kindRequest:
			r.Requests++
			all = append(all, e.Dur)
			switch e.Outcome {
			case outcomeFull:
				r.RespondedFull++
				// The guard's own cost: time in the primary step not
				// spent in the one upstream call it made.
				if e.Attempts == 1 {
					overhead = append(overhead, max(e.Primary-e.CallDur, 0))
				}
			case outcomeDegraded:
				r.RespondedDegraded++
				fallback = append(fallback, e.Dur)
			default:
				r.Failed++
			}
		case kindLost:
			r.LostInCrash++
		case kindCrash:
			r.ReplicasKilled++
		case kindCall:
			r.UpstreamCallsSeen++
			if !e.OK {
				r.FailedUpstreamCalls++
			}
		case kindTransition:
			r.Transitions++
		case kindState:
			last[e.Replica] = e
		}
	}
	r.Responded = r.RespondedFull + r.RespondedDegraded
	if r.Requests > 0 {
		r.RespondedRatio = float64(r.Responded) / float64(r.Requests)
		r.Amplification = float64(r.UpstreamCalls) / float64(r.Requests)
	}
	r.Latency = summarise(all)
	r.FallbackLatency = summarise(fallback)
	r.GuardOverhead = summarise(overhead)
	for _, e := range last {
		r.StoreErrors += e.StoreErrs
		r.StaleReports += e.Stale
		r.LocalDecisions += e.Local
	}
	if in.Scenario == scenarioRedisDown && sharedMode(in.Mode) {
		// The upstream is healthy throughout: every request not answered
		// in full was failed by Redis' absence.
		n := r.Requests - r.RespondedFull
		r.RedisCausedFailures = &n
	}
	if in.Fault != nil {
		var calls, requests int64
		for _, e := range events {
			if e.At < in.Fault.Start || e.At >= in.Fault.End {
				continue
			}
			switch e.Kind {
			case kindCall:
				calls++
			case kindRequest:
				requests++
			}
		}
		if requests > 0 {
			r.FaultAmplification = ptr(math.Round(1000*float64(calls)/float64(requests)) / 1000)
		}
	}
	if in.Mode == modeNone {
		return r
	}

	scopes := breakerScopes(in.Mode, in.Replicas, events)
	n := admittedWhileOpen(scopes, events, in.End)
	r.AdmittedWhileOpen = &n
	p := maxConcurrentProbes(events)
	r.MaxConcurrentProbes = &p
	if in.Fault != nil {
		if t, ok := firstTransitionTo(events, stateOpen, in.Fault.Start); ok {
			r.TimeToTripMs = ptr(ms(t - in.Fault.Start))
		}
		if open, ok := allRejecting(events, in.Replicas, *in.Fault); ok {
			r.TimeToOpenMs = ptr(ms(open - in.Fault.Start))
			f := failedCallsBetween(events, in.Fault.Start, open)
			r.FailedUpstreamCallsBeforeOpen = &f
			// Their reports that the store found stale: calls admitted
			// before the trip was committed, answered after it.
			until := in.Fault.End
			if t, ok := firstTransitionTo(events, stateHalfOpen, open); ok {
				until = min(until, t)
			}
			stale := min(staleBetween(events, in.Fault.Start, until), f)
			recorded := f - stale
			late := lateSuccessesBetween(events, in.Fault.Start, open)
			r.StaleFailuresBeforeOpen, r.RecordedFailuresBeforeOpen, r.LateSuccessesBeforeOpen = &stale, &recorded, &late
		}
		if d, ok := timeToClose(liveScopes(scopes, events), in.Fault.End); ok {
			r.TimeToCloseMs = ptr(ms(d))
		}
	}
	return r
}

// scope is one breaker as the report sees it: the replicas that share it
// and the transitions committed on it, in time order. The shared modes
// have one scope for the whole fleet; local mode has one per replica.
type scope struct {
	replicas    map[int]bool
	transitions []event
}

func breakerScopes(mode string, replicas int, events []event) []scope {
	var scopes []scope
	if sharedMode(mode) {
		s := scope{replicas: map[int]bool{}}
		for i := range replicas {
			s.replicas[i] = true
		}
		scopes = []scope{s}
	} else {
		for i := range replicas {
			scopes = append(scopes, scope{replicas: map[int]bool{i: true}})
		}
	}
	for _, e := range events {
		if e.Kind != kindTransition {
			continue
		}
		for i := range scopes {
			if scopes[i].replicas[e.Replica] {
				scopes[i].transitions = append(scopes[i].transitions, e)
			}
		}
	}
	return scopes
}

// liveScopes leaves out the breakers whose replicas all died: nobody waits
// for a dead replica's breaker to close.
func liveScopes(scopes []scope, events []event) []scope {
	dead := map[int]bool{}
	for _, e := range events {
		if e.Kind == kindCrash {
			dead[e.Replica] = true
		}
	}
	var out []scope
	for _, s := range scopes {
		for i := range s.replicas {
			if !dead[i] {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// openIntervals are the spans during which the scope's breaker was open:
// from a transition to open until the next transition, or the end.
func (s scope) openIntervals(end time.Duration) []window {
	var out []window
	for i, t := range s.transitions {
		if t.To != stateOpen {
			continue
		}
		w := window{Start: t.At, End: end}
		if i+1 < len(s.transitions) {
			w.End = s.transitions[i+1].At
		}
		out = append(out, w)
	}
	return out
}

// stateAt is the scope's committed state at time t (closed before any
// transition).
func (s scope) stateAt(t time.Duration) state {
	st := stateClosed
	for _, tr := range s.transitions {
		if tr.At > t {
			break
		}
		st = tr.To
	}
	return st
}

// admittedWhileOpen counts the upstream calls whose admission began while
// the breaker they passed was open, by its committed transitions. Probes
// are not counted: a probe's own admission moves an open breaker whose
// timeout has passed to half-open, so it always begins in open. A call's
// Admit time is no later than the start of the breaker's Allow that let it
// through (the call's own start is later, and a call admitted just before
// the trip may start just after it), so a call counted here was admitted
// after the replica that committed the trip had heard of it.
func admittedWhileOpen(scopes []scope, events []event, end time.Duration) int64 {
	var n int64
	for _, s := range scopes {
		open := s.openIntervals(end)
		for _, e := range events {
			if e.Kind != kindCall || e.Probe || !s.replicas[e.Replica] {
				continue
			}
			for _, w := range open {
				if e.Admit >= w.Start && e.Admit < w.End {
					n++
					break
				}
			}
		}
	}
	return n
}

// maxConcurrentProbes is the largest number of upstream calls made under a
// half-open probe permit that were in flight at the same instant, across
// all replicas.
func maxConcurrentProbes(events []event) int64 {
	type edge struct {
		at    time.Duration
		delta int64
	}
	var edges []edge
	for _, e := range events {
		if e.Kind == kindCall && e.Probe {
			edges = append(edges, edge{e.At, 1}, edge{e.At + e.Dur, -1})
		}
	}
	// Ends before starts at the same instant: [start, end) intervals.
	slices.SortFunc(edges, func(a, b edge) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.delta, b.delta))
	})
	var cur, peak int64
	for _, e := range edges {
		cur += e.delta
		peak = max(peak, cur)
	}
	return peak
}

// firstTransitionTo is the time of the first committed transition to st at
// or after from.
func firstTransitionTo(events []event, st state, from time.Duration) (time.Duration, bool) {
	for _, e := range events {
		if e.Kind == kindTransition && e.To == st && e.At >= from {
			return e.At, true
		}
	}
	return 0, false
}

// allRejecting is the moment, within the fault window, from which every
// replica's breaker had rejected a call: the latest of each replica's
// first rejection after the fault began. ok is false when some replica
// never rejected during the fault.
func allRejecting(events []event, replicas int, fault window) (time.Duration, bool) {
	first := map[int]time.Duration{}
	for _, e := range events {
		if e.Kind == kindReject && e.At >= fault.Start && e.At <= fault.End {
			if _, seen := first[e.Replica]; !seen {
				first[e.Replica] = e.At
			}
		}
	}
	var latest time.Duration
	for i := range replicas {
		t, ok := first[i]
		if !ok {
			return 0, false
		}
		latest = max(latest, t)
	}
	return latest, true
}

// failedCallsBetween counts the failed upstream calls that started in
// [from, to).
func failedCallsBetween(events []event, from, to time.Duration) int64 {
	var n int64
	for _, e := range events {
		if e.Kind == kindCall && !e.OK && e.At >= from && e.At < to {
			n++
		}
	}
	return n
}

// lateSuccessesBetween counts calls that succeeded and ended in [from,
// to): started before an outage, answered during it.
func lateSuccessesBetween(events []event, from, to time.Duration) int64 {
	var n int64
	for _, e := range events {
		if e.Kind == kindCall && e.OK && e.At < from && e.At+e.Dur >= from && e.At+e.Dur < to {
			n++
		}
	}
	return n
}

// staleBetween counts the reports the store discarded as stale, told of in
// [from, to).
func staleBetween(events []event, from, to time.Duration) int64 {
	var n int64
	for _, e := range events {
		if e.Kind == kindStale && e.At >= from && e.At < to {
			n += e.N
		}
	}
	return n
}

// timeToClose is how long after recovery every breaker was closed again:
// zero for a breaker closed at recovery, else the time of its first
// transition to closed after it. ok is false when a breaker never closed,
// or when none ever opened.
func timeToClose(scopes []scope, recovery time.Duration) (time.Duration, bool) {
	var worst time.Duration
	opened := false
	for _, s := range scopes {
		if len(s.openIntervals(math.MaxInt64)) > 0 {
			opened = true
		}
		if s.stateAt(recovery) == stateClosed {
			continue
		}
		closedAt, ok := time.Duration(0), false
		for _, t := range s.transitions {
			if t.At >= recovery && t.To == stateClosed {
				closedAt, ok = t.At, true
				break
			}
		}
		if !ok {
			return 0, false
		}
		worst = max(worst, closedAt-recovery)
	}
	return worst, opened
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value with at least p % of the values
// at or below it. Zero for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func summarise(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return latency{
		Count: int64(len(s)),
		P50:   ms(percentile(s, 50)),
		P95:   ms(percentile(s, 95)),
		P99:   ms(percentile(s, 99)),
		Max:   ms(s[len(s)-1]),
	}
}

// ms converts to milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

func ptr[T any](v T) *T { return &v }
