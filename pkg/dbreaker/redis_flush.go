package dbreaker

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Fast mode: outcomes wait in a queue per breaker and are flushed, in
// order, by one report script call per breaker, pipelined across breakers,
// every FlushInterval or as soon as a queue holds FlushBatch reports.

type flusher struct {
	mu     sync.Mutex
	queues map[*reportQueue]struct{}
	signal chan struct{} // a queue reached FlushBatch
}

// reportQueue holds one breaker's unflushed reports.
type reportQueue struct {
	s      *RedisStore
	b      *Breaker
	mu     sync.Mutex
	items  []Report
	folded []Report // successes folded out of a full queue, flushed last
}

// newQueue implements batching.
func (s *RedisStore) newQueue(b *Breaker) *reportQueue {
	q := &reportQueue{s: s, b: b}
	s.flusher.mu.Lock()
	s.flusher.queues[q] = struct{}{}
	s.flusher.mu.Unlock()
	s.start()
	return q
}

// foldable: two successive successes that the report script would treat
// the same (same generation, same slowness, not probes) fold into one
// report with a count.
func foldable(a, b Report) bool {
	return a.Outcome == Success && b.Outcome == Success && a.Generation == b.Generation &&
		a.Slow == b.Slow && a.Token == "" && b.Token == ""
}

// push queues a report. A success right after a like one only adds to its
// count. When the queue is full the oldest success leaves it for the folded
// list (flushed after the queue); failures are never dropped, so a queue of
// failures only may outgrow the bound until the next flush.
func (q *reportQueue) push(r Report) {
	q.mu.Lock()
	n := len(q.items)
	switch {
	case n > 0 && foldable(q.items[n-1], r):
		q.items[n-1].Count += max(r.Count, 1)
	default:
		if n >= q.s.maxQueue {
			q.foldOldestSuccess()
		}
		q.items = append(q.items, r)
	}
	full := len(q.items) >= q.s.flushBatch
	q.mu.Unlock()
	if full {
		select {
		case q.s.flusher.signal <- struct{}{}:
		default:
		}
	}
}

func (q *reportQueue) foldOldestSuccess() {
	i := slices.IndexFunc(q.items, func(r Report) bool { return r.Outcome == Success })
	if i < 0 {
		return
	}
	r := q.items[i]
	q.items = slices.Delete(q.items, i, i+1)
	for j := range q.folded {
		if foldable(q.folded[j], r) {
			q.folded[j].Count += max(r.Count, 1)
			return
		}
	}
	q.folded = append(q.folded, r)
}

// take empties the queue and returns its reports, folded successes last.
func (q *reportQueue) take() []Report {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 && len(q.folded) == 0 {
		return nil
	}
	out := append(q.items, q.folded...)
	q.items, q.folded = nil, nil
	return out
}

// close unregisters the queue and flushes what it holds.
func (q *reportQueue) close(ctx context.Context) error {
	q.s.flusher.mu.Lock()
	delete(q.s.flusher.queues, q)
	q.s.flusher.mu.Unlock()
	return q.s.flush(ctx, []batch{{q: q, reports: q.take()}})
}

// flushLoop flushes every FlushInterval, or early on a full queue, until
// Close (which does the last flush).
func (s *RedisStore) flushLoop() {
	t := time.NewTicker(s.flushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.flusher.signal:
		}
		_ = s.flushAll(context.Background())
	}
}

type batch struct {
	q       *reportQueue
	reports []Report
}

// flushAll flushes every queue.
func (s *RedisStore) flushAll(ctx context.Context) error {
	s.flusher.mu.Lock()
	batches := make([]batch, 0, len(s.flusher.queues))
	for q := range s.flusher.queues {
		batches = append(batches, batch{q: q})
	}
	s.flusher.mu.Unlock()
	for i := range batches {
		batches[i].reports = batches[i].q.take()
	}
	return s.flush(ctx, batches)
}

// flush sends the batches in one pipeline, bounded by the longest
// StoreTimeout among their breakers, and hands each reply to its breaker.
// Reports that cannot be delivered go to the breakers' local fallback, so
// no failure is lost while Redis is unreachable.
func (s *RedisStore) flush(ctx context.Context, batches []batch) error {
	batches = slices.DeleteFunc(batches, func(b batch) bool { return len(b.reports) == 0 })
	if len(batches) == 0 {
		return nil
	}
	if s.Degraded() {
		for _, bt := range batches {
			bt.q.b.recordLocally(bt.reports)
		}
		return errDegraded
	}
	timeout := time.Duration(0)
	for _, bt := range batches {
		timeout = max(timeout, bt.q.b.cfg.StoreTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type sent struct {
		keys []string
		args []any
		cmd  *redis.Cmd
	}
	out := make([]sent, len(batches))
	epochs := make([]uint64, len(batches))
	pipe := s.client.Pipeline()
	for i, bt := range batches {
		state, window, probes := s.Keys(bt.q.b.name)
		args, err := s.reportArgs(bt.q.b.name, bt.q.b.policy, bt.reports)
		if err != nil {
			return err
		}
		epochs[i] = bt.q.b.epoch()
		out[i] = sent{keys: []string{state, window, probes}, args: args}
		out[i].cmd = s.scripts.report.EvalSha(ctx, pipe, out[i].keys, args...)
	}
	_, _ = pipe.Exec(ctx) // errors are read per command below
	var firstErr error
	for i, bt := range batches {
		b := bt.q.b
		reply, err := out[i].cmd.Result()
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			reply, err = s.scripts.report.Run(ctx, s.client, out[i].keys, out[i].args...).Result()
		}
		var res ReportResult
		if err == nil {
			res, err = parseReportReply(b.name, reply)
		}
		if err != nil {
			if unavailable(err) {
				s.markDown(err)
			}
			b.storeFailed("report", err)
			b.recordLocally(bt.reports)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		b.noteStale(res.Stale)
		b.observe(b.clock.Now(), epochs[i], res.Snapshot, res.Transitions)
	}
	return firstErr
}
