package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/internal/testproxy"
	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
	"github.com/healthagent/resilience/pkg/dbreaker"
)

// scans is a go-redis hook that counts SCANs, and fails them while
// refuse is on.
type scans struct {
	refuse  atomic.Bool
	sent    atomic.Int64
	refused atomic.Int64
}

func (h *scans) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *scans) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !strings.EqualFold(cmd.Name(), "scan") {
			return next(ctx, cmd)
		}
		if h.refuse.Load() {
			h.refused.Add(1)
			err := errors.New("SCAN refused by the test")
			cmd.SetErr(err)
			return err
		}
		h.sent.Add(1)
		return next(ctx, cmd)
	}
}

func (h *scans) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// consoleStore is a store of prefix on a client of its own, to Redis at
// addr, with hooks.
func consoleStore(t *testing.T, addr, prefix string, hooks ...redis.Hook) *dbreaker.RedisStore {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	for _, h := range hooks {
		client.AddHook(h)
	}
	store, err := dbreaker.NewRedisStore(client, dbreaker.WithKeyPrefix(prefix), dbreaker.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(context.Background()) })
	return store
}

// Breakers that a listing finds after the first one failed get their
// history all the same.
func TestHistoryAfterAFailedFirstListing(t *testing.T) {
	client := testredis.Client(t)
	f := newFleet(t, client, testredis.Prefix(t, client), "") // no heartbeat names them
	names := writeBreakers(t, f, 3)
	hook := &scans{}
	hook.refuse.Store(true)
	store := consoleStore(t, testredis.Addr(), f.prefix, hook)
	_, srv := newConsole(t, &fleet{store: store}, Config{Refresh: 100 * time.Millisecond})
	v := openStream(t, srv.URL)
	testwait.For(t, roomy, "a listing refused", func() bool { return hook.refused.Load() > 0 })
	hook.refuse.Store(false)
	v.wholeFleet(t, names)
}

// latest keeps the newest state document of a stream, read in a goroutine
// that ends with the stream.
func (s *sse) latest() *atomic.Pointer[stateDoc] {
	var p atomic.Pointer[stateDoc]
	go func() {
		for {
			ev, data, err := s.next()
			if err != nil {
				return
			}
			var doc stateDoc
			if ev == "state" && json.Unmarshal([]byte(data), &doc) == nil {
				p.Store(&doc)
			}
		}
	}()
	return &p
}

// While Redis does not answer the console, the stream goes on: a replica
// whose heartbeats stopped is flagged silent as soon as its time is up,
// not after one read timeout per breaker.
func TestStreamStaysLiveWhileRedisStalls(t *testing.T) {
	client := testredis.Client(t)
	f := newFleet(t, client, testredis.Prefix(t, client), "replica-1", "usda")
	writeBreakers(t, f, 100)
	proxy := testproxy.New(t, "redis", testredis.Addr())
	store := consoleStore(t, proxy.Listen, f.prefix)
	clk := clocktest.New(time.Unix(1_700_000_000, 0))
	c, err := New(store, Config{Refresh: 100 * time.Millisecond}, WithLogger(quiet()), WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	c.timeout = time.Second
	srv := httptest.NewServer(c)
	t.Cleanup(func() {
		c.Close(context.Background())
		srv.Close()
	})
	v := openStream(t, srv.URL)
	v.waitState(t, "101 breakers, replica-1 heard", func(d stateDoc) bool {
		r, ok := findReplica(d, "replica-1")
		return len(d.Breakers) == 101 && ok && !r.Silent
	}, nil)

	if _, err := proxy.Toxics.AddToxicJson(strings.NewReader(`{"name":"stall","type":"latency","stream":"downstream","attributes":{"latency":60000}}`)); err != nil {
		t.Fatal(err)
	}
	defer proxy.Toxics.RemoveToxic(context.Background(), "stall")
	doc := v.latest()
	testwait.For(t, roomy, "replica-1 flagged silent while Redis stalls", func() bool {
		clk.Advance(100 * time.Millisecond) // about 5 s of the console's time per refresh
		d := doc.Load()
		if d == nil {
			return false
		}
		r, ok := findReplica(*d, "replica-1")
		return ok && r.Silent
	})
}

// A replica whose heartbeats stop (down, or cut off from Redis) stays
// listed, flagged silent with how long, in api/state and the live stream,
// for KeepSilent after it was last heard; then it is forgotten.
func TestSilentReplicaStaysListed(t *testing.T) {
	client := testredis.Client(t)
	f := newFleet(t, client, testredis.Prefix(t, client), "", "usda")
	start := time.Unix(1_700_000_000, 0)
	clk := clocktest.New(start)
	_, srv := newConsole(t, f, Config{Refresh: 100 * time.Millisecond}, WithClock(clk))
	const hb = `{"replica":"replica-9","ttl_ms":4000,"breakers":[{"name":"usda","state":"closed","known":true,"current":true}]}`
	putHeartbeat(t, f, hb)
	state := func() (replicaDoc, bool) {
		t.Helper()
		var doc stateDoc
		if code := getJSON(t, srv.URL+"/api/state", &doc); code != 200 {
			t.Fatalf("api/state: %d", code)
		}
		return findReplica(doc, "replica-9")
	}
	if r, ok := state(); !ok || r.Silent || strings.Join(r.Flags, ",") != "" {
		t.Fatalf("replica-9 heard: %+v, %v", r, ok)
	}
	// Its heartbeat stops: the key expires.
	if err := client.Del(context.Background(), f.store.PresenceKey("replica-9")).Err(); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		after  time.Duration // since it was last heard
		listed bool
		silent bool
	}{
		{time.Second, true, false},
		{dbreaker.PresenceTTL + time.Second, true, true},
		{10 * time.Minute, true, true},
		{KeepSilent, true, true},
		{KeepSilent + time.Second, false, false},
	} {
		clk.Advance(start.Add(step.after).Sub(clk.Now()))
		r, ok := state()
		if ok != step.listed || r.Silent != step.silent ||
			(step.silent && (r.SilentForMs != step.after.Milliseconds() || !strings.Contains(strings.Join(r.Flags, ","), "silent"))) {
			t.Fatalf("%v after the last heartbeat: %+v (listed %v), want listed %v, silent %v", step.after, r, ok, step.listed, step.silent)
		}
	}

	// The live stream: heard, then silent, still listed after 10 minutes.
	putHeartbeat(t, f, hb)
	v := openStream(t, srv.URL)
	v.waitState(t, "replica-9 heard", func(d stateDoc) bool {
		r, ok := findReplica(d, "replica-9")
		return ok && !r.Silent
	}, nil)
	if err := client.Del(context.Background(), f.store.PresenceKey("replica-9")).Err(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute)
	v.waitState(t, "replica-9 silent for 10 min", func(d stateDoc) bool {
		r, ok := findReplica(d, "replica-9")
		return ok && r.Silent && r.SilentForMs == (10*time.Minute).Milliseconds()
	}, nil)
}
