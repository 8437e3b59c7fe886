package dbreaker

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Decoding of script replies. A reply that does not have the expected shape
// is an error, never a panic: the store may hold anything, and a reply may
// come from a script of another version.

var errReplyShape = errors.New("dbreaker: unexpected script reply")

func replyErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errReplyShape}, args...)...)
}

func replyArray(v any, what string, minLen int) ([]any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, replyErr("%s is %T, want an array", what, v)
	}
	if len(arr) < minLen {
		return nil, replyErr("%s has %d elements, want at least %d", what, len(arr), minLen)
	}
	return arr, nil
}

func replyInt(v any, what string) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, replyErr("%s = %q, want an integer", what, x)
		}
		return n, nil
	default:
		return 0, replyErr("%s is %T, want an integer", what, v)
	}
}

func replyString(v any, what string) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	default:
		return "", replyErr("%s is %T, want a string", what, v)
	}
}

func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// effectiveState combines the state machine's state and the override.
func effectiveState(underlying, forced string) (State, State, error) {
	u, err := ParseState(underlying)
	if err != nil || u > HalfOpen {
		return 0, 0, replyErr("state %q", underlying)
	}
	if forced == "" {
		return u, u, nil
	}
	f, err := ParseState(forced)
	if err != nil || f < ForcedOpen {
		return 0, 0, replyErr("forced %q", forced)
	}
	return f, u, nil
}

// decodeView reads the view the scripts return (see lua/lib.lua): state,
// forced, gen, open_until_ms, now_ms, corrupt, failures, successes; with
// full, also trips, opened_at_ms, last_error, updated_at_ms.
func decodeView(name string, v any, full bool) (Snapshot, error) {
	n := 8
	if full {
		n = 12
	}
	arr, err := replyArray(v, "view", n)
	if err != nil {
		return Snapshot{}, err
	}
	var strs [3]string
	var ints [9]int64
	for i, idx := range []int{0, 1, 10}[:2+boolInt(full)] {
		if strs[i], err = replyString(arr[idx], "view field "+strconv.Itoa(idx)); err != nil {
			return Snapshot{}, err
		}
	}
	for i, idx := range []int{2, 3, 4, 5, 6, 7, 8, 9, 11}[:6+3*boolInt(full)] {
		if ints[i], err = replyInt(arr[idx], "view field "+strconv.Itoa(idx)); err != nil {
			return Snapshot{}, err
		}
	}
	state, underlying, err := effectiveState(strs[0], strs[1])
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{
		Name:       name,
		State:      state,
		Underlying: underlying,
		Generation: ints[0],
		OpenUntil:  msTime(ints[1]),
		StoreTime:  msTime(ints[2]),
		Corrupt:    ints[3] != 0,
		Failures:   ints[4],
		Successes:  ints[5],
		Trips:      ints[6],
		OpenedAt:   msTime(ints[7]),
		LastError:  strs[2],
		UpdatedAt:  msTime(ints[8]),
	}, nil
}

// decodeTransitions reads the list of {from, to, gen, open_until_ms} arrays.
func decodeTransitions(name string, v any) ([]Transition, error) {
	arr, err := replyArray(v, "transitions", 0)
	if err != nil || len(arr) == 0 {
		return nil, err
	}
	out := make([]Transition, 0, len(arr))
	for _, t := range arr {
		fields, err := replyArray(t, "transition", 4)
		if err != nil {
			return nil, err
		}
		var names [2]string
		var states [2]State
		for i := range names {
			if names[i], err = replyString(fields[i], "transition state"); err != nil {
				return nil, err
			}
			if states[i], err = ParseState(names[i]); err != nil {
				return nil, replyErr("transition state %q", names[i])
			}
		}
		gen, err := replyInt(fields[2], "transition gen")
		if err != nil {
			return nil, err
		}
		until, err := replyInt(fields[3], "transition open_until_ms")
		if err != nil {
			return nil, err
		}
		out = append(out, Transition{Breaker: name, From: states[0], To: states[1], Generation: gen, OpenUntil: msTime(until)})
	}
	return out, nil
}

// decodeReply splits a script reply into its view (full or not), its
// operation-specific integers or strings, and its transitions.
func decodeReply(name string, reply []any, full bool, extraLen int) (Snapshot, []any, []Transition, error) {
	if len(reply) < 2 {
		return Snapshot{}, nil, nil, replyErr("reply has %d parts, want at least 2", len(reply))
	}
	snap, err := decodeView(name, reply[0], full)
	if err != nil {
		return Snapshot{}, nil, nil, err
	}
	extra, err := replyArray(reply[1], "reply details", extraLen)
	if err != nil {
		return Snapshot{}, nil, nil, err
	}
	var transitions []Transition
	if len(reply) > 2 {
		if transitions, err = decodeTransitions(name, reply[2]); err != nil {
			return Snapshot{}, nil, nil, err
		}
	}
	return snap, extra, transitions, nil
}
