package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
	"github.com/healthagent/resilience/pkg/dbreaker"
)

const (
	testToken = "correct-horse-battery-staple"
	roomy     = 10 * time.Second // room for a busy machine; no test is about it
)

var errUpstream = errors.New("GET https://fdc.example/v1/foods?api_key=SECRET: 503 Service Unavailable")

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fleet is a replica's store (with a heartbeat) and its breakers, on a
// prefix of the test's own.
type fleet struct {
	client   redis.UniversalClient
	prefix   string
	store    *dbreaker.RedisStore
	breakers map[string]*dbreaker.Breaker
}

func newFleet(t *testing.T, client redis.UniversalClient, prefix, replica string, names ...string) *fleet {
	t.Helper()
	opts := []dbreaker.Option{dbreaker.WithKeyPrefix(prefix), dbreaker.WithLogger(quiet())}
	if replica != "" {
		opts = append(opts, dbreaker.WithPresence(replica))
	}
	store, err := dbreaker.NewRedisStore(client, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(context.Background()) })
	f := &fleet{client: client, prefix: prefix, store: store, breakers: map[string]*dbreaker.Breaker{}}
	for _, n := range names {
		b, err := dbreaker.New(n, store, dbreaker.Config{FailureThreshold: 2, OpenTimeout: time.Minute, StoreTimeout: roomy},
			dbreaker.WithLogger(quiet()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close(context.Background()) })
		if _, err := b.State(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.breakers[n] = b
	}
	return f
}

func (f *fleet) trip(t *testing.T, name string) {
	t.Helper()
	for i := 0; i < 2; i++ {
		_ = f.breakers[name].Do(context.Background(), func(context.Context) error { return errUpstream })
	}
}

