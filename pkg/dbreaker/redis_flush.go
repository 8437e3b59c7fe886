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
// taken in Redis although its caller saw an error. A release that does not
// reach Redis (a timeout, a degraded store) waits for the next flush: the
// slot would otherwise stay taken until its lease ends.
type release struct {
	probesKey, token string
	timeout          time.Duration // the breaker's StoreTimeout
	tries            int           // times sent without Redis taking it
}

// maxReleases bounds the releases waiting for Redis, and maxReleaseTries
// the times one is sent; past them a release is dropped (its lease ends
// by itself). A degraded store sends none, so waiting costs no tries.
const (
	maxReleases     = 1024
	maxReleaseTries = 20
)

// reportQueue holds one breaker's unflushed reports.
type reportQueue struct {
	s      *RedisStore
	b      *Breaker
	mu     sync.Mutex
	items  []Report
	closed bool // after close: push refuses, the caller reports at once

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

// push queues a report and reports whether it did (a closed queue takes
// none). A success right after a like one only adds to its count. A queue
// that reaches FlushBatch asks for a flush; one that reaches MaxQueue is
// flushed by the caller at once, so the queue stays bounded and its
// outcomes keep their order.
func (q *reportQueue) push(r Report) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
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
		_ = q.flushNow(context.Background())
	case n >= q.s.flushBatch:
		q.s.wakeFlusher()
	}
	return true
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
	deliver, err := q.s.flush(ctx, []*reportQueue{q})
	q.sending.Unlock()
	deliver()
	return err
}

// close unregisters the queue, refuses further reports and flushes what
// it holds.
func (q *reportQueue) close(ctx context.Context) error {
	q.s.flusher.mu.Lock()
	delete(q.s.flusher.queues, q)
	q.s.flusher.mu.Unlock()
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	return q.flushNow(ctx)
}

// releaseProbe queues a probe token to remove from Redis with the next
// flush.
func (s *RedisStore) releaseProbe(name, token string, timeout time.Duration) {
	_, _, probes := s.Keys(name)
	s.queueReleases([]release{{probesKey: probes, token: token, timeout: timeout}})
	s.start()
	s.wakeFlusher()
}

// queueReleases adds releases to send, keeping the newest maxReleases.
func (s *RedisStore) queueReleases(rs []release) {
	if len(rs) == 0 {
		return
	}
	s.flusher.releaseMu.Lock()
	defer s.flusher.releaseMu.Unlock()
	s.flusher.releases = append(s.flusher.releases, rs...)
	if n := len(s.flusher.releases) - maxReleases; n > 0 {
		s.flusher.releases = slices.Delete(s.flusher.releases, 0, n)
	}
}

func (s *RedisStore) takeReleases() []release {
	s.flusher.releaseMu.Lock()
	defer s.flusher.releaseMu.Unlock()
	out := s.flusher.releases
	s.flusher.releases = nil
	return out
}

// releasesWaiting reports whether releases wait for a flush.
func (s *RedisStore) releasesWaiting() bool {
	s.flusher.releaseMu.Lock()
	defer s.flusher.releaseMu.Unlock()
	return len(s.flusher.releases) > 0
}

// flushLoop flushes every FlushInterval while Fast-mode queues exist or
// probe releases wait for Redis, and early on request, until Close (which
// does the last flush). A store with neither sleeps until asked.
func (s *RedisStore) flushLoop() {
	t := time.NewTicker(s.flushInterval)
	defer t.Stop()
	for {
		s.flusher.mu.Lock()
		idle := len(s.flusher.queues) == 0
		s.flusher.mu.Unlock()
		idle = idle && !s.releasesWaiting()
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
	deliver, err := s.flush(ctx, locked)
	for _, q := range locked {
		q.sending.Unlock()
	}
	deliver()
	return err
}

// flush takes the queues' reports (the caller holds their sending locks)
// and sends them and the waiting probe releases in one pipeline, bounded by
// the longest StoreTimeout among their breakers. Each breaker's view takes
// its reply at once; what involves the breakers' observers or logs (the
// transitions, stale reports, store errors, and the reports that go to the
// local fallback when the store fails, so no failure is lost) is left to
// deliver, which the caller runs after releasing the locks: observers run
// outside every lock.
func (s *RedisStore) flush(ctx context.Context, queues []*reportQueue) (deliver func(), err error) {
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
	var later []func()
	deliver = func() {
		for _, f := range later {
			f()
		}
	}
	acked := func(bt batch) {
		for {
			cur := bt.q.acked.Load()
			if cur >= bt.failures || bt.q.acked.CompareAndSwap(cur, bt.failures) {
				return
			}
		}
	}
	// failed hands a batch the store did not take to the local breaker; the
	// bound on unseen failures lifts once it has them.
	failed := func(bt batch, cause error) {
		later = append(later, func() {
			if cause != nil {
				bt.q.b.storeFailed("report", cause)
			}
			bt.q.b.recordLocally(bt.reports)
			acked(bt)
		})
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
		return deliver, nil
	}
	if s.Degraded() {
		s.queueReleases(releases) // not an error: they wait, or their leases end
		if len(batches) == 0 {
			return deliver, nil
		}
		for _, bt := range batches {
			failed(bt, nil)
		}
		return deliver, errDegraded
	}
	timeout := time.Duration(0)
	for _, bt := range batches {
		timeout = max(timeout, bt.q.b.cfg.StoreTimeout)
	}
	for _, r := range releases {
		timeout = max(timeout, r.timeout)
	}
	if timeout == 0 {
		timeout = DefaultStoreTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errStoreTimeout)
	defer cancel()
	pipe := s.client.Pipeline()
	sent := batches[:0]
	for _, bt := range batches {
		b := bt.q.b
		args, err := s.reportArgs(b.name, b.policy, bt.reports)
		if err != nil {
			failed(bt, err)
			continue
		}
		bt.epoch, bt.start = b.epoch(), b.view.Load()
		bt.keys, bt.args = s.keysOf(b.name).all, args
		bt.cmd = s.scripts.report.EvalSha(ctx, pipe, bt.keys, args...)
		sent = append(sent, bt)
	}
	zrems := make([]*redis.IntCmd, len(releases))
	for i, r := range releases {
		zrems[i] = pipe.ZRem(ctx, r.probesKey, r.token)
	}
	_, _ = pipe.Exec(ctx) // errors are read per command below
	var unsent []release
	for i, c := range zrems {
		if r := releases[i]; c.Err() != nil && r.tries+1 < maxReleaseTries {
			r.tries++
			unsent = append(unsent, r)
		}
	}
	s.queueReleases(unsent)
	var firstErr error
	for _, bt := range sent {
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
			failed(bt, err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		b.learnReply(b.clock.Now(), bt.epoch, bt.start, res.Snapshot)
		acked(bt) // after the view took the reply: a trip it brings is known before the bound lifts
		later = append(later, func() {
			b.noteStale(res.Stale)
			b.announce(res.Snapshot, res.Transitions)
		})
	}
	return deliver, firstErr
}
