package dbreaker

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Fast mode: outcomes wait in a queue per breaker and are flushed, in
// order, by one report script call per breaker, pipelined across breakers,
// every FlushInterval or as soon as a queue holds FlushBatch reports. The
// same pipeline gives back the probe slots of acquires that failed on the
// client but may have run in Redis.

type flusher struct {
	mu     sync.Mutex
	queues map[*reportQueue]struct{}
	signal chan struct{} // a queue reached FlushBatch, or needs a flush now

	releaseMu sync.Mutex
	releases  []release
}

// release is a probe slot to give back: a token that Acquire may have
// taken in Redis although its caller saw an error.
type release struct {
	probesKey, token string
}

// maxReleases bounds the releases waiting for Redis; past it the oldest
// are dropped (their leases end by themselves).
const maxReleases = 1024

// reportQueue holds one breaker's unflushed reports.
type reportQueue struct {
	s     *RedisStore
	b     *Breaker
	mu    sync.Mutex
	items []Report

	// sending is held while a batch of this queue is taken and sent, so
	// batches reach Redis in the order they were queued.
	sending sync.Mutex

	// Failures Redis has not seen, for the overshoot bound: failures counts
	// the failures queued so far; atSuccess is its value at the last
	// success queued (which resets the consecutive count in Redis too), and
	// acked its value at the end of the last batch Redis (or, when the store
	// failed, the local breaker) has taken.
	failures, atSuccess, acked atomic.Int64
}

// newQueue implements batching.
func (s *RedisStore) newQueue(b *Breaker) *reportQueue {
	q := &reportQueue{s: s, b: b}
	s.flusher.mu.Lock()
	s.flusher.queues[q] = struct{}{}
	s.flusher.mu.Unlock()
	s.start()
	s.wakeFlusher() // it ticks from now on
	return q
}

// foldable: two successive successes that the report script would treat
// the same (same incarnation and generation, same slowness, not probes)
// fold into one report with a count.
func foldable(a, b Report) bool {
	return a.Outcome == Success && b.Outcome == Success && a.Incarnation == b.Incarnation && a.Generation == b.Generation &&
		a.Slow == b.Slow && a.Token == "" && b.Token == ""
}

// unseenFailures is how many consecutive failures this replica queued that
// Redis has not yet seen.
func (q *reportQueue) unseenFailures() int64 {
	return q.failures.Load() - max(q.atSuccess.Load(), q.acked.Load())
}

// push queues a report. A success right after a like one only adds to its
// count. A queue that reaches FlushBatch asks for a flush; one that reaches
// MaxQueue is flushed by the caller at once, so the queue stays bounded and
// its outcomes keep their order.
func (q *reportQueue) push(r Report) {
	q.mu.Lock()
	n := len(q.items)
	if n > 0 && foldable(q.items[n-1], r) {
		q.items[n-1].Count += max(r.Count, 1)
	} else {
		q.items = append(q.items, r)
		n++
	}
	switch r.Outcome {
	case Failure:
		q.failures.Add(1)
	case Success:
		q.atSuccess.Store(q.failures.Load())
	}
	q.mu.Unlock()
	switch {
	case n >= q.s.maxQueue:
		q.flushNow(context.Background())
	case n >= q.s.flushBatch:
		q.s.wakeFlusher()
	}
}

// wakeFlusher asks the flusher for a flush now.
func (s *RedisStore) wakeFlusher() {
	select {
	case s.flusher.signal <- struct{}{}:
	default:
	}
}

// take empties the queue and returns its reports with the failure count
// they end at. The caller holds q.sending.
func (q *reportQueue) take() ([]Report, int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.items
	q.items = nil
	return out, q.failures.Load()
}

// flushNow sends what the queue holds and waits for the reply.
func (q *reportQueue) flushNow(ctx context.Context) error {
	q.sending.Lock()
	defer q.sending.Unlock()
	return q.s.flush(ctx, []*reportQueue{q})
}

// close unregisters the queue and flushes what it holds.
func (q *reportQueue) close(ctx context.Context) error {
	q.s.flusher.mu.Lock()
	delete(q.s.flusher.queues, q)
	q.s.flusher.mu.Unlock()
	return q.flushNow(ctx)
}

// releaseProbe queues a probe token to remove from Redis with the next
// flush.
func (s *RedisStore) releaseProbe(name, token string) {
	_, _, probes := s.Keys(name)
	s.flusher.releaseMu.Lock()
	if len(s.flusher.releases) >= maxReleases {
		s.flusher.releases = slices.Delete(s.flusher.releases, 0, 1)
	}
	s.flusher.releases = append(s.flusher.releases, release{probesKey: probes, token: token})
	s.flusher.releaseMu.Unlock()
	s.start()
	s.wakeFlusher()
}

