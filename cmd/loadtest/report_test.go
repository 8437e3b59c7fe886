package main

import (
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := time.Millisecond
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * ms // 1ms … 100ms
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", []time.Duration{7 * ms}, 99, 7 * ms},
		{"median of two is the lower", []time.Duration{1 * ms, 9 * ms}, 50, 1 * ms},
		{"just past half takes the upper", []time.Duration{1 * ms, 9 * ms}, 51, 9 * ms},
		{"p50 of 1..100", hundred, 50, 50 * ms},
		{"p95 of 1..100", hundred, 95, 95 * ms},
		{"p99 of 1..100", hundred, 99, 99 * ms},
		{"p100 is the max", hundred, 100, 100 * ms},
		{"tiny p is the min", hundred, 0.001, 1 * ms},
		{"nearest rank rounds up", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 95, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummariseDoesNotReorderItsInput(t *testing.T) {
	in := []time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond, 10 * time.Millisecond}
	orig := slices.Clone(in)
	got := summarise(in)
	want := latency{Count: 4, P50: 2, P95: 10, P99: 10, Max: 10}
	if got != want {
		t.Errorf("summarise = %+v, want %+v", got, want)
	}
	if !slices.Equal(in, orig) {
		t.Errorf("summarise reordered its input: %v", in)
	}
}

// eventLogBuilder writes synthetic event logs, times in milliseconds.
type eventLogBuilder struct{ events []event }

func msAt(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// call logs an upstream call whose admission began 0.1 ms before it.
func (b *eventLogBuilder) call(replica int, start, dur float64, ok bool) *eventLogBuilder {
	b.events = append(b.events, event{Kind: kindCall, Replica: replica, At: msAt(start), Dur: msAt(dur), OK: ok, Admit: msAt(start - 0.1)})
	return b
}

func (b *eventLogBuilder) probe(replica int, start, dur float64, ok bool) *eventLogBuilder {
	b.events = append(b.events, event{Kind: kindCall, Replica: replica, At: msAt(start), Dur: msAt(dur), OK: ok, Probe: true})
	return b
}

func (b *eventLogBuilder) request(replica int, start, dur float64, o outcome) *eventLogBuilder {
	b.events = append(b.events, event{Kind: kindRequest, Replica: replica, At: msAt(start), Dur: msAt(dur), Outcome: o})
	return b
}

func (b *eventLogBuilder) reject(replica int, when float64) *eventLogBuilder {
	b.events = append(b.events, event{Kind: kindReject, Replica: replica, At: msAt(when)})
	return b
}

func (b *eventLogBuilder) transition(replica int, when float64, from, to state) *eventLogBuilder {
	b.events = append(b.events, event{Kind: kindTransition, Replica: replica, At: msAt(when), From: from, To: to})
	return b
}

func (b *eventLogBuilder) stale(replica int, when float64, n int64) *eventLogBuilder {
	b.events = append(b.events, event{Kind: kindStale, Replica: replica, At: msAt(when), N: n})
	return b
}

func (b *eventLogBuilder) sorted() []event {
	out := slices.Clone(b.events)
	slices.SortStableFunc(out, func(x, y event) int { return int(x.At - y.At) })
	return out
}

// outageLog is a shared breaker's outage, fault from 1000 to 3000 ms, on
// three replicas: six calls fail (one of them in flight at the trip, its
// report stale), the trip is committed at 1010, every replica rejects by
// 1030, one failed probe at 2010, a successful one at 4010.
func outageLog() *eventLogBuilder {
	b := &eventLogBuilder{}
	b.call(0, 900, 1, true).request(0, 899, 2, outcomeFull)
	b.call(1, 950, 1, true).request(1, 949, 2, outcomeFull)
	for i, r := range []int{0, 1, 2, 0, 1, 2} {
		start := 1001 + float64(i)
		b.call(r, start, 1, false).request(r, start-1, 3, outcomeDegraded)
	}
	b.transition(2, 1010, stateClosed, stateOpen)
	b.stale(2, 1011, 1)
	b.reject(0, 1012).reject(2, 1020).reject(1, 1030).reject(0, 1500)
	b.transition(1, 2010, stateOpen, stateHalfOpen)
	b.probe(1, 2010.5, 1, false)
	b.transition(1, 2012, stateHalfOpen, stateOpen)
	b.reject(2, 2500)
	b.transition(0, 4010, stateOpen, stateHalfOpen)
	b.probe(0, 4010.5, 1, true)
	b.transition(0, 4012, stateHalfOpen, stateClosed)
	b.call(2, 4100, 1, true).request(2, 4099, 2, outcomeFull)
	b.request(1, 4200, 1, outcomeFailed)
	return b
}

func TestComputeSharedOutage(t *testing.T) {
	in := reportInput{Scenario: scenarioOutage, Mode: modeStrict, Replicas: 3, Threshold: 5,
		Fault: &window{msAt(1000), msAt(3000)}, UpstreamCalls: 11, End: msAt(5000)}
	r := compute(in, outageLog().sorted())

	ints := []struct {
		name string
		got  *int64
		want int64
	}{
		{"failed_upstream_calls_before_open", r.FailedUpstreamCallsBeforeOpen, 6},
		{"stale_failures_before_open", r.StaleFailuresBeforeOpen, 1},
		{"recorded_failures_before_open", r.RecordedFailuresBeforeOpen, 5},
		{"admitted_while_open", r.AdmittedWhileOpen, 0},
		{"max_concurrent_half_open_probes", r.MaxConcurrentProbes, 1},
	}
	for _, tt := range ints {
		if tt.got == nil || *tt.got != tt.want {
			t.Errorf("%s = %s, want %d", tt.name, fmtInt(tt.got), tt.want)
		}
	}
	floats := []struct {
		name string
		got  *float64
		want float64
	}{
		{"time_to_trip_ms", r.TimeToTripMs, 10},
		{"time_to_open_ms", r.TimeToOpenMs, 30},
		{"time_to_close_ms", r.TimeToCloseMs, 1012},
	}
	for _, tt := range floats {
		if tt.got == nil || *tt.got != tt.want {
			t.Errorf("%s = %s, want %v", tt.name, fmtFloat(tt.got), tt.want)
		}
	}
	if r.Requests != 10 || r.RespondedFull != 3 || r.RespondedDegraded != 6 || r.Failed != 1 || r.Responded != 9 {
		t.Errorf("requests %d = full %d + degraded %d + failed %d (responded %d), want 10 = 3 + 6 + 1 (9)",
			r.Requests, r.RespondedFull, r.RespondedDegraded, r.Failed, r.Responded)
	}
	if r.RespondedRatio != 0.9 {
		t.Errorf("responded_ratio = %v, want 0.9", r.RespondedRatio)
	}
	if r.Amplification != 1.1 {
		t.Errorf("amplification = %v, want 11 upstream calls / 10 requests = 1.1", r.Amplification)
	}
	if r.UpstreamCallsSeen != 11 || r.FailedUpstreamCalls != 7 {
		t.Errorf("calls seen %d, failed %d; want 11 and 7", r.UpstreamCallsSeen, r.FailedUpstreamCalls)
	}
	// In [1000, 3000): 6 calls and the 6 requests that made them, plus the
	// probe at 2010.5 (no request of its own in this log).
	if r.FaultAmplification == nil || *r.FaultAmplification != 1.167 {
		t.Errorf("fault_amplification = %s, want 7/6 = 1.167", fmtFloat(r.FaultAmplification))
	}
	if r.Transitions != 5 {
		t.Errorf("transitions = %d, want 5", r.Transitions)
	}
	if r.RedisCausedFailures != nil {
		t.Errorf("redis_caused_failures = %d outside redis-down, want null", *r.RedisCausedFailures)
	}
}

func TestComputeCountsCallsAdmittedWhileOpen(t *testing.T) {
	// Fast mode: replica 1 learns of the trip late and calls twice after
	// it was committed; a probe after the open timeout does not count.
	b := &eventLogBuilder{}
	b.transition(0, 100, stateClosed, stateOpen)
	b.call(1, 99, 1, false)    // before the trip
	b.call(1, 100.1, 1, false) // admitted at the trip: after it
	b.call(1, 104, 1, false)
	// Admitted just before the trip, started just after it: not counted.
	b.events = append(b.events, event{Kind: kindCall, Replica: 2, At: msAt(100.5), Admit: msAt(99.9), Dur: msAt(1)})
	// The probe's admission began while open: it moved the breaker on.
	b.events = append(b.events, event{Kind: kindCall, Replica: 2, At: msAt(2100.5), Admit: msAt(2099.9), Dur: msAt(1), OK: true, Probe: true})
	b.transition(2, 2100, stateOpen, stateHalfOpen)
	b.transition(2, 2102, stateHalfOpen, stateClosed)
	b.call(0, 2200, 1, true)
	r := compute(reportInput{Mode: modeFast, Replicas: 3, End: msAt(3000)}, b.sorted())
	if r.AdmittedWhileOpen == nil || *r.AdmittedWhileOpen != 2 {
		t.Errorf("admitted_while_open = %s, want 2", fmtInt(r.AdmittedWhileOpen))
	}
}

func TestComputeLocalBreakersTripEachOnTheirOwn(t *testing.T) {
	// Local mode: each replica trips after its own five failures, so 15
	// failed calls pass before every replica rejects; replica 0's breaker
	// being open says nothing about replica 1's calls.
	b := &eventLogBuilder{}
	for r := range 3 {
		for i := range 5 {
			b.call(r, 1000+float64(r*20+i), 1, false)
		}
		b.transition(r, 1000+float64(r*20+5), stateClosed, stateOpen)
		b.reject(r, 1000+float64(r*20+6))
	}
	r := compute(reportInput{Mode: modeLocal, Replicas: 3, Threshold: 5, Fault: &window{msAt(1000), msAt(2000)}, End: msAt(4000)}, b.sorted())
	if r.FailedUpstreamCallsBeforeOpen == nil || *r.FailedUpstreamCallsBeforeOpen != 15 {
		t.Errorf("failed_upstream_calls_before_open = %s, want 15", fmtInt(r.FailedUpstreamCallsBeforeOpen))
	}
	if r.AdmittedWhileOpen == nil || *r.AdmittedWhileOpen != 0 {
		t.Errorf("admitted_while_open = %s, want 0: each replica's calls happened while its own breaker was closed", fmtInt(r.AdmittedWhileOpen))
	}
	if r.TimeToOpenMs == nil || *r.TimeToOpenMs != 46 {
		t.Errorf("time_to_open_ms = %s, want 46 (replica 2's first rejection)", fmtFloat(r.TimeToOpenMs))
	}
	if r.TimeToCloseMs != nil {
		t.Errorf("time_to_close_ms = %v, want null: no breaker closed", *r.TimeToCloseMs)
	}
}

func TestComputeNullsWhatDidNotHappen(t *testing.T) {
	tests := []struct {
		name  string
		in    reportInput
		log   *eventLogBuilder
		check func(t *testing.T, r result)
	}{
		{
			name: "no breaker",
			in:   reportInput{Scenario: scenarioOutage, Mode: modeNone, Replicas: 1, Fault: &window{0, msAt(100)}, End: msAt(200), UpstreamCalls: 8},
			log:  (&eventLogBuilder{}).call(0, 1, 1, false).request(0, 0, 5, outcomeDegraded).request(0, 6, 5, outcomeDegraded),
			check: func(t *testing.T, r result) {
				if r.FailedUpstreamCallsBeforeOpen != nil || r.AdmittedWhileOpen != nil || r.MaxConcurrentProbes != nil || r.TimeToOpenMs != nil {
					t.Errorf("breaker figures without a breaker: %+v", r)
				}
				if r.Amplification != 4 {
					t.Errorf("amplification = %v, want 8/2", r.Amplification)
				}
			},
		},
		{
			name: "one replica never rejected",
			in:   reportInput{Scenario: scenarioOutage, Mode: modeStrict, Replicas: 2, Fault: &window{msAt(10), msAt(100)}, End: msAt(200)},
			log:  (&eventLogBuilder{}).call(0, 11, 1, false).reject(0, 20).reject(1, 150),
			check: func(t *testing.T, r result) {
				if r.FailedUpstreamCallsBeforeOpen != nil || r.TimeToOpenMs != nil {
					t.Errorf("replica 1 first rejected after the fault, yet: before_open %s, time_to_open %s",
						fmtInt(r.FailedUpstreamCallsBeforeOpen), fmtFloat(r.TimeToOpenMs))
				}
			},
		},
		{
			name: "no requests",
			in:   reportInput{Mode: modeStrict, Replicas: 1, End: msAt(10)},
			log:  &eventLogBuilder{},
			check: func(t *testing.T, r result) {
				if r.RespondedRatio != 0 || r.Amplification != 0 || r.Latency != (latency{}) {
					t.Errorf("figures from nothing: %+v", r)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, compute(tt.in, tt.log.sorted())) })
	}
}

func TestComputeRedisCausedFailures(t *testing.T) {
	log := (&eventLogBuilder{}).request(0, 1, 1, outcomeFull).request(1, 2, 1, outcomeDegraded).request(2, 3, 1, outcomeFailed)
	tests := []struct {
		mode string
		want *int64
	}{
		{modeStrict, ptr[int64](2)},
		{modeFast, ptr[int64](2)},
		{modeLocal, nil}, // no Redis in this mode
		{modeNone, nil},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			r := compute(reportInput{Scenario: scenarioRedisDown, Mode: tt.mode, Replicas: 3, End: msAt(10)}, log.sorted())
			if (r.RedisCausedFailures == nil) != (tt.want == nil) || tt.want != nil && *r.RedisCausedFailures != *tt.want {
				t.Errorf("redis_caused_failures = %s, want %s", fmtInt(r.RedisCausedFailures), fmtInt(tt.want))
			}
		})
	}
}

