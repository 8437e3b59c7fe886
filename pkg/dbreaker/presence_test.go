package dbreaker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/redis/go-redis/v9"
)

// presenceStore makes a store with a heartbeat named replica and one
// breaker per name on it.
func presenceStore(t *testing.T, client redis.UniversalClient, prefix, replica string, cfg Config, names ...string) (*RedisStore, []*Breaker) {
	t.Helper()
	store, err := NewRedisStore(client, WithKeyPrefix(prefix), WithLogger(discardLogger()), WithPresence(replica))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(context.Background()) })
	if cfg.StoreTimeout == 0 {
		cfg.StoreTimeout = roomy
	}
	var bs []*Breaker
	for _, n := range names {
		b, err := New(n, store, cfg, WithLogger(discardLogger()))
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
	}
	return store, bs
}

// heartbeats subscribes to a store's presence channel.
func heartbeats(t *testing.T, client redis.UniversalClient, store *RedisStore) <-chan Presence {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sub := client.Subscribe(ctx, store.PresenceChannel())
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	out := make(chan Presence, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range sub.Channel() {
			if p, err := ParsePresence([]byte(m.Payload)); err == nil {
				select {
				case out <- p:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() { cancel(); sub.Close(); <-done })
	return out
}

// waitPresence waits for a heartbeat that satisfies cond.
func waitPresence(t *testing.T, ch <-chan Presence, what string, cond func(Presence) bool) Presence {
	t.Helper()
	timeout := time.After(roomy)
	for {
		select {
		case p := <-ch:
			if cond(p) {
				return p
			}
		case <-timeout:
			t.Fatalf("no heartbeat with %s within %v", what, roomy)
		}
	}
}

func viewOf(p Presence, name string) (View, bool) {
	for _, v := range p.Breakers {
		if v.Name == name {
			return v.View, true
		}
	}
	return View{}, false
}

// A replica's heartbeat names its breakers and their views, lives a few
// seconds, follows a change of view at once, says when the store is
// degraded and its breakers decide locally, and is gone after Close.
func TestPresenceHeartbeat(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	store, bs := presenceStore(t, client, prefix, "replica-a:8000", Config{FailureThreshold: 1, OpenTimeout: time.Minute}, "openai", "usda")
	ch := heartbeats(t, client, store)
	ctx := context.Background()
	for _, b := range bs {
		if _, err := b.State(ctx); err != nil {
			t.Fatal(err)
		}
	}
	p := waitPresence(t, ch, "both breakers known", func(p Presence) bool {
		a, _ := viewOf(p, "openai")
		u, _ := viewOf(p, "usda")
		return a.Known && u.Known
	})
	if p.Replica != "replica-a:8000" || p.Degraded || p.TTL != PresenceTTL || len(p.Breakers) != 2 || p.Breakers[0].Name != "openai" {
		t.Fatalf("heartbeat %+v", p)
	}
	ttl, err := client.PTTL(ctx, store.PresenceKey("replica-a:8000")).Result()
	if err != nil || ttl <= 0 || ttl > PresenceTTL {
		t.Fatalf("heartbeat key expires in %v (%v), want within %v", ttl, err, PresenceTTL)
	}
	listed, err := store.Replicas(ctx)
	if err != nil || len(listed) != 1 || listed[0].Replica != "replica-a:8000" || len(listed[0].Breakers) != 2 {
		t.Fatalf("Replicas: %+v, %v", listed, err)
	}

	// A trip: the heartbeat follows without waiting for the next interval.
	_ = bs[1].Do(ctx, failing)
	snap, err := bs[1].State(ctx)
	if err != nil || snap.State != Open {
		t.Fatalf("usda: %+v, %v", snap, err)
	}
	p = waitPresence(t, ch, "usda open", func(p Presence) bool { v, _ := viewOf(p, "usda"); return v.State == Open })
	if v, _ := viewOf(p, "usda"); v.Generation != snap.Generation || v.Incarnation != snap.Incarnation || v.OpenFor <= 0 {
		t.Fatalf("usda in the heartbeat: %+v, want %+v", v, snap)
	}

	// Degraded: the heartbeat says so, and a breaker whose local breaker
	// decides says Local.
	store.markDown(errors.New("test: Redis unavailable"))
	p = waitPresence(t, ch, "degraded", func(p Presence) bool { return p.Degraded })
	if v, _ := viewOf(p, "openai"); !v.Local {
		t.Fatalf("openai while degraded: %+v, want Local", v)
	}
	waitPresence(t, ch, "the store back", func(p Presence) bool { return !p.Degraded }) // the health check passes

	if err := store.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitPresence(t, ch, "gone", func(p Presence) bool { return p.Gone && p.Replica == "replica-a:8000" })
	if n, err := client.Exists(ctx, store.PresenceKey("replica-a:8000")).Result(); err != nil || n != 0 {
		t.Fatalf("heartbeat key after Close: %d, %v", n, err)
	}
}

// Without WithPresence nothing is written; bad names are refused.
func TestPresenceIsOptIn(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	b, store := newRedisBreaker(t, client, prefix, "quiet", Config{})
	ctx := context.Background()
	if err := b.Do(ctx, succeeding); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if rs, err := store.Replicas(ctx); err != nil || len(rs) != 0 {
		t.Fatalf("Replicas without presence: %+v, %v", rs, err)
	}
	for _, name := range []string{"", "has space", "{tag}", string(make([]byte, MaxNameLen+1))} {
		if _, err := NewRedisStore(client, WithPresence(name)); err == nil {
			t.Errorf("WithPresence(%q): no error", name)
		}
	}
}

func TestParsePresenceRefusesMalformedHeartbeats(t *testing.T) {
	for _, payload := range []string{
		``, `[]`, `{"replica":""}`, `{"replica":"a b"}`, `{"replica":"a","at_ms":-1}`,
		`{"replica":"a","breakers":[{"name":"x","state":"sideways"}]}`,
		`{"replica":"a","breakers":[{"name":"{x}","state":"open"}]}`,
		`{"replica":"a","breakers":[{"name":"x","state":"open","inc":"no spaces allowed"}]}`,
		`{"replica":"a","breakers":[{"name":"x","state":"open","gen":-2}]}`,
	} {
		if p, err := ParsePresence([]byte(payload)); err == nil {
			t.Errorf("ParsePresence(%s) = %+v, want an error", payload, p)
		}
	}
	p, err := ParsePresence([]byte(`{"replica":"a","at_ms":5,"ttl_ms":4000,"breakers":[{"name":"x","state":"forced_open","inc":"ab:1","gen":3,"known":true}]}`))
	if err != nil || p.TTL != 4*time.Second || p.Breakers[0].State != ForcedOpen || p.Breakers[0].Generation != 3 {
		t.Fatalf("ParsePresence: %+v, %v", p, err)
	}
}

// On a Redis Cluster: the log key shares the breaker's slot, and the
// heartbeats of replicas reach a subscriber and the readers.
func testLogAndPresenceOnCluster(t *testing.T, cluster *testredis.Cluster) {
	client := cluster.Client(t)
	prefix := testredis.Prefix(t, client)
	ctx := context.Background()
	var stores []*RedisStore
	for _, r := range []string{"r1", "r2"} {
		store, bs := presenceStore(t, cluster.Client(t), prefix, r, Config{FailureThreshold: 1, OpenTimeout: time.Minute}, "anthropic", "web")
		for _, b := range bs {
			if _, err := b.State(ctx); err != nil {
				t.Fatal(err)
			}
		}
		stores = append(stores, store)
	}
	ch := heartbeats(t, client, stores[0])
	octx, _ := ContextWithOperator(ctx, "oncall")
	if _, _, err := stores[1].Override(octx, "web", ActionForceOpen); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"anthropic", "web"} {
		state, _, _ := stores[0].Keys(name)
		s1, err1 := client.ClusterKeySlot(ctx, state).Result()
		s2, err2 := client.ClusterKeySlot(ctx, stores[0].LogKey(name)).Result()
		if err := errors.Join(err1, err2); err != nil || s1 != s2 {
			t.Fatalf("%s: state in slot %d, log in slot %d (%v)", name, s1, s2, err)
		}
	}
	h, err := stores[0].History(ctx, "web", 5)
	if err != nil || len(h) != 1 || h[0].To != ForcedOpen || h[0].Operator != "oncall" {
		t.Fatalf("History on the cluster: %+v, %v", h, err)
	}
	seen := map[string]bool{}
	for len(seen) < 2 {
		p := waitPresence(t, ch, "web forced open on both replicas", func(p Presence) bool {
			v, _ := viewOf(p, "web")
			return v.State == ForcedOpen
		})
		seen[p.Replica] = true
	}
	rs, err := stores[0].Replicas(ctx)
	if err != nil || len(rs) != 2 || rs[0].Replica != "r1" || rs[1].Replica != "r2" {
		t.Fatalf("Replicas on the cluster: %+v, %v", rs, err)
	}
	names, err := stores[0].BreakerNames(ctx)
	if err != nil || len(names) != 1 || names[0] != "web" { // anthropic never wrote anything
		t.Fatalf("BreakerNames on the cluster: %q, %v", names, err)
	}
}