func (s *RedisStore) takeReleases() []release {
	s.flusher.releaseMu.Lock()
	defer s.flusher.releaseMu.Unlock()
	out := s.flusher.releases
	s.flusher.releases = nil
	return out
}

// flushLoop flushes every FlushInterval while Fast-mode queues exist, and
// early on request, until Close (which does the last flush). A store
// without queues (Strict breakers only) sleeps until asked.
func (s *RedisStore) flushLoop() {
	t := time.NewTicker(s.flushInterval)
	defer t.Stop()
	for {
		s.flusher.mu.Lock()
		idle := len(s.flusher.queues) == 0
		s.flusher.mu.Unlock()
		tick := t.C
		if idle {
			tick = nil
		}
		select {
		case <-s.stop:
			return
		case <-tick:
		case <-s.flusher.signal:
		}
		_ = s.flushAll(context.Background(), false)
	}
}

// flushAll flushes every queue. With wait false, a queue whose batch is
// being sent by another caller is left to that caller.
func (s *RedisStore) flushAll(ctx context.Context, wait bool) error {
	s.flusher.mu.Lock()
	queues := make([]*reportQueue, 0, len(s.flusher.queues))
	for q := range s.flusher.queues {
		queues = append(queues, q)
	}
	s.flusher.mu.Unlock()
	locked := queues[:0]
	for _, q := range queues {
		if wait {
			q.sending.Lock()
		} else if !q.sending.TryLock() {
			continue
		}
		locked = append(locked, q)
	}
	defer func() {
		for _, q := range locked {
			q.sending.Unlock()
		}
	}()
	return s.flush(ctx, locked)
}

// flush takes the queues' reports (the caller holds their sending locks)
// and sends them and the waiting probe releases in one pipeline, bounded by
// the longest StoreTimeout among their breakers, and hands each reply to its
// breaker. Reports that cannot be delivered go to the breakers' local
// fallback, so no failure is lost while Redis is unavailable.
func (s *RedisStore) flush(ctx context.Context, queues []*reportQueue) error {
	type batch struct {
		q        *reportQueue
		reports  []Report
		failures int64 // the queue's failure count at the end of the batch
		epoch    uint64
		start    *view
		keys     []string
		args     []any
		cmd      *redis.Cmd
	}
	batches := make([]batch, 0, len(queues))
	for _, q := range queues {
		reports, failures := q.take()
		if len(reports) > 0 {
			batches = append(batches, batch{q: q, reports: reports, failures: failures})
		}
	}
	releases := s.takeReleases()
	if len(batches) == 0 && len(releases) == 0 {
		return nil
	}
	acked := func(bt batch) {
		for {
			cur := bt.q.acked.Load()
			if cur >= bt.failures || bt.q.acked.CompareAndSwap(cur, bt.failures) {
				return
			}
		}
	}
	if s.Degraded() {
		for _, bt := range batches {
			bt.q.b.recordLocally(bt.reports)
			acked(bt)
		}
		return errDegraded
	}
	timeout := DefaultStoreTimeout
	for _, bt := range batches {
		timeout = max(timeout, bt.q.b.cfg.StoreTimeout)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errStoreTimeout)
	defer cancel()
	pipe := s.client.Pipeline()
	for i := range batches {
		bt := &batches[i]
		b := bt.q.b
		args, err := s.reportArgs(b.name, b.policy, bt.reports)
		if err != nil {
			return err
		}
		bt.epoch, bt.start = b.epoch(), b.view.Load()
		bt.keys, bt.args = s.keysOf(b.name).all, args
		bt.cmd = s.scripts.report.EvalSha(ctx, pipe, bt.keys, args...)
	}
	for _, r := range releases {
		pipe.ZRem(ctx, r.probesKey, r.token)
	}
	_, _ = pipe.Exec(ctx) // errors are read per command below
	var firstErr error
	for _, bt := range batches {
		b := bt.q.b
		reply, err := bt.cmd.Result()
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			reply, err = s.scripts.report.Run(ctx, s.client, bt.keys, bt.args...).Result()
		}
		var res ReportResult
		if err == nil {
			res, err = parseReportReply(b.name, reply)
		}
		s.noteCall(ctx, err)
		if err != nil {
			b.storeFailed("report", err)
			b.recordLocally(bt.reports)
			acked(bt)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		b.noteStale(res.Stale)
		b.observe(b.clock.Now(), bt.epoch, bt.start, res.Snapshot, res.Transitions)
		acked(bt) // after the view took the reply: a trip it brings is known before the bound lifts
	}
	return firstErr
}
