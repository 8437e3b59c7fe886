package dbreaker

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Decoding of script replies (the format is described in lua/lib.lua). A
// reply that does not have the expected shape is an error, never a panic:
// the store may hold anything, and a reply may come from a script of
// another version.

var errReplyShape = errors.New("dbreaker: unexpected script reply")

func replyErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errReplyShape}, args...)...)
}

// replyFields walks the '|'-separated fields of a reply.
type replyFields struct {
	rest string
	more bool // a field remains
	n    int  // fields read so far
	err  error
}

func newReplyFields(s string) *replyFields { return &replyFields{rest: s, more: true} }

// take reports whether one more field can be read, and counts it; a
// missing one is the error.
func (f *replyFields) take() bool {
	if f.err == nil && f.more {
		f.n++
		return true
	}
	f.missing()
	return false
}

// missing records a missing field; kept out of take, so that take is
// inlined on the path of every reply.
//
//go:noinline
func (f *replyFields) missing() {
	if f.err == nil {
		f.err = replyErr("field %d missing", f.n+1)
	}
}

func (f *replyFields) next() string {
	if !f.take() {
		return ""
	}
	v, rest, found := strings.Cut(f.rest, "|")
	f.rest, f.more = rest, found
	return v
}

func (f *replyFields) int() int64 {
	v := f.next()
	if f.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		f.err = replyErr("field %d = %q, want an integer", f.n, v)
	}
	return n
}

func (f *replyFields) state() State {
	v := f.next()
	if f.err != nil {
		return 0
	}
	s, err := ParseState(v)
	if err != nil {
		f.err = replyErr("field %d = %q, want a state", f.n, v)
	}
	return s
}

// remainder returns the rest of the reply as the last field (which may
// itself contain '|').
func (f *replyFields) remainder() string {
	if !f.take() {
		return ""
	}
	v := f.rest
	f.rest, f.more = "", false
	return v
}

func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// parsedReply is a decoded script reply.
type parsedReply struct {
	snap        Snapshot
	own         []string
	transitions []Transition
}

// parseReply decodes a reply with ownFields fields of the script's own;
// full replies carry the cold fields too.
func parseReply(name string, v any, ownFields int, full bool) (parsedReply, error) {
	s, ok := v.(string)
	if !ok {
		return parsedReply{}, replyErr("reply is %T, want a string", v)
	}
	f := newReplyFields(s)
	var r parsedReply
	underlying := f.state()
	forced := f.next()
	r.snap = Snapshot{
		Name:       name,
		Underlying: underlying,
		State:      underlying,
		Generation: f.int(),
		OpenUntil:  msTime(f.int()),
		StoreTime:  msTime(f.int()),
		Corrupt:    f.int() != 0,
		Failures:   f.int(),
		Successes:  f.int(),
	}
	r.snap.Incarnation = f.next()
	if f.err == nil && !validIncarnation(r.snap.Incarnation, true) {
		f.err = replyErr("incarnation %.50q", r.snap.Incarnation)
	}
	if f.err == nil && (underlying > HalfOpen) {
		f.err = replyErr("state %q", underlying)
	}
	if f.err == nil && forced != "" {
		st, err := ParseState(forced)
		if err != nil || st < ForcedOpen {
			f.err = replyErr("forced %q", forced)
		}
		r.snap.State = st
	}
	if ownFields > 0 {
		r.own = make([]string, ownFields)
		for i := range r.own {
			r.own[i] = f.next()
		}
	}
	count := f.int()
	if f.err == nil && (count < 0 || count > 64) {
		f.err = replyErr("%d transitions", count)
	}
	for i := int64(0); i < count && f.err == nil; i++ {
		t := Transition{Breaker: name, From: f.state(), To: f.state(), Incarnation: r.snap.Incarnation, Generation: f.int(), OpenUntil: msTime(f.int())}
		r.transitions = append(r.transitions, t)
	}
	if full {
		r.snap.Trips = f.int()
		r.snap.OpenedAt = msTime(f.int())
		r.snap.UpdatedAt = msTime(f.int())
		r.snap.LastError = f.remainder()
	}
	if f.err == nil && f.more {
		f.err = replyErr("unexpected fields after field %d: %.40q", f.n, f.rest)
	}
	if f.err != nil {
		return parsedReply{}, f.err
	}
	return r, nil
}
