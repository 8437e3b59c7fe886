package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
	"github.com/healthagent/resilience/pkg/dbreaker"
)

// writeBreakers gives n breakers a state hash and a log entry, as an
// operator's reset does.
func writeBreakers(t *testing.T, f *fleet, n int) []string {
	t.Helper()
	ctx, err := dbreaker.ContextWithOperator(context.Background(), "setup")
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("b%03d", i)
		if _, _, err := f.store.Override(ctx, names[i], dbreaker.ActionReset); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// until reads the stream until cond, given each event, holds. The stream
// is read in a goroutine that ends with the body.
func (s *sse) until(t *testing.T, what string, cond func(event, data string) bool) {
	t.Helper()
	found := make(chan error, 1)
	go func() {
		for {
			ev, data, err := s.next()
			if err != nil {
				found <- err
				return
			}
			if cond(ev, data) {
				found <- nil
				return
			}
		}
	}()
	select {
	case err := <-found:
		if err != nil {
			t.Fatalf("stream ended waiting for %s: %v", what, err)
		}
	case <-time.After(roomy):
		s.body.Close() // ends the reader
		<-found
		t.Fatalf("no %s within %v", what, roomy)
	}
}

// wholeFleet reads the stream until it has shown every one of names in a
// state document and each one's history.
func (s *sse) wholeFleet(t *testing.T, names []string) {
	t.Helper()
	histories := map[string]bool{}
	listed := 0
	s.until(t, fmt.Sprintf("state and history of %d breakers", len(names)), func(ev, data string) bool {
		switch ev {
		case "state":
			var doc stateDoc
			if json.Unmarshal([]byte(data), &doc) == nil {
				listed = len(doc.Breakers)
			}
		case "history":
			var h historyDoc
			if json.Unmarshal([]byte(data), &h) == nil && len(h.Entries) > 0 {
				histories[h.Breaker] = true
			}
		}
		return listed == len(names) && len(histories) == len(names)
	})
}

// Every viewer gets the whole fleet when it connects, however many
// breakers there are, and stays connected for what follows.
func TestEveryViewerGetsTheWholeFleet(t *testing.T) {
	client := testredis.Client(t)
	f := newFleet(t, client, testredis.Prefix(t, client), "")
	names := writeBreakers(t, f, 150)
	_, srv := newConsole(t, f, Config{Token: testToken})
	first := openStream(t, srv.URL)
	first.wholeFleet(t, names)
	second := openStream(t, srv.URL)
	second.wholeFleet(t, names)
	third := openStream(t, srv.URL)
	third.wholeFleet(t, names)

	if status, msg := post(t, srv.URL+"/api/breakers/b042/force-open", "Bearer "+testToken, `{"by":"oncall"}`); status != 200 {
		t.Fatalf("force-open: %d %s", status, msg)
	}
	for _, v := range []*sse{first, second, third} {
		v.waitState(t, "b042 forced open", func(d stateDoc) bool {
			b, _ := findBreaker(d, "b042")
			return b.State == "forced_open"
		}, nil)
	}
}

// A viewer that does not read while a burst goes by keeps the newest frame
// of each kind, stays joined, and gets those frames, oldest kind first.
func TestSlowViewerSkipsToTheNewest(t *testing.T) {
	client := testredis.Client(t)
	f := newFleet(t, client, testredis.Prefix(t, client), "")
	c, _ := newConsole(t, f, Config{})
	v := newViewer()
	if !c.hub.join(v) {
		t.Fatal("join refused")
	}
	defer c.hub.leave(v)
	c.hub.mu.Lock()
	gen := c.hub.gen
	c.hub.mu.Unlock()
	for i := range 1000 {
		c.hub.publish(gen, fmt.Sprintf("b%03d", i%200), fmt.Appendf(nil, "history %d", i))
	}
	c.hub.publish(gen, stateKind, []byte("state"))
	c.hub.mu.Lock()
	_, joined := c.hub.viewers[v]
	c.hub.mu.Unlock()
	if !joined {
		t.Fatal("the viewer was dropped during the burst")
	}
	seen := map[string]bool{}
	for _, fr := range v.take() {
		seen[string(fr)] = true
	}
	for i := 800; i < 1000; i++ {
		if !seen[fmt.Sprintf("history %d", i)] {
			t.Fatalf("history %d missing from %d frames", i, len(seen))
		}
	}
	if !seen["state"] || len(seen) > 200+1+1 { // the run's own state frame may be there too
		t.Fatalf("%d frames, state %v: want the newest of each kind only", len(seen), seen["state"])
	}
}

func TestViewerMailbox(t *testing.T) {
	v := newViewer()
	for i := range 10 {
		v.put(fmt.Sprintf("b%d", i%3), fmt.Appendf(nil, "%d", i))
	}
	v.put(stateKind, []byte("s"))
	got := v.take()
	want := []string{"9", "7", "8", "s"} // b0, b1, b2 (first put first), then the state
	if len(got) != len(want) {
		t.Fatalf("took %q, want %q", got, want)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Fatalf("took %q, want %q", got, want)
		}
	}
	if rest := v.take(); len(rest) != 0 {
		t.Fatalf("a second take: %q", rest)
	}
	select {
	case <-v.ready:
	default:
		t.Fatal("no ready signal after puts")
	}
}

func (h *hub) viewerCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.viewers)
}

// A viewer whose connection takes no data for longer than the lag allows
// is dropped, and its stream ends.
func TestStalledViewerIsDropped(t *testing.T) {
	client := testredis.Client(t)
	f := newFleet(t, client, testredis.Prefix(t, client), "")
	c, err := New(f.store, Config{}, WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	c.lag = 200 * time.Millisecond
	srv := httptest.NewServer(c)
	t.Cleanup(func() {
		c.Close(context.Background())
		srv.Close()
	})
	// A client that never reads, with a small receive buffer.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := d.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /api/events HTTP/1.1\r\nHost: console\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, roomy, "the viewer to join", func() bool { return c.hub.viewerCount() == 1 })
	c.hub.mu.Lock()
	gen := c.hub.gen
	c.hub.mu.Unlock()
	big := append([]byte("event: history\ndata: "), bytes.Repeat([]byte("x"), 1<<20)...)
	big = append(big, "\n\n"...)
	testwait.For(t, roomy, "the stalled viewer dropped", func() bool {
		c.hub.publish(gen, "big", big)
		return c.hub.viewerCount() == 0
	})
}
