package dbreaker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

func newRedisBreaker(t *testing.T, client redis.UniversalClient, prefix, name string, cfg Config, opts ...Option) (*Breaker, *RedisStore) {
	t.Helper()
	if cfg.StoreTimeout == 0 {
		cfg.StoreTimeout = roomy // as newObservedReplica
	}
	store, err := NewRedisStore(client, WithKeyPrefix(prefix), WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(context.Background()) })
	b, err := New(name, store, cfg, append([]Option{WithLogger(discardLogger())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return b, store
}

func TestEveryScriptLoadsIntoRedis(t *testing.T) {
	client := testredis.Client(t)
	store, err := NewRedisStore(client)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := store.LoadScripts(ctx); err != nil {
		t.Fatal(err)
	}
	entries, err := luaFiles.ReadDir("lua")
	if err != nil {
		t.Fatal(err)
	}
	scripts := store.scripts.all()
	if len(entries) != len(scripts)+1 { // + lib.lua
		t.Fatalf("%d embedded files for %d scripts: a script is not wired", len(entries), len(scripts))
	}
	for _, s := range scripts {
		exists, err := client.ScriptExists(ctx, s.Hash()).Result()
		if err != nil || !exists[0] {
			t.Fatalf("%s (%s) not in the script cache: %v %v", s.name, s.Hash(), exists, err)
		}
		body, _ := luaFiles.ReadFile("lua/" + s.name + ".lua")
		if !strings.Contains(string(body), "KEYS[1]") || !strings.Contains(string(body), "-- Reply") {
			t.Errorf("%s.lua lacks the header naming KEYS, ARGV and the reply", s.name)
		}
	}
}

func TestRedisDataModelIsReadable(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	b, store := newRedisBreaker(t, client, prefix, "openai", Config{OpenTimeout: 50 * time.Millisecond, ProbeLease: time.Minute, FailureRate: 0.9})
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		_ = b.Do(ctx, func(context.Context) error { return errors.New("503 from https://api.example/v1?key=SECRET") })
	}
	stateKey, windowKey, probesKey := store.Keys("openai")
	if stateKey != prefix+":{openai}" || windowKey != prefix+":{openai}:window" || probesKey != prefix+":{openai}:probes" {
		t.Fatalf("keys: %s %s %s", stateKey, windowKey, probesKey)
	}
	h, err := client.HGetAll(ctx, stateKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := "failures forced gen inc last_error open_until_ms opened_at_ms state successes trips updated_at_ms"
	if got := strings.Join(slices.Sorted(maps.Keys(h)), " "); got != want {
		t.Fatalf("hash fields: %s\nwant %s", got, want)
	}
	opened, _ := strconv.ParseInt(h["opened_at_ms"], 10, 64)
	until, _ := strconv.ParseInt(h["open_until_ms"], 10, 64)
	if h["state"] != "open" || h["gen"] != "1" || h["failures"] != "5" || h["trips"] != "1" || until-opened != 50 {
		t.Fatalf("hash after the trip: %v", h)
	}
	if strings.Contains(h["last_error"], "SECRET") || !strings.Contains(h["last_error"], "503") {
		t.Fatalf("last_error = %q: want the error without its query string", h["last_error"])
	}
	// Half-open: the probe holds a lease in the ZSET.
	redisAdvance(client)(t, 50*time.Millisecond)
	p, err := b.Allow(ctx)
	if err != nil || !p.Probe() {
		t.Fatalf("probe: %v", err)
	}
	members, err := client.ZRangeWithScores(ctx, probesKey, 0, -1).Result()
	if err != nil || len(members) != 1 {
		t.Fatalf("probes zset: %v %v", members, err)
	}
	now, _ := client.Time(ctx).Result()
	if lease := time.UnixMilli(int64(members[0].Score)).Sub(now); lease < 55*time.Second || lease > time.Minute {
		t.Fatalf("probe lease ends in %v, want about a minute", lease)
	}
	p.Done(nil)
	if s, _ := client.HGet(ctx, stateKey, "state").Result(); s != "closed" {
		t.Fatalf("state after the probe: %q", s)
	}
}

func TestTransitionsArePublished(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	b, store := newRedisBreaker(t, client, prefix, "usda", Config{FailureThreshold: 2})
	ctx := context.Background()
	sub := client.Subscribe(ctx, store.Channel())
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription confirmation
		t.Fatal(err)
	}
	_ = b.Do(ctx, failing)
	_ = b.Do(ctx, failing)
	if _, err := b.ForceOpen(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"closed→open@1", "open→forced_open@2"}
	for _, w := range want {
		select {
		case msg := <-sub.Channel():
			var ev struct {
				Breaker     string `json:"breaker"`
				From, To    string
				Gen         int64 `json:"gen"`
				OpenUntilMs int64 `json:"open_until_ms"`
			}
			if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil {
				t.Fatalf("event %q: %v", msg.Payload, err)
			}
			if got := ev.From + "→" + ev.To + "@" + strconv.FormatInt(ev.Gen, 10); got != w || ev.Breaker != "usda" || ev.OpenUntilMs == 0 {
				t.Fatalf("event %s, want %s", msg.Payload, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event %s within 5s", w)
		}
	}
}

func TestCorruptRedisStateIsTreatedAsClosedAndRepaired(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(ctx context.Context, c redis.UniversalClient, state, window, probes string) error
		flagged bool // the snapshot says Corrupt before the repair
	}{
		{"garbage state", func(ctx context.Context, c redis.UniversalClient, state, _, _ string) error {
			return c.HSet(ctx, state, "state", "banana").Err()
		}, true},
		{"garbage generation", func(ctx context.Context, c redis.UniversalClient, state, _, _ string) error {
			return c.HSet(ctx, state, "gen", "seven").Err()
		}, true},
		{"negative counter", func(ctx context.Context, c redis.UniversalClient, state, _, _ string) error {
			return c.HSet(ctx, state, "failures", "-4").Err()
		}, true},
		{"fractional counter", func(ctx context.Context, c redis.UniversalClient, state, _, _ string) error {
			return c.HSet(ctx, state, "trips", "1.5").Err()
		}, true},
		{"garbage override", func(ctx context.Context, c redis.UniversalClient, state, _, _ string) error {
			return c.HSet(ctx, state, "forced", "sideways").Err()
		}, true},
		{"missing state field", func(ctx context.Context, c redis.UniversalClient, state, _, _ string) error {
			return c.HDel(ctx, state, "state").Err()
		}, true},
		{"open without open_until", func(ctx context.Context, c redis.UniversalClient, state, _, _ string) error {
			return c.HSet(ctx, state, "state", "open", "open_until_ms", "0").Err()
		}, true},
		{"only unknown fields", func(ctx context.Context, c redis.UniversalClient, state, _, _ string) error {
			if err := c.Del(ctx, state).Err(); err != nil {
				return err
			}
			return c.HSet(ctx, state, "colour", "blue").Err()
		}, true},
		{"state key is a string", func(ctx context.Context, c redis.UniversalClient, state, _, _ string) error {
			return c.Set(ctx, state, "not a hash", 0).Err()
		}, true},
		{"state key is a list", func(ctx context.Context, c redis.UniversalClient, state, _, _ string) error {
			if err := c.Del(ctx, state).Err(); err != nil {
				return err
			}
			return c.RPush(ctx, state, "a", "b").Err()
		}, true},
		{"window key is a string", func(ctx context.Context, c redis.UniversalClient, _, window, _ string) error {
			return c.Set(ctx, window, "x", 0).Err()
		}, false},
		{"window buckets are garbage", func(ctx context.Context, c redis.UniversalClient, _, window, _ string) error {
			return c.HSet(ctx, window, "abc", "1", "99999999999:c", "x", "1:f", "-1").Err()
		}, false},
		{"probes key is a hash", func(ctx context.Context, c redis.UniversalClient, _, _, probes string) error {
			return c.HSet(ctx, probes, "a", "b").Err()
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := testredis.Client(t)
			prefix := testredis.Prefix(t, client)
			b, store := newRedisBreaker(t, client, prefix, "web", Config{FailureThreshold: 3, FailureRate: 0.9})
			ctx := context.Background()
			if err := b.Do(ctx, failing); !errors.Is(err, errUpstream) { // a valid state to corrupt
				t.Fatal(err)
			}
			state, window, probes := store.Keys("web")
			if err := tt.corrupt(ctx, client, state, window, probes); err != nil {
				t.Fatal(err)
			}
			s, err := b.State(ctx)
			if err != nil {
				t.Fatalf("State on corrupt data: %v", err)
			}
			if s.State != Closed || s.Corrupt != tt.flagged {
				t.Fatalf("snapshot of corrupt data: %+v, want closed with Corrupt=%v", s, tt.flagged)
			}
			// Calls go on; a write repairs the hash (a report for a hot
			// field, the next transition at the latest) and the policy
			// works again.
			if err := b.Do(ctx, succeeding); err != nil {
				t.Fatalf("call on corrupt data: %v", err)
			}
			for i := 0; i < 3; i++ {
				if err := b.Do(ctx, failing); !errors.Is(err, errUpstream) {
					t.Fatalf("failure %d on corrupt data: %v", i+1, err)
				}
			}
			s, err = b.State(ctx)
			if err != nil || s.Corrupt || s.State != Open || s.Failures != 3 {
				t.Fatalf("after 3 failures: %+v, %v", s, err)
			}
			if typ, _ := client.Type(ctx, state).Result(); typ != "hash" {
				t.Fatalf("state key type after repair: %s", typ)
			}
		})
	}
}

func TestRedisStoreRejectsBadOptions(t *testing.T) {
	client := testredis.Client(t)
	for _, prefix := range []string{"", "a{b", "x}", "with space", strings.Repeat("p", 65)} {
		if _, err := NewRedisStore(client, WithKeyPrefix(prefix)); err == nil || !strings.Contains(err.Error(), "key prefix") {
			t.Errorf("prefix %q: err = %v", prefix, err)
		}
	}
	if _, err := NewRedisStore(nil); err == nil {
		t.Error("nil client accepted")
	}
}

func TestParseReply(t *testing.T) {
	// state|forced|gen|open_until|now|corrupt|failures|successes|inc|own...|count|transitions...|trips|opened|updated|last_error
	full := "open||3|2000|1000|0|5|0|ab12:3|7|1|closed|open|3|2000|1|900|950|boom | with a bar"
	r, err := parseReply("x", full, 1, true)
	if err != nil {
		t.Fatalf("good reply: %v", err)
	}
	s := r.snap
	if s.State != Open || s.Generation != 3 || s.RetryAfter() != time.Second || s.LastError != "boom | with a bar" || s.Trips != 1 || s.Failures != 5 {
		t.Fatalf("decoded %+v", s)
	}
	if s.Incarnation != "ab12:3" || r.transitions[0].Incarnation != "ab12:3" {
		t.Fatalf("incarnation %q, in the transition %q", s.Incarnation, r.transitions[0].Incarnation)
	}
	if len(r.transitions) != 1 || r.transitions[0].From != Closed || r.transitions[0].To != Open || r.own[0] != "7" {
		t.Fatalf("transitions %+v, own %q", r.transitions, r.own)
	}
	if r, err := parseReply("x", "closed|forced_open|4|0|0|0|0|0|i1|0", 0, false); err != nil || r.snap.State != ForcedOpen || r.snap.Underlying != Closed {
		t.Fatalf("forced reply: %+v, %v", r.snap, err)
	}
	bad := map[string]any{
		"not a string":       []any{"closed"},
		"empty":              "",
		"too short":          "closed||0|0",
		"unknown state":      "sideways||0|0|0|0|0|0||0",
		"forced closed":      "closed|closed|0|0|0|0|0|0||0",
		"text gen":           "closed||x|0|0|0|0|0||0",
		"float gen":          "closed||1.5|0|0|0|0|0||0",
		"bad incarnation":    "closed||0|0|0|0|0|0|a b|0",
		"no incarnation":     "closed||0|0|0|0|0|0",
		"left over":          "closed||0|0|0|0|0|0||0|extra",
		"missing transition": "closed||0|0|0|0|0|0||1|closed",
		"bad transition":     "closed||0|0|0|0|0|0||1|closed|nowhere|1|0",
		"huge count":         "closed||0|0|0|0|0|0||99999",
		"negative count":     "closed||0|0|0|0|0|0||-1",
	}
	for name, v := range bad {
		if _, err := parseReply("x", v, 0, false); !errors.Is(err, errReplyShape) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// A breaker that has only ever seen successes has no hash in Redis, and
// the scripts' fast paths take it for what it is: closed at generation 0.
// A Strict call costs two script runs of one HMGET each.
func TestNeverWrittenBreakerTakesTheFastPath(t *testing.T) {
	srv := testredis.StartServer(t) // INFO commandstats counts this test only
	admin := srv.Client()
	b, store := newRedisBreaker(t, srv.Client(), "fresh", "web", Config{StoreTimeout: roomy})
	ctx := context.Background()
	if err := store.LoadScripts(ctx); err != nil {
		t.Fatal(err)
	}
	if err := admin.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	const calls = 10
	for i := 0; i < calls; i++ {
		if err := b.Do(ctx, succeeding); err != nil {
			t.Fatal(err)
		}
	}
	stats := commandStats(t, admin)
	total := int64(0)
	for name, st := range stats {
		switch name {
		case "config|resetstat", "info", "hello", "subscribe", "ping":
			// this test's own, and the event subscription's (which a busy
			// machine may set up or ping at any time)
		default:
			total += st.calls
		}
	}
	if total != 4*calls || stats["hmget"].calls != 2*calls {
		t.Fatalf("%d commands for %d Strict calls on a never-written breaker, want %d: %v", total, calls, 4*calls, stats)
	}
	state, _, _ := store.Keys("web")
	if n, _ := admin.Exists(ctx, state).Result(); n != 0 {
		t.Fatalf("successes wrote the state hash")
	}
}

// releaseCuts is a go-redis hook that fails, without sending it, each of
// the next pipelines that gives back a probe slot (ZREM), as a timeout
// before the write would.
type releaseCuts struct{ left atomic.Int32 }

func (h *releaseCuts) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *releaseCuts) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *releaseCuts) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if strings.EqualFold(c.Name(), "zrem") && h.left.Add(-1) >= 0 {
				err := errors.New("i/o timeout (injected before the write)")
				for _, c := range cmds {
					c.SetErr(err)
				}
				return err
			}
		}
		return next(ctx, cmds)
	}
}

