package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// kind says what an event records.
type kind uint8

const (
	// kindCall: one upstream call, timed around the HTTP request.
	kindCall kind = iota + 1
	// kindRequest: one virtual user's request, answered or not.
	kindRequest
	// kindReject: a breaker refused an attempt (no upstream call).
	kindReject
	// kindTransition: a transition this replica committed.
	kindTransition
	// kindStale: reports the store discarded as stale (N of them).
	kindStale
	// kindState: a sample of the replica's view of its breaker and of its
	// cumulative breaker counters.
	kindState
	// kindCrash: the replica died (while holding a half-open probe).
	kindCrash
	// kindLost: a request that was in flight on a replica when it died.
	kindLost
	// kindProbeHeld: a replica process holds a finished probe and asks
	// whether it should crash now (procs mode only; never logged).
	kindProbeHeld
)

// outcome is what became of a request.
type outcome uint8

const (
	outcomeFull     outcome = iota + 1 // the primary step served it
	outcomeDegraded                    // the fallback step served it
	outcomeFailed                      // no step served it
)

// state is a breaker state as sampled; stateNone means "no breaker".
type state int8

const (
	stateNone     state = -1
	stateClosed   state = 0
	stateHalfOpen state = 1
	stateOpen     state = 2
)

func (s state) String() string {
	switch s {
	case stateClosed:
		return "closed"
	case stateHalfOpen:
		return "half_open"
	case stateOpen:
		return "open"
	}
	return "-"
}

// event is one line of the run's log. At is the time since the run began.
// Which fields mean something depends on Kind:
//
//	call:       At (start), Dur, OK, Probe, Admit (no later than the
//	            breaker's Allow for this attempt began)
//	request:    At (start), Dur, Outcome, Primary (primary step time),
//	            CallDur (time spent in upstream calls), Attempts
//	reject:     At
//	transition: At, From, To, Gen
//	stale:      At, N
//	state:      At, State, Stale, StoreErrs, Local (cumulative counters)
//	crash/lost: At
type event struct {
	Kind     kind          `json:"k"`
	Replica  int           `json:"r"`
	At       time.Duration `json:"t"`
	Dur      time.Duration `json:"d,omitempty"`
	Admit    time.Duration `json:"ad,omitempty"`
	OK       bool          `json:"ok,omitempty"`
	Probe    bool          `json:"p,omitempty"`
	Outcome  outcome       `json:"o,omitempty"`
	Primary  time.Duration `json:"pd,omitempty"`
	CallDur  time.Duration `json:"cd,omitempty"`
	Attempts int           `json:"a,omitempty"`
	From     state         `json:"f,omitempty"`
	To       state         `json:"to,omitempty"`
	Gen      int64         `json:"g,omitempty"`
	N        int64         `json:"n,omitempty"`
	// State is a pointer so that "closed" (0) survives omitempty.
	State     *state `json:"s,omitempty"`
	Stale     int64  `json:"st,omitempty"`
	StoreErrs int64  `json:"se,omitempty"`
	Local     int64  `json:"lo,omitempty"`
}

// sink takes events; the log and a replica process's encoder are sinks.
type sink interface {
	add(e event)
}

// eventLog keeps every event of one run, and live counters for the
// progress line. Safe for concurrent use.
type eventLog struct {
	mu     sync.Mutex
	events []event

	requests, failed, degraded atomic.Int64
	calls, callErrors          atomic.Int64
	states                     []atomic.Int32 // last sampled state per replica
}

func newEventLog(replicas int) *eventLog {
	l := &eventLog{states: make([]atomic.Int32, replicas)}
	for i := range l.states {
		l.states[i].Store(int32(stateNone))
	}
	return l
}

func (l *eventLog) add(e event) {
	switch e.Kind {
	case kindRequest:
		l.requests.Add(1)
		switch e.Outcome {
		case outcomeFailed:
			l.failed.Add(1)
		case outcomeDegraded:
			l.degraded.Add(1)
		}
	case kindCall:
		l.calls.Add(1)
		if !e.OK {
			l.callErrors.Add(1)
		}
	case kindState:
		if e.State != nil && e.Replica >= 0 && e.Replica < len(l.states) {
			l.states[e.Replica].Store(int32(*e.State))
		}
	}
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// snapshot returns the events so far, sorted by time.
func (l *eventLog) snapshot() []event {
	l.mu.Lock()
	out := slices.Clone(l.events)
	l.mu.Unlock()
	slices.SortStableFunc(out, func(a, b event) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	return out
}

// lineSink writes events as JSON lines: a replica process's way of telling
// the parent what it does. Safe for concurrent use.
type lineSink struct {
	mu  sync.Mutex
	enc *json.Encoder
	err error
}

func newLineSink(w io.Writer) *lineSink { return &lineSink{enc: json.NewEncoder(w)} }

// Err returns the first write error.
func (s *lineSink) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *lineSink) add(e event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = s.enc.Encode(e)
	}
}

// decodeEvent reads one JSON line written by a lineSink.
func decodeEvent(line []byte) (event, error) {
	var e event
	if err := json.Unmarshal(line, &e); err != nil {
		return event{}, fmt.Errorf("loadtest: bad event line %q: %w", line, err)
	}
	if e.Kind < kindCall || e.Kind > kindProbeHeld {
		return event{}, fmt.Errorf("loadtest: bad event line %q: unknown kind %d", line, e.Kind)
	}
	return e, nil
}

func statePtr(s state) *state { return &s }
