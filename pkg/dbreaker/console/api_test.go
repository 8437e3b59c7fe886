package console

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/pkg/dbreaker"
)

// An action checks that its breaker exists with one EXISTS of its keys:
// no SCAN of the keyspace, unless the name has no key and no replica the
// console heard holds it.
func TestActionsDoNotScan(t *testing.T) {
	client := testredis.Client(t)
	f := newFleet(t, client, testredis.Prefix(t, client), "", "usda")
	f.trip(t, "usda")
	octx, err := dbreaker.ContextWithOperator(context.Background(), "setup")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.Override(octx, "logonly", dbreaker.ActionReset); err != nil {
		t.Fatal(err)
	}
	state, _, _ := f.store.Keys("logonly")
	if err := client.Del(context.Background(), state).Err(); err != nil {
		t.Fatal(err)
	}
	// replica-7 holds web and billing, which have no key in Redis.
	putHeartbeat(t, f, `{"replica":"replica-7","ttl_ms":4000,"breakers":[{"name":"web","state":"closed","known":true},{"name":"billing","state":"closed","known":true}]}`)

	hook := &scans{}
	_, srv := newConsole(t, &fleet{store: consoleStore(t, testredis.Addr(), f.prefix, hook)}, Config{Token: testToken})
	act := func(name string) (int, string) {
		return post(t, srv.URL+"/api/breakers/"+name+"/force-open", "Bearer "+testToken, `{"by":"oncall"}`)
	}
	for _, c := range []struct {
		name    string
		breaker string
		status  int
		scans   bool
	}{
		{"a breaker with a state", "usda", http.StatusOK, false},
		{"a breaker with a log only", "logonly", http.StatusOK, false},
		{"a breaker only a replica holds, before the console heard it", "web", http.StatusOK, true},
		{"a breaker only a replica the console heard holds", "billing", http.StatusOK, false},
		{"a typo", "usdaa", http.StatusNotFound, true},
	} {
		before := hook.sent.Load()
		status, msg := act(c.breaker)
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, status, msg, c.status)
		}
		if scanned := hook.sent.Load() > before; scanned != c.scans {
			t.Errorf("%s: scanned %v, want %v", c.name, scanned, c.scans)
		}
		if status == http.StatusOK && !strings.Contains(msg, `"state":"forced_open"`) {
			t.Errorf("%s: %s", c.name, msg)
		}
	}
}
