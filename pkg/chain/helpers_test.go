package chain_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/retry"
)

// start is when the tests' clocks start.
var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newRetryClock returns a clock whose timers fire at once and move its time
// forward by their duration: retries run through their waits without
// sleeping, and every wait is recorded.
func newRetryClock() *clocktest.Clock { return clocktest.NewAuto(start) }

// newPolicy returns retry.New(name, cfg, opts...), logging nowhere unless
// opts say otherwise, or fails the test.
func newPolicy(t testing.TB, name string, cfg retry.Config, opts ...retry.Option) *retry.Policy {
	t.Helper()
	p, err := retry.New(name, cfg, append([]retry.Option{retry.WithLogger(discardLogger())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// retryEvents is a retry.Observer that adds "retry" to events at each
// retry.
type retryEvents struct {
	retry.NopObserver
	ev *events
}

func (o retryEvents) OnRetry(context.Context, retry.RetryEvent) { o.ev.add("retry") }

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(b *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// discardLogger drops everything.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// events is a concurrency-safe list of strings, for checking the order in
// which things happen.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.list...)
}

// breakerEvents is a dbreaker.Observer that logs call results into events.
type breakerEvents struct {
	dbreaker.NopObserver
	ev *events
}

func (o breakerEvents) OnCall(_ string, r dbreaker.CallResult) { o.ev.add("breaker:" + r.String()) }

// recorder is a chain.Observer of Guards that keeps everything.
type recorder struct {
	chain.NopObserver
	mu       sync.Mutex
	attempts []chain.Attempt
	retries  []string
}

func (r *recorder) OnAttempt(_ context.Context, a chain.Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, a)
}

func (r *recorder) OnRetry(_ context.Context, e retry.RetryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = append(r.retries, e.Name)
}

// statuses lists the Status of every attempt, in order.
func (r *recorder) statuses() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, a := range r.attempts {
		out = append(out, a.Status)
	}
	return out
}

func (r *recorder) retryCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.retries)
}

// histogramCount returns the sample count of the one histogram c collects.
func histogramCount(t *testing.T, c prometheus.Collector) uint64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	close(ch)
	var m dto.Metric
	if err := (<-ch).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

// memStore returns a new MemoryStore made with opts.
func memStore(t testing.TB, opts ...dbreaker.Option) *dbreaker.MemoryStore {
	t.Helper()
	s, err := dbreaker.NewMemoryStore(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