// probeWithLostReply trips b (on a client that holds no hook yet), lets its
// open timeout pass in Redis, and calls it once with the acquire's reply
// lost after the script ran: the call is decided locally, and Redis holds
// a probe slot nobody will report.
func probeWithLostReply(t *testing.T, b *Breaker, client *redis.Client) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < DefaultFailureThreshold; i++ {
		_ = b.Do(ctx, failing)
	}
	redisAdvance(client)(t, 50*time.Millisecond)
	faults := &scriptFaults{}
	client.AddHook(faults)
	faults.set(func(c *redis.Cmd) { c.SetErr(errors.New("i/o timeout")) })
	p, err := b.Allow(ctx)
	faults.clear()
	if err != nil {
		t.Fatalf("a failed acquire is decided locally: %v", err)
	}
	p.Done(nil)
}

// An acquire that ran in Redis but whose reply never reached the caller
// gives its probe slot back, instead of holding it for a whole lease (an
// hour here), even when the first releases do not reach Redis either.
func TestFailedAcquireReleasesItsProbeSlot(t *testing.T) {
	for _, cut := range []int32{0, 3} {
		t.Run(fmt.Sprintf("%d releases cut", cut), func(t *testing.T) {
			client := testredis.Client(t)
			prefix := testredis.Prefix(t, client)
			r := newReplica(t, testredis.Addr(), prefix, "usda", Config{OpenTimeout: 50 * time.Millisecond, ProbeLease: time.Hour})
			cuts := &releaseCuts{}
			cuts.left.Store(cut)
			r.client.AddHook(cuts)
			probeWithLostReply(t, r.b, r.client)
			testwait.For(t, 30*time.Second, "the probe slot to be given back", func() bool {
				s, err := r.b.State(context.Background())
				return err == nil && s.State == HalfOpen && s.Probes == 0
			})
			if left := cuts.left.Load(); left > 0 {
				t.Fatalf("%d of %d cut releases never tried again", left, cut)
			}
		})
	}
}

