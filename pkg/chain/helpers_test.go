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

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/retry"
)

// retryClock is a retry.Clock whose timers fire at once and move its time
// forward by their duration: retries run through their waits without
// sleeping, and every wait is recorded.
type retryClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
	// onWait, if set before use, is called with each wait, as the timer
	// fires: a test moves its other clocks along.
	onWait func(time.Duration)
}

func newRetryClock() *retryClock {
	return &retryClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *retryClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *retryClock) NewTimer(d time.Duration) clock.Timer {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	t := firedTimer{c: make(chan time.Time, 1)}
	t.c <- c.now
	c.mu.Unlock()
	if c.onWait != nil {
		c.onWait(d)
	}
	return t
}

func (c *retryClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

type firedTimer struct{ c chan time.Time }

func (t firedTimer) C() <-chan time.Time { return t.c }
func (t firedTimer) Stop() bool          { return false }

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

// recorder is a chain.Recorder that keeps everything.
type recorder struct {
	mu       sync.Mutex
	attempts []chain.Attempt
	retries  []string
}

func (r *recorder) ObserveAttempt(_ context.Context, a chain.Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, a)
}

func (r *recorder) ObserveRetry(_ context.Context, api string, _ retry.RetryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = append(r.retries, api)
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
