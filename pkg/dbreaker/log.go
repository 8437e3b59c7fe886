package dbreaker

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// MaxHistory is the most log entries History returns; the log itself keeps
// about 1000 per breaker.
const MaxHistory = 1000

// LogEntry is one entry of a breaker's log (the stream <prefix>:{name}:log):
// a transition committed by a script, or an operator action.
type LogEntry struct {
	ID          string    // the stream entry's ID
	At          time.Time // Redis' clock when it was committed
	From, To    State     // effective states; equal for an action that changed nothing
	Incarnation string
	Generation  int64
	OpenUntil   time.Time // zero unless the breaker opened
	Error       string    // the breaker's last error then (redacted when recorded)
	// Action is the operator action (reset, forced_open, forced_closed,
	// disabled) and Operator who acted (ContextWithOperator; "" when not
	// named); both are empty for a transition the breaker made itself.
	Action, Operator string
}

// History returns the last n entries (1 to MaxHistory) of a breaker's log,
// newest first. An entry that is not one the scripts write (a hand XADD)
// is left out.
func (s *RedisStore) History(ctx context.Context, name string, n int) ([]LogEntry, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if n < 1 || n > MaxHistory {
		return nil, fmt.Errorf("dbreaker: History(%q, %d): want 1 to %d entries", name, n, MaxHistory)
	}
	msgs, err := s.client.XRevRangeN(ctx, s.LogKey(name), "+", "-", int64(n)).Result()
	if err != nil {
		return nil, fmt.Errorf("dbreaker: history of %s: %w", name, err)
	}
	out := make([]LogEntry, 0, len(msgs))
	for _, m := range msgs {
		if e, ok := parseLogEntry(m); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func parseLogEntry(m redis.XMessage) (LogEntry, bool) {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	num := func(k string) (int64, bool) {
		n, err := strconv.ParseInt(str(k), 10, 64)
		return n, err == nil && n >= 0
	}
	from, err1 := ParseState(str("from"))
	to, err2 := ParseState(str("to"))
	at, ok1 := num("at_ms")
	gen, ok2 := num("gen")
	until, ok3 := num("open_until_ms")
	inc := str("inc")
	if err1 != nil || err2 != nil || !ok1 || !ok2 || !ok3 || !validIncarnation(inc, true) {
		return LogEntry{}, false
	}
	return LogEntry{ID: m.ID, At: msTime(at), From: from, To: to, Incarnation: inc, Generation: gen,
		OpenUntil: msTime(until), Error: str("error"), Action: str("action"), Operator: str("by")}, true
}
