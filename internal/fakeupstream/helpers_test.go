package fakeupstream

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/internal/testsr24"
)

// testServer is a Server behind an httptest server that reports each
// finished request on done.
type testServer struct {
	*Server
	http *httptest.Server
	done chan string // the path of each request whose handler returned
}

func newTestServer(t *testing.T, cfg Config, opts ...Option) *testServer {
	t.Helper()
	data, err := testsr24.Load()
	if err != nil {
		t.Fatalf("loading sr24: %v", err)
	}
	cfg.Data = data
	srv, err := New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := &testServer{Server: srv, done: make(chan string, 4096)}
	ts.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { ts.done <- r.URL.Path }()
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.http.Close)
	return ts
}

// URL returns the server's root URL.
func (ts *testServer) URL() string { return ts.http.URL }

// httpResult is a raw response read in full.
type httpResult struct {
	status int
	header http.Header
	body   []byte
	err    error // transport or body read error
}

// do sends a request with the test server's client.
func (ts *testServer) do(ctx context.Context, t *testing.T, method, path, body string, header map[string]string) httpResult {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, ts.URL()+path, rd)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		return httpResult{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return httpResult{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// get is do for a GET without a body.
func (ts *testServer) get(t *testing.T, path string) httpResult {
	t.Helper()
	return ts.do(context.Background(), t, http.MethodGet, path, "", nil)
}

// decodeJSON decodes body into v or fails the test.
func decodeJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
}

// tinyPNG is a 1×1 PNG, base64: an image for the AI upstreams.
const tinyPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

// waitLimit bounds every wait on a condition in these tests.
const waitLimit = 10 * time.Second

// waitDone waits until n more request handlers have returned.
func (ts *testServer) waitDone(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(waitLimit)
	for range n {
		select {
		case <-ts.done:
		case <-deadline:
			t.Fatalf("a request handler did not return within %v", waitLimit)
		}
	}
}

// drainDone forgets the requests finished so far.
func (ts *testServer) drainDone() {
	for {
		select {
		case <-ts.done:
		default:
			return
		}
	}
}

// newManualClock returns a clock whose time moves only on Advance.
func newManualClock() *clocktest.Clock { return clocktest.New(time.Unix(1_700_000_000, 0)) }
