package dbreaker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/redis/go-redis/v9"
)

// Every transition and every operator action lands in the breaker's log,
// in the script that commits it: a trip with its (redacted) error, the
// half-open probe, the close, and an operator's action with the name the
// caller gave, readable with XRANGE.
func TestTransitionLog(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	b, store := newRedisBreaker(t, client, prefix, "usda", Config{FailureThreshold: 2, OpenTimeout: 50 * time.Millisecond})
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		_ = b.Do(ctx, func(context.Context) error { return errors.New("GET https://fdc.example/v1?api_key=SECRET: 503") })
	}
	redisAdvance(client)(t, 50*time.Millisecond)
	if err := b.Do(ctx, succeeding); err != nil { // the probe: half-open, then closed
		t.Fatal(err)
	}
	octx, err := ContextWithOperator(ctx, "Ada Lovelace")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ForceOpen(octx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ForceOpen(ctx); err != nil { // changes nothing, unnamed: logged all the same
		t.Fatal(err)
	}

	if key := store.LogKey("usda"); key != prefix+":{usda}:log" {
		t.Fatalf("log key %q", key)
	}
	h, err := store.History(ctx, "usda", 10)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		from, to     State
		gen          int64
		action, by   string
		errorHasText bool
	}
	want := []row{ // newest first
		{ForcedOpen, ForcedOpen, 4, "forced_open", "", true},
		{Closed, ForcedOpen, 4, "forced_open", "Ada Lovelace", true},
		{HalfOpen, Closed, 3, "", "", true},
		{Open, HalfOpen, 2, "", "", true},
		{Closed, Open, 1, "", "", true},
	}
	if len(h) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(h), len(want), h)
	}
	inc := h[0].Incarnation
	for i, w := range want {
		e := h[i]
		got := row{e.From, e.To, e.Generation, e.Action, e.Operator, strings.Contains(e.Error, "503")}
		if got != w || e.Incarnation != inc || inc == "" {
			t.Errorf("entry %d: %+v, want %+v (inc %q)", i, e, w, inc)
		}
		if strings.Contains(e.Error, "SECRET") {
			t.Errorf("entry %d keeps the API key: %q", i, e.Error)
		}
		if i > 0 && (e.At.After(h[i-1].At) || e.ID >= h[i-1].ID) {
			t.Errorf("entry %d (%v, %s) is not older than entry %d (%v, %s)", i, e.At, e.ID, i-1, h[i-1].At, h[i-1].ID)
		}
	}
	if trip := h[4]; trip.OpenUntil.Sub(trip.At) != 50*time.Millisecond {
		t.Errorf("trip open until %v at %v: want 50ms later", trip.OpenUntil, trip.At)
	}
	now, err := client.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if age := now.Sub(h[0].At); age < 0 || age > time.Minute {
		t.Errorf("newest entry at %v, Redis time %v: not Redis' clock", h[0].At, now)
	}

	// The same, as redis-cli shows it.
	raw, err := client.XRange(ctx, prefix+":{usda}:log", "-", "+").Result()
	if err != nil || len(raw) != 5 {
		t.Fatalf("XRANGE: %d entries, %v", len(raw), err)
	}
	if v := raw[1].Values; v["from"] != "open" || v["to"] != "half_open" || v["gen"] != "2" || v["inc"] != inc ||
		v["at_ms"] == nil || v["open_until_ms"] == nil || v["error"] == nil || v["action"] != nil || v["by"] != nil {
		t.Errorf("XRANGE entry 2 (the breaker's own transition to half-open): %v", v)
	}
	if v := raw[3].Values; v["action"] != "forced_open" || v["by"] != "Ada Lovelace" {
		t.Errorf("XRANGE entry 4 (the operator's action): %v", v)
	}

	if h, err := store.History(ctx, "usda", 2); err != nil || len(h) != 2 || h[0].Operator != "" || h[1].Operator != "Ada Lovelace" {
		t.Fatalf("History(2): %+v, %v", h, err)
	}
}