// newConsole serves a console of f's prefix, quiet, with opts.
func newConsole(t *testing.T, f *fleet, cfg Config, opts ...Option) (*Console, *httptest.Server) {
	t.Helper()
	c, err := New(f.store, cfg, append([]Option{WithLogger(quiet())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(func() {
		c.Close(context.Background())
		srv.Close()
	})
	return c, srv
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode
}

func findBreaker(doc stateDoc, name string) (breakerDoc, bool) {
	for _, b := range doc.Breakers {
		if b.Name == name {
			return b, true
		}
	}
	return breakerDoc{}, false
}

func findReplica(doc stateDoc, name string) (replicaDoc, bool) {
	for _, r := range doc.Replicas {
		if r.Replica == name {
			return r, true
		}
	}
	return replicaDoc{}, false
}

// putHeartbeat writes a heartbeat by hand, as a replica would.
func putHeartbeat(t *testing.T, f *fleet, payload string) {
	t.Helper()
	var hb struct {
		Replica string `json:"replica"`
	}
	if err := json.Unmarshal([]byte(payload), &hb); err != nil {
		t.Fatal(err)
	}
	if err := f.client.Set(context.Background(), f.store.PresenceKey(hb.Replica), payload, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
}

// GET api/state: every breaker with its state, counters, open-until and
// redacted last error; every replica with its views judged against Redis
// and its flags.
func TestStateAPI(t *testing.T) {
	client := testredis.Client(t)
	f := newFleet(t, client, testredis.Prefix(t, client), "replica-1", "usda", "openai")
	f.trip(t, "usda")
	testwait.For(t, roomy, "replica-1's heartbeat with usda open", func() bool {
		rs, err := f.store.Replicas(context.Background())
		if err != nil || len(rs) != 1 {
			return false
		}
		for _, v := range rs[0].Breakers {
			if v.Name == "usda" && v.State == dbreaker.Open {
				return true
			}
		}
		return false
	})
	snap, err := f.breakers["usda"].State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A replica whose view Redis contradicts, one that lags, one that
	// decides locally.
	putHeartbeat(t, f, `{"replica":"replica-2","ttl_ms":4000,"breakers":[{"name":"usda","state":"closed","inc":"`+snap.Incarnation+`","gen":7,"known":true,"current":true}]}`)
	putHeartbeat(t, f, `{"replica":"replica-3","ttl_ms":4000,"breakers":[{"name":"usda","state":"closed","inc":"`+snap.Incarnation+`","gen":0,"known":true,"current":true}]}`)
	putHeartbeat(t, f, `{"replica":"replica-4","ttl_ms":4000,"degraded":true,"breakers":[{"name":"usda","state":"closed","known":true,"local":true},{"name":"web","state":"closed","known":true,"local":true}]}`)
	putHeartbeat(t, f, `{"replica":"not a name"}`) // unreadable: left out

	_, srv := newConsole(t, f, Config{})
	var doc stateDoc
	if code := getJSON(t, srv.URL+"/api/state", &doc); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if doc.Prefix != f.prefix || doc.Actions {
		t.Fatalf("prefix %q, actions %v", doc.Prefix, doc.Actions)
	}
	usda, ok := findBreaker(doc, "usda")
	if !ok || usda.State != "open" || usda.Failures != 2 || usda.Trips != 1 || usda.Generation != snap.Generation ||
		usda.OpenUntilMs != snap.OpenUntil.UnixMilli() || usda.OpenForMs <= 0 || usda.OpenForMs > time.Minute.Milliseconds() {
		t.Fatalf("usda: %+v", usda)
	}
	if !strings.Contains(usda.LastError, "503") || strings.Contains(usda.LastError, "SECRET") {
		t.Fatalf("usda's last error %q: want the error, redacted", usda.LastError)
	}
	// openai was never written (no key), but a replica holds it; web only
	// the local replica-4 knows.
	for _, name := range []string{"openai", "web"} {
		if b, ok := findBreaker(doc, name); !ok || b.State != "closed" || b.Generation != 0 {
			t.Fatalf("%s: %+v, %v", name, b, ok)
		}
	}
	want := map[string]struct {
		flags   string
		verdict string
	}{
		"replica-1": {"", verdictAgrees},
		"replica-2": {"disagrees", verdictDisagrees},
		"replica-3": {"behind", verdictBehind},
		"replica-4": {"decides_locally", verdictLocal},
	}
	if len(doc.Replicas) != len(want) {
		t.Fatalf("%d replicas, want %d: %+v", len(doc.Replicas), len(want), doc.Replicas)
	}
	for name, w := range want {
		r, ok := findReplica(doc, name)
		if !ok || strings.Join(r.Flags, ",") != w.flags || r.Silent {
			t.Errorf("%s: %+v, want flags %q", name, r, w.flags)
			continue
		}
		for _, v := range r.Breakers {
			if v.Name == "usda" && v.Verdict != w.verdict {
				t.Errorf("%s's view of usda: %+v, want %s", name, v, w.verdict)
			}
		}
	}
}

// Actions need the token, compared whole; each is recorded in the log with
// the operator's name; bad requests say what is wrong and change nothing.
func TestActionsNeedTheToken(t *testing.T) {
	client := testredis.Client(t)
	f := newFleet(t, client, testredis.Prefix(t, client), "", "usda")
	f.trip(t, "usda")
	_, readOnly := newConsole(t, f, Config{})
	_, srv := newConsole(t, f, Config{Token: testToken})
	cases := []struct {
		name   string
		url    string
		auth   string
		body   string
		status int
		says   string
	}{
		{"read-only console", readOnly.URL, "Bearer " + testToken, `{"by":"alice"}`, http.StatusForbidden, "read-only"},
		{"no header", srv.URL, "", `{"by":"alice"}`, http.StatusUnauthorized, "Bearer"},
		{"wrong token", srv.URL, "Bearer " + testToken + "x", `{"by":"alice"}`, http.StatusUnauthorized, "Bearer"},
		{"a prefix of the token", srv.URL, "Bearer " + testToken[:20], `{"by":"alice"}`, http.StatusUnauthorized, "Bearer"},
		{"another scheme", srv.URL, "Basic " + testToken, `{"by":"alice"}`, http.StatusUnauthorized, "Bearer"},
		{"the token alone", srv.URL, testToken, `{"by":"alice"}`, http.StatusUnauthorized, "Bearer"},
		{"no name", srv.URL, "Bearer " + testToken, `{"by":""}`, http.StatusBadRequest, "operator name"},
		{"a name with a newline", srv.URL, "Bearer " + testToken, `{"by":"a\nb"}`, http.StatusBadRequest, "operator name"},
		{"unknown field", srv.URL, "Bearer " + testToken, `{"by":"alice","as":"root"}`, http.StatusBadRequest, "unknown field"},
		{"not JSON", srv.URL, "Bearer " + testToken, `by=alice`, http.StatusBadRequest, "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, msg := post(t, c.url+"/api/breakers/usda/force-closed", c.auth, c.body)
			if status != c.status || !strings.Contains(msg, c.says) {
				t.Fatalf("status %d %q, want %d saying %q", status, msg, c.status, c.says)
			}
		})
	}
	if s, err := f.breakers["usda"].State(context.Background()); err != nil || s.State != dbreaker.Open {
		t.Fatalf("after refused actions: %+v, %v", s, err)
	}
	for _, c := range []struct {
		path   string
		status int
		says   string
	}{
		{"/api/breakers/usda/explode", http.StatusBadRequest, "unknown action"},
		{"/api/breakers/nobody/reset", http.StatusNotFound, "no breaker nobody"},
		{"/api/breakers/a%20b/reset", http.StatusBadRequest, "breaker name"},
	} {
		if status, msg := post(t, srv.URL+c.path, "Bearer "+testToken, `{"by":"alice"}`); status != c.status || !strings.Contains(msg, c.says) {
			t.Errorf("POST %s: %d %q, want %d saying %q", c.path, status, msg, c.status, c.says)
		}
	}

	status, msg := post(t, srv.URL+"/api/breakers/usda/force-closed", "bearer  "+testToken, `{"by":"Grace Hopper"}`)
	if status != http.StatusOK || !strings.Contains(msg, `"state":"forced_closed"`) {
		t.Fatalf("with the token: %d %s", status, msg)
	}
	if s, err := f.breakers["usda"].State(context.Background()); err != nil || s.State != dbreaker.ForcedClosed {
		t.Fatalf("after the action: %+v, %v", s, err)
	}
	var h historyDoc
	if code := getJSON(t, srv.URL+"/api/breakers/usda/history?n=2", &h); code != http.StatusOK || len(h.Entries) != 2 {
		t.Fatalf("history: %d %+v", code, h)
	}
	if e := h.Entries[0]; e.Action != "forced_closed" || e.By != "Grace Hopper" || e.From != "open" || e.To != "forced_closed" {
		t.Fatalf("newest entry %+v", e)
	}
	if e := h.Entries[1]; e.To != "open" || e.By != "" || !strings.Contains(e.Error, "503") {
		t.Fatalf("the trip: %+v", e)
	}
	var bad map[string]string
	for _, q := range []string{"0", "1001", "x"} {
		if code := getJSON(t, srv.URL+"/api/breakers/usda/history?n="+q, &bad); code != http.StatusBadRequest || !strings.Contains(bad["error"], "n=") {
			t.Errorf("history?n=%s: %d %v", q, code, bad)
		}
	}
}

func post(t *testing.T, url, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without a WWW-Authenticate: Bearer challenge")
	}
	return resp.StatusCode, string(data)
}

func TestNewRefusesBadConfig(t *testing.T) {
	client := testredis.Client(t)
	f := newFleet(t, client, testredis.Prefix(t, client), "")
	for _, c := range []struct {
		cfg  Config
		says string
	}{
		{Config{Token: "short"}, "Token"},
		{Config{Token: "has a space in the middle"}, "Token"},
		{Config{History: -1}, "History"},
		{Config{History: dbreaker.MaxHistory + 1}, "History"},
		{Config{Refresh: time.Millisecond}, "Refresh"},
	} {
		if _, err := New(f.store, c.cfg); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("New(%+v): %v, want an error about %s", c.cfg, err, c.says)
		}
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("New(nil store): no error")
	}
}

// The page and its assets are served from the binary, with a policy that
// lets them load nothing else, and name nothing outside.
func TestPageAndAssets(t *testing.T) {
	client := testredis.Client(t)
	f := newFleet(t, client, testredis.Prefix(t, client), "")
	_, srv := newConsole(t, f, Config{})
	for path, ctype := range map[string]string{
		"/":                   "text/html",
		"/assets/console.js":  "text/javascript",
		"/assets/console.css": "text/css",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
		if strings.Contains(string(body), "http://") || strings.Contains(string(body), "https://") || strings.Contains(string(body), `src="//`) {
			t.Errorf("%s refers to something outside the console", path)
		}
	}
	if resp, err := http.Get(srv.URL + "/assets/nothing.js"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing asset: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
}

// sse reads Server-Sent Events.
type sse struct {
	body io.Closer
	r    *bufio.Reader
}

func openStream(t *testing.T, url string) *sse {
	t.Helper()
	resp, err := http.Get(url + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		resp.Body.Close()
		t.Fatalf("api/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sse{body: resp.Body, r: bufio.NewReader(resp.Body)}
	t.Cleanup(func() { s.body.Close() })
	return s
}

// next returns the next event's name and data (io.EOF when the stream ends).
func (s *sse) next() (string, string, error) {
	var event, data string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && event != "":
			return event, data, nil
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
}

// waitState reads the stream until a state document satisfies cond,
// giving each history document to history (if not nil) on the way.
func (s *sse) waitState(t *testing.T, what string, cond func(stateDoc) bool, history func(historyDoc)) {
	t.Helper()
	s.until(t, "a state with "+what, func(ev, data string) bool {
		switch ev {
		case "state":
			var doc stateDoc
			return json.Unmarshal([]byte(data), &doc) == nil && cond(doc)
		case "history":
			var h historyDoc
			if json.Unmarshal([]byte(data), &h) == nil && history != nil {
				history(h)
			}
		}
		return false
	})
}

// The live stream: one subscription for any number of viewers; a trip, an
// action, a heartbeat reach every viewer without a request of theirs; the
// history follows; Close ends every stream.
func TestLiveStream(t *testing.T) {
	srvRedis := testredis.StartServer(t) // of its own: PUBSUB NUMSUB counts this test's subscribers only
	client := srvRedis.Client()
	f := newFleet(t, client, "live", "replica-1", "usda")
	other := newFleet(t, srvRedis.Client(), "live", "", "usda") // no heartbeat
	c, srv := newConsole(t, f, Config{Token: testToken, Refresh: 100 * time.Millisecond})
	subscribers := func() int64 {
		n, err := client.PubSubNumSub(context.Background(), f.store.PresenceChannel()).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n[f.store.PresenceChannel()]
	}
	if n := subscribers(); n != 0 {
		t.Fatalf("%d presence subscribers before any viewer", n)
	}
	viewers := []*sse{openStream(t, srv.URL), openStream(t, srv.URL), openStream(t, srv.URL)}
	for _, v := range viewers {
		v.waitState(t, "replica-1 and usda", func(d stateDoc) bool {
			_, ok := findReplica(d, "replica-1")
			_, okB := findBreaker(d, "usda")
			return ok && okB
		}, nil)
	}
	if n := subscribers(); n != 1 {
		t.Fatalf("%d presence subscribers for 3 viewers, want 1", n)
	}

	other.trip(t, "usda")
	for _, v := range viewers {
		v.waitState(t, "usda open, as replica-1 sees it too", func(d stateDoc) bool {
			b, _ := findBreaker(d, "usda")
			r, _ := findReplica(d, "replica-1")
			return b.State == "open" && strings.Contains(b.LastError, "503") && len(r.Breakers) == 1 &&
				r.Breakers[0].State == "open" && r.Breakers[0].Verdict == verdictAgrees
		}, nil)
	}
	if status, msg := post(t, srv.URL+"/api/breakers/usda/reset", "Bearer "+testToken, `{"by":"oncall"}`); status != http.StatusOK {
		t.Fatalf("reset: %d %s", status, msg)
	}
	var last historyDoc
	viewers[0].waitState(t, "usda closed after the reset", func(d stateDoc) bool {
		b, _ := findBreaker(d, "usda")
		return b.State == "closed" && last.Breaker == "usda" && len(last.Entries) == 2 && last.Entries[0].By == "oncall"
	}, func(h historyDoc) { last = h })

	// A counter that changes without a transition shows at the next refresh.
	_ = other.breakers["usda"].Do(context.Background(), func(context.Context) error { return errUpstream })
	viewers[1].waitState(t, "one failure counted", func(d stateDoc) bool {
		b, _ := findBreaker(d, "usda")
		return b.Failures == 1
	}, nil)

	// A replica that closes its store leaves the list at once.
	if err := f.store.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	viewers[2].waitState(t, "replica-1 gone", func(d stateDoc) bool {
		_, ok := findReplica(d, "replica-1")
		return !ok
	}, nil)

	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, v := range viewers {
		for {
			if _, _, err := v.next(); err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("viewer %d: %v", i, err)
				}
				break
			}
		}
	}
	if resp, err := http.Get(srv.URL + "/api/events"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a stream after Close: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	testwait.For(t, roomy, "the console's subscription to end", func() bool { return subscribers() == 0 })
}