// A release Redis keeps refusing while the store is not degraded is sent
// a bounded number of times, then left to its lease: no endless stream of
// doomed round trips.
func TestReleaseRedisKeepsRefusingIsDroppedAfterItsTries(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	r := newReplica(t, testredis.Addr(), prefix, "usda", Config{OpenTimeout: 50 * time.Millisecond, ProbeLease: time.Hour})
	const never = 1 << 30
	cuts := &releaseCuts{}
	cuts.left.Store(never)
	r.client.AddHook(cuts)
	probeWithLostReply(t, r.b, r.client)
	testwait.For(t, 30*time.Second, "the release to be given up", func() bool {
		return never-cuts.left.Load() >= maxReleaseTries && !r.store.releasesWaiting()
	})
	if tries := never - cuts.left.Load(); tries != maxReleaseTries {
		t.Fatalf("the release was sent %d times, want %d", tries, maxReleaseTries)
	}
}

// A release that waits for Redis is no error of the store: closing a
// store whose Redis is gone, with releases still waiting, succeeds (their
// leases end by themselves).
func TestCloseWithReleasesWaitingForAGoneRedis(t *testing.T) {
	srv := testredis.StartServer(t)
	client := srv.Client()
	b, store := newRedisBreaker(t, client, "gone", "usda", Config{OpenTimeout: 50 * time.Millisecond, ProbeLease: time.Hour})
	cuts := &releaseCuts{}
	cuts.left.Store(1 << 30) // no release reaches Redis
	client.AddHook(cuts)
	probeWithLostReply(t, b, client)
	testwait.For(t, 30*time.Second, "a release tried and waiting again", func() bool { return cuts.left.Load() < 1<<30 && store.releasesWaiting() })
	srv.Stop()
	store.markDown(errors.New("test: Redis is gone"))
	if !store.Degraded() {
		t.Fatal("the store is not degraded")
	}
	if err := store.Close(context.Background()); err != nil {
		t.Fatalf("Close with releases waiting for a gone Redis: %v", err)
	}
}
