package dbreaker

import "sync"

// maxPendingConfirmations bounds the events waiting for a confirmation
// that is already under way: a flood of events (forged ones included) costs
// one snapshot per round trip, and no memory beyond this.
const maxPendingConfirmations = 64

// confirmer runs the snapshots that confirm events (see applyEvent), one
// at a time per breaker: events that arrive while one runs wait, and the
// next snapshot confirms them all.
type confirmer struct {
	b       *Breaker
	spawn   func(func()) // runs a function in the background
	mu      sync.Mutex
	running bool
	pending []event
}

func (c *confirmer) request(ev event) {
	c.mu.Lock()
	if len(c.pending) >= maxPendingConfirmations {
		c.pending = c.pending[1:]
	}
	c.pending = append(c.pending, ev)
	if c.running {
		c.mu.Unlock()
		return
	}
	c.running = true
	c.mu.Unlock()
	c.spawn(c.run)
}

func (c *confirmer) run() {
	for {
		c.mu.Lock()
		events := c.pending
		c.pending = nil
		if len(events) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.b.confirm(events)
	}
}