func TestMaxConcurrentProbes(t *testing.T) {
	tests := []struct {
		name string
		log  *eventLogBuilder
		want int64
	}{
		{"none", (&eventLogBuilder{}).call(0, 0, 10, true), 0},
		{"one after another", (&eventLogBuilder{}).probe(0, 0, 10, true).probe(1, 10, 10, true), 1},
		{"overlapping across replicas", (&eventLogBuilder{}).probe(0, 0, 10, true).probe(1, 5, 10, false).probe(2, 9, 1, false), 3},
		{"ordinary calls do not count", (&eventLogBuilder{}).probe(0, 0, 10, true).call(1, 1, 10, true), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maxConcurrentProbes(tt.log.sorted()); got != tt.want {
				t.Errorf("maxConcurrentProbes = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTimeToCloseIgnoresDeadReplicas(t *testing.T) {
	// Local mode: replica 1 dies while its breaker is half-open; replica 0
	// closes 500 ms after recovery.
	b := &eventLogBuilder{}
	b.transition(0, 100, stateClosed, stateOpen).transition(1, 100, stateClosed, stateOpen)
	b.transition(1, 1100, stateOpen, stateHalfOpen)
	b.events = append(b.events, event{Kind: kindCrash, Replica: 1, At: msAt(1101)})
	b.transition(0, 1500, stateOpen, stateHalfOpen).transition(0, 1501, stateHalfOpen, stateClosed)
	r := compute(reportInput{Mode: modeLocal, Replicas: 2, Fault: &window{msAt(50), msAt(1000)}, End: msAt(3000)}, b.sorted())
	if r.TimeToCloseMs == nil || *r.TimeToCloseMs != 501 {
		t.Errorf("time_to_close_ms = %s, want 501", fmtFloat(r.TimeToCloseMs))
	}
}

func TestStatsComeFromEachReplicasLastSample(t *testing.T) {
	sample := func(replica int, when float64, stale, storeErrs, local int64) event {
		return event{Kind: kindState, Replica: replica, At: msAt(when), State: statePtr(stateClosed), Stale: stale, StoreErrs: storeErrs, Local: local}
	}
	events := []event{sample(0, 1, 1, 1, 1), sample(1, 2, 5, 0, 0), sample(0, 3, 2, 3, 4)}
	r := compute(reportInput{Mode: modeStrict, Replicas: 2, End: msAt(10)}, events)
	if r.StaleReports != 7 || r.StoreErrors != 3 || r.LocalDecisions != 4 {
		t.Errorf("stale %d, store errors %d, local %d; want 7, 3, 4", r.StaleReports, r.StoreErrors, r.LocalDecisions)
	}
}

func TestGuardOverheadUsesSingleAttemptFullAnswers(t *testing.T) {
	events := []event{
		{Kind: kindRequest, Outcome: outcomeFull, Attempts: 1, Primary: msAt(3), CallDur: msAt(1)},
		{Kind: kindRequest, Outcome: outcomeFull, Attempts: 2, Primary: msAt(300), CallDur: msAt(2)}, // a retry's wait is not overhead
		{Kind: kindRequest, Outcome: outcomeDegraded, Attempts: 1, Primary: msAt(50), CallDur: msAt(1)},
	}
	r := compute(reportInput{Mode: modeStrict, Replicas: 1, End: msAt(10)}, events)
	if r.GuardOverhead.Count != 1 || r.GuardOverhead.Max != 2 {
		t.Errorf("guard overhead = %+v, want one sample of 2 ms", r.GuardOverhead)
	}
}

func TestLateSuccessesBetween(t *testing.T) {
	ms := time.Millisecond
	events := []event{
		{Kind: kindCall, At: 90 * ms, Dur: 20 * ms, OK: true},  // answered during the outage: late
		{Kind: kindCall, At: 50 * ms, Dur: 20 * ms, OK: true},  // answered before it
		{Kind: kindCall, At: 95 * ms, Dur: 10 * ms, OK: false}, // a failure
		{Kind: kindCall, At: 110 * ms, Dur: 5 * ms, OK: true},  // started during it
		{Kind: kindCall, At: 99 * ms, Dur: 200 * ms, OK: true}, // answered after the trip
	}
	if n := lateSuccessesBetween(events, 100*ms, 200*ms); n != 1 {
		t.Fatalf("late successes = %d, want 1", n)
	}
}
