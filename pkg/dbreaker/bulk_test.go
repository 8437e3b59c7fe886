package dbreaker

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testredis"
)

// bulkFleet writes breakers of every kind under prefix: "tripped" (open),
// "forced" (forced open by an operator), "logonly" (a log and no state),
// "badlog" (a state, and a log key of another type); "never" is written
// nowhere.
func bulkFleet(t *testing.T, client redis.UniversalClient, prefix string) *RedisStore {
	t.Helper()
	b, store := newRedisBreaker(t, client, prefix, "tripped", Config{FailureThreshold: 1, OpenTimeout: time.Minute})
	ctx := context.Background()
	_ = b.Do(ctx, failing)
	octx, err := ContextWithOperator(ctx, "oncall")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"forced", "logonly", "badlog"} {
		if _, _, err := store.Override(octx, name, ActionForceOpen); err != nil {
			t.Fatal(err)
		}
	}
	state, _, _ := store.Keys("logonly")
	if err := client.Del(ctx, state).Err(); err != nil {
		t.Fatal(err)
	}
	if err := client.Del(ctx, store.LogKey("badlog")).Err(); err != nil {
		t.Fatal(err)
	}
	if err := client.Set(ctx, store.LogKey("badlog"), "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	return store
}

// Snapshots, Histories and BreakerExists read what Snapshot and History
// read, one breaker at a time, and name the breakers they could not read.
func TestBulkReads(t *testing.T) {
	client := testredis.Client(t)
	store := bulkFleet(t, client, testredis.Prefix(t, client))
	testBulkReads(t, store)
}

func testBulkReads(t *testing.T, store *RedisStore) {
	ctx := context.Background()
	names := []string{"tripped", "forced", "logonly", "badlog", "never", "bad name"}
	snaps, err := store.Snapshots(ctx, names, Policy{})
	if err == nil || !strings.Contains(err.Error(), "bad name") || strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("Snapshots: error %v, want one naming the invalid name", err)
	}
	if len(snaps) != 5 {
		t.Fatalf("Snapshots: %d, want 5", len(snaps))
	}
	for i, name := range names[:5] {
		one, err := store.Snapshot(ctx, name, Policy{})
		if err != nil {
			t.Fatal(err)
		}
		got := snaps[i]
		got.StoreTime, one.StoreTime = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, one) {
			t.Errorf("Snapshots[%d]:\n%+v\nSnapshot(%s):\n%+v", i, got, name, one)
		}
	}
	if snaps[0].State != Open || snaps[1].State != ForcedOpen || snaps[4].Incarnation != "" {
		t.Fatalf("Snapshots: %+v", snaps)
	}

	hs, err := store.Histories(ctx, names, 10)
	if err == nil || !strings.Contains(err.Error(), "badlog") || !strings.Contains(err.Error(), "bad name") {
		t.Fatalf("Histories: error %v, want one naming badlog and the invalid name", err)
	}
	if len(hs) != 4 {
		t.Fatalf("Histories: %d breakers, want 4: %+v", len(hs), hs)
	}
	for _, name := range []string{"tripped", "forced", "logonly", "never"} {
		one, err := store.History(ctx, name, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := hs[name]; !ok || len(got) != len(one) || (len(one) > 0 && !reflect.DeepEqual(got, one)) {
			t.Errorf("Histories[%s] = %+v, History = %+v", name, got, one)
		}
	}
	if len(hs["forced"]) != 1 || hs["forced"][0].Operator != "oncall" || len(hs["never"]) != 0 {
		t.Fatalf("Histories: %+v", hs)
	}
	if _, err := store.Histories(ctx, names, 0); err == nil {
		t.Error("Histories(n = 0): no error")
	}

	for _, c := range []struct {
		name   string
		exists bool
		err    bool
	}{
		{"tripped", true, false},
		{"forced", true, false},
		{"logonly", true, false},
		{"badlog", true, false},
		{"never", false, false},
		{"bad name", false, true},
	} {
		got, err := store.BreakerExists(ctx, c.name)
		if got != c.exists || (err != nil) != c.err {
			t.Errorf("BreakerExists(%q) = %v, %v; want %v, error %v", c.name, got, err, c.exists, c.err)
		}
	}
	if snaps, err := store.Snapshots(ctx, nil, Policy{}); len(snaps) != 0 || err != nil {
		t.Errorf("Snapshots(none) = %v, %v", snaps, err)
	}
}

// After SCRIPT FLUSH, Snapshots loads the script again and reads every
// breaker.
func TestSnapshotsAfterScriptFlush(t *testing.T) {
	srv := testredis.StartServer(t)
	client := srv.Client()
	store := bulkFleet(t, client, "flushed")
	ctx := context.Background()
	if err := client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	snaps, err := store.Snapshots(ctx, []string{"tripped", "forced", "never"}, Policy{})
	if err != nil || len(snaps) != 3 || snaps[0].State != Open || snaps[1].State != ForcedOpen {
		t.Fatalf("Snapshots after SCRIPT FLUSH: %+v, %v", snaps, err)
	}
}

// A Redis that stops answering costs Snapshots and Histories one deadline
// together, and each names what it could not read.
func TestBulkReadsStopAtTheDeadline(t *testing.T) {
	srv := testredis.StartServer(t)
	client := srv.Client()
	store := bulkFleet(t, client, "paused")
	srv.Pause()
	defer srv.Resume()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	names := []string{"tripped", "forced", "never"}
	snaps, err := store.Snapshots(ctx, names, Policy{})
	if len(snaps) != 0 || err == nil {
		t.Fatalf("Snapshots of a paused Redis: %+v, %v", snaps, err)
	}
	hs, err := store.Histories(ctx, names, 1)
	if len(hs) != 0 || err == nil {
		t.Fatalf("Histories of a paused Redis: %+v, %v", hs, err)
	}
	for _, name := range names {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error %q does not name %s", err, name)
		}
	}
	if store.Degraded() {
		t.Error("the caller's own deadline degraded the store")
	}
}
