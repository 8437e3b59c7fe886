package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestEventLinesRoundTrip(t *testing.T) {
	events := []event{
		{Kind: kindCall, Replica: 2, At: 1500 * time.Microsecond, Dur: 300 * time.Microsecond, OK: true, Probe: true, Admit: 1200 * time.Microsecond},
		{Kind: kindRequest, Replica: 1, At: time.Second, Dur: time.Millisecond, Outcome: outcomeDegraded, Primary: 900 * time.Microsecond, CallDur: 200 * time.Microsecond, Attempts: 2},
		{Kind: kindTransition, Replica: 0, At: 2 * time.Second, From: stateClosed, To: stateOpen, Gen: 7},
		{Kind: kindState, Replica: 0, At: 3 * time.Second, State: statePtr(stateClosed), Stale: 3, StoreErrs: 2, Local: 1},
		{Kind: kindStale, Replica: 1, At: 4 * time.Second, N: 5},
	}
	var buf bytes.Buffer
	s := newLineSink(&buf)
	for _, e := range events {
		s.add(e)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(events) {
		t.Fatalf("%d lines for %d events:\n%s", len(lines), len(events), buf.String())
	}
	for i, line := range lines {
		got, err := decodeEvent([]byte(line))
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		want := events[i]
		if (got.State == nil) != (want.State == nil) || got.State != nil && *got.State != *want.State {
			t.Errorf("line %d: state %v, want %v", i, got.State, want.State)
		}
		got.State, want.State = nil, nil
		if got != want {
			t.Errorf("line %d: %+v, want %+v", i, got, want)
		}
	}
}

func TestDecodeEventRejectsBadLines(t *testing.T) {
	for _, line := range []string{"", "not json", `{"k":0}`, `{"k":99}`, `{"k":"call"}`} {
		t.Run(line, func(t *testing.T) {
			if e, err := decodeEvent([]byte(line)); err == nil {
				t.Errorf("decodeEvent(%q) = %+v, want an error", line, e)
			}
		})
	}
}

func TestEventLogSortsAndCounts(t *testing.T) {
	l := newEventLog(2)
	l.add(event{Kind: kindRequest, At: 3, Outcome: outcomeFailed})
	l.add(event{Kind: kindCall, At: 1, OK: false})
	l.add(event{Kind: kindState, Replica: 1, At: 2, State: statePtr(stateOpen)})
	l.add(event{Kind: kindRequest, At: 0, Outcome: outcomeDegraded})
	got := l.snapshot()
	for i := 1; i < len(got); i++ {
		if got[i].At < got[i-1].At {
			t.Fatalf("not sorted by time: %+v", got)
		}
	}
	if l.requests.Load() != 2 || l.failed.Load() != 1 || l.degraded.Load() != 1 || l.callErrors.Load() != 1 {
		t.Errorf("counters: requests %d failed %d degraded %d call errors %d", l.requests.Load(), l.failed.Load(), l.degraded.Load(), l.callErrors.Load())
	}
	if s0, s1 := state(l.states[0].Load()), state(l.states[1].Load()); s0 != stateNone || s1 != stateOpen {
		t.Errorf("states %v %v, want - open", s0, s1)
	}
}
