package console

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/healthagent/resilience/pkg/dbreaker"
)

// The live stream: one hub per Console runs while at least one viewer is
// connected. It holds one subscription to the events and presence channels,
// reads a breaker again when an event names it, reads every breaker's
// counters every Refresh, and sends each change to every viewer, so the
// number of viewers costs Redis nothing.

// forgetSilent is how long a replica that stopped sending heartbeats stays
// listed (flagged silent).
const forgetSilent = 5 * time.Minute

// rescanEvery: the breaker names and heartbeat keys are scanned again every
// this many refreshes (new breakers show up sooner through events and
// heartbeats).
const rescanEvery = 30

// viewerLag is how long a write to a viewer may take before the viewer is
// dropped (its browser reconnects and starts afresh): a connection that
// takes no data for that long is gone or hopelessly behind.
const viewerLag = 30 * time.Second

// stateKind is the kind of the state frames; a history frame's kind is its
// breaker's name.
const stateKind = ""

// viewer is one live stream's mailbox: per kind of frame (the state, and
// each breaker's history), the newest one its stream has not written yet.
// A frame replaces the unwritten one of its kind: every frame is a whole
// document, so a viewer that falls behind skips to the newest documents
// and loses nothing. Its backlog is bounded by the number of breakers
// whatever the rate of changes, so no burst drops it; only a write that
// takes longer than viewerLag does.
type viewer struct {
	mu      sync.Mutex
	pending map[string][]byte // kind → newest unwritten frame
	order   []string          // the kinds in pending, oldest first
	ready   chan struct{}     // holds a signal while pending may not be empty
	done    chan struct{}
	once    sync.Once
}

func newViewer() *viewer {
	return &viewer{pending: make(map[string][]byte), ready: make(chan struct{}, 1), done: make(chan struct{})}
}

// put leaves a frame of a kind for the stream to write, in place of the
// unwritten one of that kind.
func (v *viewer) put(kind string, frame []byte) {
	v.mu.Lock()
	if _, ok := v.pending[kind]; !ok {
		v.order = append(v.order, kind)
	}
	v.pending[kind] = frame
	v.mu.Unlock()
	select {
	case v.ready <- struct{}{}:
	default: // signalled already
	}
}

// take returns the unwritten frames, oldest kind first, and empties the
// mailbox.
func (v *viewer) take() [][]byte {
	v.mu.Lock()
	defer v.mu.Unlock()
	frames := make([][]byte, len(v.order))
	for i, kind := range v.order {
		frames[i] = v.pending[kind]
	}
	clear(v.pending)
	v.order = v.order[:0]
	return frames
}

func (v *viewer) drop() { v.once.Do(func() { close(v.done) }) }

type hub struct {
	c *Console

	mu      sync.Mutex
	viewers map[*viewer]struct{}
	closed  bool
	gen     uint64             // the running generation; a stopped run's frames are ignored
	cancel  context.CancelFunc // nil while no run goes on
	state   []byte             // the last state frame of the running generation
	history map[string][]byte  // the last history frame per breaker
	wg      sync.WaitGroup
}

func newHub(c *Console) *hub {
	return &hub{c: c, viewers: make(map[*viewer]struct{}), history: make(map[string][]byte)}
}

// join adds a viewer, starting the run if it is the first, and sends it
// what the run has published so far; false after close.
func (h *hub) join(v *viewer) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.viewers[v] = struct{}{}
	if h.cancel == nil {
		h.gen++
		h.state, h.history = nil, make(map[string][]byte)
		ctx, cancel := context.WithCancel(context.Background())
		h.cancel = cancel
		h.wg.Add(1)
		go func(gen uint64) {
			defer h.wg.Done()
			h.run(ctx, gen)
		}(h.gen)
		return true
	}
	if h.state != nil {
		v.put(stateKind, h.state)
	}
	for breaker, f := range h.history {
		v.put(breaker, f)
	}
	return true
}

// leave removes a viewer; the last one stops the run.
func (h *hub) leave(v *viewer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.viewers, v)
	if len(h.viewers) == 0 && h.cancel != nil {
		h.cancel()
		h.cancel = nil
		h.gen++
	}
}

// publish sends a frame to every viewer and keeps it for those who join
// later, unless gen is no longer the running generation.
func (h *hub) publish(gen uint64, breaker string, frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen != h.gen || h.cancel == nil {
		return
	}
	if breaker == stateKind {
		h.state = frame
	} else {
		h.history[breaker] = frame
	}
	for v := range h.viewers {
		v.put(breaker, frame)
	}
}

