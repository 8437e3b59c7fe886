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
// counters every Refresh (all in one pipeline, under one deadline, in a
// goroutine of its own), and sends each change to every viewer, so the
// number of viewers costs Redis nothing.

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

// run follows the fleet for one generation of viewers. It never waits on
// Redis itself: a reader (one at a time) reads what the run asks for (see
// Console.read) and hands the result back, while the run goes on taking
// heartbeats and events and publishing the state every Refresh. So a Redis
// that stops answering delays no heartbeat and no silence flag, and what
// events ask for meanwhile is read together once the reader is free.
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
	r := &live{h: h, gen: gen, breakers: map[string]breakerDoc{}, results: make(chan readResult, 1)}
	defer r.reading.Wait() // the reader's deadline bounds it
	r.want.scan = true
	r.dispatch(ctx)
	messages := sub.Channel()
	events := c.store.Channel()
	ticks := 0
	for {
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
		case res := <-r.results:
			r.merge(ctx, res)
			r.dispatch(ctx)
		case <-tick.C:
			// The breakers' counters change without a transition: read
			// them all again; list the breakers and heartbeats again now
			// and then, and at every tick until a listing succeeded.
			ticks++
			if !r.scanned || ticks%rescanEvery == 0 {
				r.want.scan = true
			}
			r.want.all = true
			r.publishState() // the silence flags move with the clock
			r.dispatch(ctx)
		}
	}
}

// live is what one run knows. Only the run's goroutine touches it.
type live struct {
	h         *hub
	gen       uint64
	breakers  map[string]breakerDoc
	lastState []byte
	// scanned: a listing of the breakers and heartbeats succeeded.
	scanned bool
	// want is what to read next; busy, whether the reader is reading.
	want    want
	busy    bool
	results chan readResult
	reading sync.WaitGroup
}

// want is what the run has yet to read.
type want struct {
	scan    bool            // list the breakers and heartbeats
	all     bool            // read every breaker known
	names   map[string]bool // read these breakers (named by events)
	history map[string]bool // read these breakers' logs even if they did not move
}

func (w want) empty() bool { return !w.scan && !w.all && len(w.names) == 0 }

// version is where a breaker's state was when the run last read it.
type version struct {
	inc string
	gen int64
}

// job is one read, with what the run knew when it began.
type job struct {
	scan    bool
	names   map[string]bool
	history map[string]bool
	known   map[string]version
}

// readResult is what the reader read.
type readResult struct {
	err       error // listing the fleet failed; nothing else was read
	scanned   bool  // the listing succeeded (the book has its heartbeats)
	breakers  map[string]breakerDoc
	histories map[string]historyDoc
	failed    error // the breakers or logs that could not be read
}

// dispatch starts the reader on what the run wants, unless it is reading
// already or nothing is wanted.
func (r *live) dispatch(ctx context.Context) {
	if r.busy || r.want.empty() {
		return
	}
	j := job{scan: r.want.scan, names: map[string]bool{}, history: r.want.history, known: make(map[string]version, len(r.breakers))}
	for name, b := range r.breakers {
		j.known[name] = version{b.Incarnation, b.Generation}
		if r.want.all {
			j.names[name] = true
		}
	}
	if r.want.all {
		for _, h := range r.h.c.book.list(r.h.c.clock.Now()) {
			for _, v := range h.p.Breakers {
				j.names[v.Name] = true
			}
		}
	}
	for name := range r.want.names {
		j.names[name] = true
	}
	r.want = want{}
	r.busy = true
	r.reading.Add(1)
	go func() {
		defer r.reading.Done()
		r.results <- r.h.c.read(ctx, j)
	}()
}

// merge takes what the reader read, publishes the histories it read and
// the state.
func (r *live) merge(ctx context.Context, res readResult) {
	r.busy = false
	logger := r.h.c.logger
	if res.err != nil && ctx.Err() == nil {
		logger.Warn("[CONSOLE] cannot read the fleet", "error", res.err)
	}
	if res.failed != nil && ctx.Err() == nil {
		logger.Debug("[CONSOLE] cannot read some breakers", "error", res.failed)
	}
	if res.scanned {
		r.scanned = true
	}
	for name, b := range res.breakers {
		r.breakers[name] = b
	}
	for name, h := range res.histories {
		r.h.publish(r.gen, name, frame("history", h))
	}
	r.publishState()
}

// onEvent asks for the breaker an event names, and for its history if an
// operator acted (an action changing nothing moves no generation).
func (r *live) onEvent(ctx context.Context, payload string) {
	var ev struct {
		Breaker  string `json:"breaker"`
		Override string `json:"override"`
	}
	if json.Unmarshal([]byte(payload), &ev) != nil || dbreaker.ValidateName(ev.Breaker) != nil {
		return
	}
	if r.want.names == nil {
		r.want.names = map[string]bool{}
	}
	r.want.names[ev.Breaker] = true
	if ev.Override != "" {
		if r.want.history == nil {
			r.want.history = map[string]bool{}
		}
		r.want.history[ev.Breaker] = true
	}
	r.dispatch(ctx)
}

func (r *live) onHeartbeat(payload string) {
	p, err := dbreaker.ParsePresence([]byte(payload))
	if err != nil {
		return
	}
	r.h.c.book.hear(p, r.h.c.clock.Now())
	r.publishState()
}

// publishState sends the state document when it changed.
func (r *live) publishState() {
	now := r.h.c.clock.Now()
	f := frame("state", r.h.c.assemble(r.breakers, r.h.c.book.list(now), now))
	if bytes.Equal(f, r.lastState) {
		return
	}
	r.lastState = f
	r.h.publish(r.gen, stateKind, f)
}
