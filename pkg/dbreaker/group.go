package dbreaker

import (
	"context"
	"sync"
)

// Group commit, as a database commits a log: per breaker, at most one
// acquire script and one report script are in flight. Callers that arrive
// while one is in flight wait together, and one script run decides them
// all as soon as it returns. A caller that finds nothing in flight sends
// its own request at once, so a lone caller waits for nothing.

// groupCommit batches the requests of one kind for one breaker.
type groupCommit[T any] struct {
	mu      sync.Mutex
	sending bool
	next    []*member[T]
	// spawn runs fn in the background and reports whether it could (a
	// closed store cannot; fn then runs on the caller's goroutine).
	spawn func(fn func()) bool
	// send runs one batch, bounded by ctx and the store timeout, and
	// leaves each member's answer in it.
	send func(ctx context.Context, batch []*member[T])
	// abandon takes the answer of a member whose caller stopped waiting
	// after its batch was sent (nil: there is nothing to undo).
	abandon func(*member[T])
}

// member is one request and, once its batch is answered, its answer.
type member[T any] struct {
	req       T
	wake      chan struct{} // closed when the batch holding the request is answered
	done      bool          // answered (under mu)
	abandoned bool          // the caller stopped waiting (under mu)
}

// submit sends m at once when nothing is in flight (then under the
// caller's ctx), or with the next batch, and returns when the batch holding
// it is answered. If ctx ends first, it returns ctx's error, and the answer,
// if the batch was sent, goes to abandon.
func (g *groupCommit[T]) submit(ctx context.Context, m *member[T]) error {
	g.mu.Lock()
	if !g.sending {
		g.sending = true
		g.mu.Unlock()
		g.send(ctx, []*member[T]{m})
		g.sendGathered()
		return nil
	}
	m.wake = make(chan struct{})
	g.next = append(g.next, m)
	g.mu.Unlock()
	select {
	case <-m.wake:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if m.done {
		return nil
	}
	m.abandoned = true
	return ctx.Err()
}

// sendGathered sends, in the background, the batches that gathered while
// one was in flight, until none is waiting.
func (g *groupCommit[T]) sendGathered() {
	g.mu.Lock()
	if len(g.next) == 0 {
		g.sending = false
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	if !g.spawn(g.drain) {
		g.drain()
	}
}

func (g *groupCommit[T]) drain() {
	for {
		g.mu.Lock()
		batch := g.next[:0]
		for _, m := range g.next {
			if !m.abandoned {
				batch = append(batch, m)
			}
		}
		g.next = nil
		if len(batch) == 0 {
			g.sending = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.send(context.Background(), batch)
		var lost []*member[T]
		g.mu.Lock()
		for _, m := range batch {
			if m.abandoned {
				lost = append(lost, m)
				continue
			}
			m.done = true
			close(m.wake)
		}
		g.mu.Unlock()
		if g.abandon != nil {
			for _, m := range lost {
				g.abandon(m)
			}
		}
	}
}

// acquireCall is one caller's acquire and its answer.
type acquireCall struct {
	token string
	d     Decision
	err   error
}

// acquire asks the store to admit one call: through the group commit on a
// grouped store, else directly.
func (b *Breaker) acquire(ctx context.Context, token string) (Decision, error) {
	m := &member[acquireCall]{req: acquireCall{token: token}}
	if b.grouped == nil {
		b.sendAcquires(ctx, []*member[acquireCall]{m})
	} else if err := b.acquires.submit(ctx, m); err != nil {
		return Decision{}, err
	}
	return m.req.d, m.req.err
}

// sendAcquires decides a batch of acquires with one store call. On a
// failure every token is given back (the script may have run).
func (b *Breaker) sendAcquires(ctx context.Context, batch []*member[acquireCall]) {
	now, epoch, start := b.clock.Now(), b.epoch(), b.view.Load()
	sctx, cancel := b.storeContext(ctx)
	defer cancel()
	var ds []Decision
	var err error
	if b.grouped != nil {
		tokens := make([]string, len(batch))
		for i, m := range batch {
			tokens[i] = m.req.token
		}
		ds, err = b.grouped.acquireBatch(sctx, b.name, b.policy, tokens)
	} else {
		var d Decision
		d, err = b.store.Acquire(sctx, b.name, b.policy, batch[0].req.token)
		ds = []Decision{d}
	}
	if err != nil {
		for _, m := range batch {
			m.req.err = err
			if b.grouped != nil {
				b.grouped.releaseProbe(b.name, m.req.token, b.cfg.StoreTimeout)
			}
		}
		if ctx.Err() == nil {
			b.storeFailed("acquire", err)
		}
		return
	}
	b.observe(now, epoch, start, ds[0].Snapshot, ds[0].Transitions)
	for i, m := range batch {
		m.req.d = ds[i]
	}
}

// abandonAcquire gives back the probe slot of a caller that stopped
// waiting before its batch was answered.
func (b *Breaker) abandonAcquire(m *member[acquireCall]) {
	if m.req.err == nil && m.req.d.Probe {
		b.grouped.releaseProbe(b.name, m.req.token, b.cfg.StoreTimeout)
	}
}

// sendReports records a batch of outcomes, in order, with one store call;
// what the store cannot take goes to the local breaker.
func (b *Breaker) sendReports(ctx context.Context, batch []*member[Report]) {
	reports := make([]Report, len(batch))
	for i, m := range batch {
		reports[i] = m.req
	}
	if b.degraded() {
		b.recordLocally(reports)
		return
	}
	epoch, start := b.epoch(), b.view.Load()
	sctx, cancel := b.storeContext(ctx)
	res, err := b.store.Report(sctx, b.name, b.policy, reports)
	cancel()
	if err != nil {
		b.storeFailed("report", err)
		b.recordLocally(reports)
		return
	}
	b.noteStale(res.Stale)
	b.observe(b.clock.Now(), epoch, start, res.Snapshot, res.Transitions)
}