// close ends every stream and the run, and waits for it within ctx.
func (h *hub) close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	if h.cancel != nil {
		h.cancel()
		h.cancel = nil
		h.gen++
	}
	for v := range h.viewers {
		v.drop()
		delete(h.viewers, v)
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// frame formats one Server-Sent Event.
func frame(event string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil { // the documents are plain structs: cannot happen
		data = []byte(`{}`)
	}
	var b bytes.Buffer
	b.WriteString("event: ")
	b.WriteString(event)
	b.WriteString("\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}

// run follows the fleet for one generation of viewers.
func (h *hub) run(ctx context.Context, gen uint64) {
	c := h.c
	sub := c.store.SubscribeFleet(ctx)
	defer sub.Close()
	tick := time.NewTicker(c.cfg.Refresh)
	defer tick.Stop()
	// Subscribed before the first read, so no transition falls between.
	for {
		if _, err := sub.Receive(ctx); err == nil {
			break
		} else if ctx.Err() != nil {
			return
		} else {
			c.logger.Warn("[CONSOLE] cannot subscribe to the fleet's events; trying again", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	r := &live{h: h, gen: gen, breakers: map[string]breakerDoc{}, replicas: map[string]heard{}}
	r.rescan(ctx)
	for name := range r.breakers {
		r.readHistory(ctx, name)
	}
	r.publishState()
	messages := sub.Channel()
	events := c.store.Channel()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-messages:
			if !ok {
				return
			}
			if m.Channel == events {
				r.onEvent(ctx, m.Payload)
			} else {
				r.onHeartbeat(m.Payload)
			}
		case <-tick.C:
			if n%rescanEvery == 0 {
				r.rescan(ctx)
			}
			r.refresh(ctx)
		}
	}
}

// live is what one run knows.
type live struct {
	h         *hub
	gen       uint64
	breakers  map[string]breakerDoc
	replicas  map[string]heard
	lastState []byte
}

// rescan reads every breaker name and heartbeat under the prefix.
func (r *live) rescan(ctx context.Context) {
	breakers, replicas, err := r.h.c.readAll(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.h.c.logger.Warn("[CONSOLE] cannot read the fleet", "error", err)
		}
		return
	}
	first := len(r.breakers) == 0 // after the first scan, run reads every history
	for name, b := range breakers {
		if old, ok := r.breakers[name]; (!ok && !first) || ok && (old.Incarnation != b.Incarnation || old.Generation != b.Generation) {
			r.readHistory(ctx, name)
		}
		r.breakers[name] = b
	}
	for name, h := range replicas {
		r.replicas[name] = h
	}
}

// refresh reads every breaker's counters again, and the history of those
// whose generation moved (an event missed while the subscription was
// down), drops replicas silent for too long, and publishes what changed.
func (r *live) refresh(ctx context.Context) {
	names := make(map[string]bool, len(r.breakers))
	for name := range r.breakers {
		names[name] = true
	}
	for _, h := range r.replicas {
		for _, v := range h.p.Breakers {
			names[v.Name] = true
		}
	}
	for name := range names {
		r.readBreaker(ctx, name)
	}
	now := r.h.c.clock.Now()
	for name, h := range r.replicas {
		if now.Sub(h.at) > forgetSilent {
			delete(r.replicas, name)
		}
	}
	r.publishState()
}

// readBreaker reads one breaker, and its history when it moved.
func (r *live) readBreaker(ctx context.Context, name string) {
	b, err := r.h.c.readBreaker(ctx, name)
	if err != nil {
		if ctx.Err() == nil {
			r.h.c.logger.Debug("[CONSOLE] cannot read a breaker", "breaker", name, "error", err)
		}
		return
	}
	old, known := r.breakers[name]
	if !known && b.Incarnation == "" {
		return // no state in Redis: a name from a forged event, or one deleted since
	}
	r.breakers[name] = b
	if !known || old.Incarnation != b.Incarnation || old.Generation != b.Generation {
		r.readHistory(ctx, name)
	}
}

func (r *live) readHistory(ctx context.Context, name string) {
	h, err := r.h.c.readHistory(ctx, name)
	if err != nil {
		if ctx.Err() == nil {
			r.h.c.logger.Debug("[CONSOLE] cannot read a breaker's log", "breaker", name, "error", err)
		}
		return
	}
	r.h.publish(r.gen, name, frame("history", h))
}

// onEvent reads the breaker an event names (an operator's action changing
// nothing moves no generation, so its history is read all the same).
func (r *live) onEvent(ctx context.Context, payload string) {
	var ev struct {
		Breaker  string `json:"breaker"`
		Override string `json:"override"`
	}
	if json.Unmarshal([]byte(payload), &ev) != nil || dbreaker.ValidateName(ev.Breaker) != nil {
		return
	}
	old, known := r.breakers[ev.Breaker]
	r.readBreaker(ctx, ev.Breaker)
	if b := r.breakers[ev.Breaker]; ev.Override != "" && known && old.Generation == b.Generation && old.Incarnation == b.Incarnation {
		r.readHistory(ctx, ev.Breaker)
	}
	r.publishState()
}

func (r *live) onHeartbeat(payload string) {
	p, err := dbreaker.ParsePresence([]byte(payload))
	if err != nil {
		return
	}
	if p.Gone {
		delete(r.replicas, p.Replica)
	} else {
		r.replicas[p.Replica] = heard{p: p, at: r.h.c.clock.Now()}
	}
	r.publishState()
}

// publishState sends the state document when it changed.
func (r *live) publishState() {
	f := frame("state", r.h.c.assemble(r.breakers, r.replicas, r.h.c.clock.Now()))
	if bytes.Equal(f, r.lastState) {
		return
	}
	r.lastState = f
	r.h.publish(r.gen, stateKind, f)
}
