package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/fakeupstream"
	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// A replica asked to stop lets the request in flight finish, then stops
// (closing its breakers, which flushes their queued reports: see
// dbreaker's TestCloseFlushesQueuedReports).
func TestGracefulShutdown(t *testing.T) {
	fake, err := fakeupstream.New(fakeupstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	upstream := startFake(t, fake)
	ep := fakeupstream.EndpointsAt(upstream)
	redisClient := testredis.Client(t)
	prefix := testredis.Prefix(t, redisClient)
	cfg, err := loadConfig(envOf(map[string]string{
		"PORT": "0", "METRICS_PORT": "0", "HOST": "127.0.0.1", "METRICS_HOST": "127.0.0.2",
		"REDIS_URL": "redis://" + testredis.Addr(), "CIRCUIT_BREAKER_KEY_PREFIX": prefix, "CIRCUIT_BREAKER_MODE": "fast",
		"DATABASE_URL":    "postgres://127.0.0.1:1/x?sslmode=disable",
		"OPENAI_BASE_URL": ep.OpenAI, "OPENAI_API_KEY": "k", "ANTHROPIC_BASE_URL": ep.Anthropic, "ANTHROPIC_API_KEY": "k",
		"USDA_BASE_URL": upstream, "USDA_API_KEY": "k", "WEB_SEARCH_URL": ep.Web,
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.DiscardHandler), ready) }()
	var addrs [2]string
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	// Someone watches the breaker console: its live stream must not hold
	// the shutdown up.
	watch, err := http.Get("http://" + addrs[1] + "/console/api/events")
	if err != nil || watch.StatusCode != http.StatusOK {
		t.Fatalf("console stream: %v", err)
	}
	defer watch.Body.Close()
	first := make([]byte, 64)
	if _, err := io.ReadAtLeast(watch.Body, first, 1); err != nil {
		t.Fatal(err)
	}
	// A slow Anthropic: the chat request is in flight when the stop comes.
	if err := fake.SetFault(fakeupstream.Anthropic, fakeupstream.Fault{Latency: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post("http://"+addrs[0]+"/v1/chat", "application/json", strings.NewReader(`{"message":"hi"}`))
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		res <- result{status: resp.StatusCode, body: string(b)}
	}()
	testwait.For(t, 5*time.Second, "the request to reach Anthropic", func() bool {
		return fake.Stats()[fakeupstream.Anthropic].InFlight == 1
	})
	stop()
	r := <-res
	if r.err != nil || r.status != http.StatusOK || !strings.Contains(r.body, `"served_by":"anthropic"`) {
		t.Fatalf("the request in flight: %+v", r)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if rest, err := io.ReadAll(watch.Body); err != nil {
		t.Fatalf("the console stream did not end cleanly: %v (%q)", err, rest)
	}
	if _, err := http.Get("http://" + addrs[0] + "/healthz"); err == nil {
		t.Fatal("the API still answers after shutdown")
	}
}

func startFake(t *testing.T, fake *fakeupstream.Server) string {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return srv.URL
}
