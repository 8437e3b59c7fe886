package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/pkg/dbreaker"
)

// `demo breakers` acts on the breakers it knows (the service's, and those
// with state in Redis); an unknown name needs --create, and delete removes
// a breaker's keys, after which list no longer shows it.
func TestBreakersCLI(t *testing.T) {
	client := testredis.Client(t)
	prefix := testredis.Prefix(t, client)
	// UPSTREAMS=real without keys: the CLI needs Redis only.
	env := envOf(map[string]string{"REDIS_URL": "redis://" + testredis.Addr(), "CIRCUIT_BREAKER_KEY_PREFIX": prefix, "UPSTREAMS": "real"})
	store, err := dbreaker.NewRedisStore(client, dbreaker.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(context.Background())
	keysOf := func(name string) int64 {
		n, err := client.Exists(context.Background(), breakerKeys(store, name)...).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	steps := []struct {
		args     string
		code     int
		out, err string // substrings of stdout and stderr
		keys     int64  // keys of foo:bar in Redis afterwards
	}{
		{"open foo:bar", 2, "", "add --create", 0},
		{"reset foo:bar", 2, "", "no breaker foo:bar", 0},
		{"delete foo:bar", 1, "", "no breaker foo:bar", 0},
		{"--create open foo:bar", 0, "foo:bar: forced_open", "", 2}, // the state hash and the log
		{"list", 0, "\nfoo:bar    forced_open", "", 2},
		{"close foo:bar --by alice", 0, "foo:bar: forced_closed", "", 2},
		{"--by bob\x07 reset foo:bar", 2, "", "operator name", 2},
		{"reset foo:bar --create", 0, "foo:bar: closed", "", 2},
		{"delete foo:bar", 0, "foo:bar: deleted (2 keys)", "", 0},
		{"disable usda", 0, "usda: disabled", "", 0}, // the service's own: known without keys
		{"delete usda", 2, "", "reset it instead", 0},
		{"reset usda", 0, "usda: closed", "", 0},
		{"open {x}", 2, "", "dbreaker", 0},
		{"explode foo:bar", 2, "", "unknown action", 0},
		{"open", 2, "", "usage", 0},
	}
	for _, st := range steps {
		var stdout, stderr bytes.Buffer
		code := runBreakers(context.Background(), strings.Fields(st.args), env, &stdout, &stderr)
		if code != st.code || !strings.Contains(stdout.String(), st.out) || !strings.Contains(stderr.String(), st.err) {
			t.Fatalf("breakers %s: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", st.args, code, stdout.String(), stderr.String(), st.code, st.out, st.err)
		}
		if n := keysOf("foo:bar"); n != st.keys {
			t.Fatalf("after breakers %s: %d keys of foo:bar, want %d", st.args, n, st.keys)
		}
	}
	var stdout bytes.Buffer
	if code := runBreakers(context.Background(), []string{"list"}, env, &stdout, &bytes.Buffer{}); code != 0 || strings.Contains(stdout.String(), "foo:bar") {
		t.Fatalf("list after delete: exit %d:\n%s", code, stdout.String())
	}

	// Who acted is in the breaker's log: --by, else $USER.
	withUser := envOf(map[string]string{"REDIS_URL": "redis://" + testredis.Addr(), "CIRCUIT_BREAKER_KEY_PREFIX": prefix, "USER": "dave"})
	for _, args := range [][]string{{"--create", "--by", "carol", "open", "baz"}, {"reset", "baz"}} {
		if code := runBreakers(context.Background(), args, withUser, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
			t.Fatalf("breakers %q: exit %d", args, code)
		}
	}
	h, err := store.History(context.Background(), "baz", 2)
	if err != nil || len(h) != 2 || h[0].Operator != "dave" || h[0].Action != "reset" || h[1].Operator != "carol" || h[1].Action != "forced_open" {
		t.Fatalf("baz's log: %+v, %v", h, err)
	}
}