// The log stays about 1000 entries long, however many transitions.
func TestTransitionLogIsCapped(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	_, store := newRedisBreaker(t, client, prefix, "capped", Config{})
	ctx := context.Background()
	for i := 0; i < 1300; i++ {
		if _, _, err := store.Override(ctx, "capped", Action(i%4)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := client.XLen(ctx, store.LogKey("capped")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n < 1000 || n > 1200 {
		t.Fatalf("log of %d entries after 1300 actions, want about 1000", n)
	}
	h, err := store.History(ctx, "capped", MaxHistory)
	if err != nil || len(h) != MaxHistory {
		t.Fatalf("History(%d): %d entries, %v", MaxHistory, len(h), err)
	}
	if h[0].Action != Action(1299%4).String() {
		t.Fatalf("newest entry %+v, want the last action", h[0])
	}
}

// A log key of another type, or entries that are not the scripts', stop
// nothing: the transition commits and the log starts again; History skips
// what it cannot read.
func TestTransitionLogSurvivesBadKeys(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	b, store := newRedisBreaker(t, client, prefix, "odd", Config{FailureThreshold: 1, OpenTimeout: time.Minute})
	ctx := context.Background()
	if err := client.Set(ctx, store.LogKey("odd"), "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_ = b.Do(ctx, failing)
	if s, err := b.State(ctx); err != nil || s.State != Open {
		t.Fatalf("state %+v, %v", s, err)
	}
	if err := client.XAdd(ctx, &redis.XAddArgs{Stream: store.LogKey("odd"), Values: []string{"from", "nowhere"}}).Err(); err != nil {
		t.Fatal(err)
	}
	h, err := store.History(ctx, "odd", 10)
	if err != nil || len(h) != 1 || h[0].To != Open {
		t.Fatalf("History: %+v, %v", h, err)
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"odd", 0}, {"odd", MaxHistory + 1}, {"{odd}", 1}, {"", 1}} {
		if _, err := store.History(ctx, c.name, c.n); err == nil {
			t.Errorf("History(%q, %d): no error", c.name, c.n)
		}
	}
}

func TestOperatorNames(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"Ada Lovelace", true},
		{"élodie@ops", true},
		{strings.Repeat("a", MaxOperatorLen), true},
		{"", false},
		{strings.Repeat("a", MaxOperatorLen+1), false},
		{"bob\nmallory", false},
		{"\x00", false},
		{"bad\xffutf8", false},
	} {
		ctx, err := ContextWithOperator(context.Background(), c.name)
		if (err == nil) != c.ok {
			t.Errorf("ContextWithOperator(%q): %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		want := ""
		if c.ok {
			want = c.name
		} else if !strings.Contains(err.Error(), "operator name") {
			t.Errorf("error %q does not say what is wrong", err)
		}
		if got := OperatorFrom(ctx); got != want {
			t.Errorf("OperatorFrom after %q: %q", c.name, got)
		}
	}
}

// BreakerNames finds every breaker with a hash or a log, and nothing else.
func TestBreakerNames(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	b, store := newRedisBreaker(t, client, prefix, "a.one", Config{FailureThreshold: 1})
	ctx := context.Background()
	_ = b.Do(ctx, failing)
	if _, _, err := store.Override(ctx, "b:two", ActionReset); err != nil {
		t.Fatal(err)
	}
	if err := client.Del(ctx, prefix+":{b:two}").Err(); err != nil { // only its log is left
		t.Fatal(err)
	}
	for _, k := range []string{prefix + ":{bad name}", prefix + ":{c}:window", prefix + ":other", prefix + "x:{d}"} {
		if err := client.Set(ctx, k, "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	names, err := store.BreakerNames(ctx)
	if err != nil || strings.Join(names, ",") != "a.one,b:two" {
		t.Fatalf("BreakerNames: %q, %v", names, err)
	}
}
