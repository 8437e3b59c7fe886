package fakeupstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// maxRequestBytes caps a request body (the size of Anthropic's limit for
// a Messages request); larger ones get the upstream's 413.
const maxRequestBytes = 32 << 20

// Config configures a Server. The zero value works: no API keys are
// checked, nothing fails, the seed is 0 and the embedded SR24 data is
// loaded.
type Config struct {
	// OpenAIKey, when set, is the only key OpenAI requests may carry
	// (Authorization: Bearer <key>); others get OpenAI's 401. Empty
	// accepts any key, or none.
	OpenAIKey string
	// AnthropicKey, when set, is the only x-api-key Anthropic requests may
	// carry; others get Anthropic's 401. Empty accepts any key, or none.
	AnthropicKey string
	// USDAKey, when set, is the only api_key (query parameter or X-Api-Key
	// header) FoodData Central requests may carry; others get its 403.
	// Empty accepts any key, or none.
	USDAKey string

	// Seed seeds the fault decisions (see Server.SetSeed).
	Seed uint64
	// Faults are the faults in effect from the start, by upstream.
	Faults map[Upstream]Fault

	// Data is the food data behind every answer; nil means sr24.Load().
	Data *sr24.Dataset
}

// Option gives a Server a collaborator.
type Option func(*options) error

type options struct {
	clock clock.Clock

	given []string // the names of the options given, in order
}

// WithClock sets the clock that times the added latency and stamps
// answers (default clock.Real()).
func WithClock(c clock.Clock) Option {
	return func(o *options) error { return config.Set("fakeupstream", &o.given, "WithClock", &o.clock, c) }
}

// Server is the fake upstream: an http.Handler serving the four wire
// formats, the admin API and /healthz. It is safe for concurrent use;
// request handling takes no lock.
type Server struct {
	keys     Config // only the API keys are read
	data     *sr24.Dataset
	clock    clock.Clock
	mux      *http.ServeMux
	meals    *mealWriter
	searches *searchCache

	// adminMu serialises changes of faults and seed; requests read the
	// sequences without it.
	adminMu  sync.Mutex
	seed     atomic.Uint64
	seqs     [upstreamCount]atomic.Pointer[sequence]
	counters [upstreamCount]counters
}

// New returns a server configured by cfg, or an error naming the setting
// at fault. It takes WithClock.
func New(cfg Config, opts ...Option) (*Server, error) {
	o := options{clock: clock.Real()}
	if err := config.ApplyOptions("fakeupstream", "New", &o, &o.given, opts, "WithClock"); err != nil {
		return nil, err
	}
	for u, f := range cfg.Faults {
		if err := f.Validate(u); err != nil {
			return nil, err
		}
	}
	data := cfg.Data
	if data == nil {
		var err error
		if data, err = sr24.Load(); err != nil {
			return nil, fmt.Errorf("fakeupstream: loading food data: %w", err)
		}
	}
	meals, err := newMealWriter(data)
	if err != nil {
		return nil, err
	}
	s := &Server{
		keys:     Config{OpenAIKey: cfg.OpenAIKey, AnthropicKey: cfg.AnthropicKey, USDAKey: cfg.USDAKey},
		data:     data,
		clock:    o.clock,
		meals:    meals,
		searches: newSearchCache(data),
	}
	s.seed.Store(cfg.Seed)
	for _, u := range Upstreams() {
		s.storeSequence(u, cfg.Faults[u])
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.upstream(OpenAI, s.chatCompletion))
	mux.HandleFunc("POST /v1/messages", s.upstream(Anthropic, s.message))
	mux.HandleFunc("GET /fdc/v1/foods/search", s.upstream(USDA, s.foodsSearch))
	mux.HandleFunc("GET /fdc/v1/food/{fdcId}", s.upstream(USDA, s.food))
	mux.HandleFunc("GET /web/nutrition", s.upstream(Web, s.webSearch))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeReply(w, reply{status: http.StatusOK, body: []byte(`{"status":"ok"}`)})
	})
	mux.HandleFunc("GET /admin/faults", s.getFaults)
	mux.HandleFunc("POST /admin/faults", s.postFaults)
	mux.HandleFunc("DELETE /admin/faults", s.deleteFaults)
	mux.HandleFunc("GET /admin/stats", s.getStats)
	mux.HandleFunc("DELETE /admin/stats", s.deleteStats)
	s.mux = mux
}

// ServeHTTP serves the upstreams' endpoints, the admin API and /healthz.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Serve serves on ln until ctx ends, then shuts down: hanging and delayed
// requests end at once with their connections closed, other requests in
// flight get a few seconds to finish. It returns nil after a shutdown
// caused by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// Requests' contexts end with ctx, which ends hangs and latency.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if srv.Shutdown(shutdownCtx) != nil {
			_ = srv.Close()
		}
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped
		return nil
	}
	return fmt.Errorf("fakeupstream: %w", err)
}

// ListenAndServe listens on the TCP address addr (":8089") and serves
// until ctx ends, like Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("fakeupstream: %w", err)
	}
	return s.Serve(ctx, ln)
}

// SetFault replaces the fault of upstream u and restarts its sequence of
// decisions: with the same seed, the requests that follow meet the same
// fates in every run.
func (s *Server) SetFault(u Upstream, f Fault) error {
	if err := f.Validate(u); err != nil {
		return err
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	s.storeSequence(u, f)
	return nil
}

// Fault returns the fault in effect for upstream u (the zero Fault for an
// unknown upstream).
func (s *Server) Fault(u Upstream) Fault {
	i, ok := u.index()
	if !ok {
		return Fault{}
	}
	return s.seqs[i].Load().fault
}

// Faults returns the faults in effect, by upstream.
func (s *Server) Faults() map[Upstream]Fault {
	out := make(map[Upstream]Fault, upstreamCount)
	for _, u := range Upstreams() {
		out[u] = s.Fault(u)
	}
	return out
}

// ResetFaults makes every upstream healthy again and restarts the
// sequences; the seed is kept.
func (s *Server) ResetFaults() {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	for _, u := range Upstreams() {
		s.storeSequence(u, Fault{})
	}
}

// SetSeed changes the seed and restarts every upstream's sequence, keeping
// the faults. The fate of a request depends only on the seed, its
// upstream and how many requests that upstream received since its fault
// or the seed was last set.
func (s *Server) SetSeed(seed uint64) {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	s.seed.Store(seed)
	for _, u := range Upstreams() {
		s.storeSequence(u, s.Fault(u))
	}
}

// Seed returns the seed of the fault decisions.
func (s *Server) Seed() uint64 { return s.seed.Load() }

// Stats returns the counters of every upstream. Each counter is read
// atomically, the set of them is not: take Stats when no request is in
// flight for exact sums.
func (s *Server) Stats() Stats {
	out := make(Stats, upstreamCount)
	for _, u := range Upstreams() {
		i, _ := u.index()
		out[u] = s.counters[i].snapshot()
	}
	return out
}

// ResetStats zeroes the counters (except in_flight).
func (s *Server) ResetStats() {
	for i := range s.counters {
		s.counters[i].reset()
	}
}

// storeSequence starts a new sequence for u with fault f; callers hold
// adminMu or are New.
func (s *Server) storeSequence(u Upstream, f Fault) {
	i, _ := u.index()
	s.seqs[i].Store(&sequence{fault: f, seed: s.seed.Load(), salt: uint64(i) + 1})
}

// call is what an answering function knows about its request.
type call struct {
	// body is the request body, read in full.
	body []byte
	// id is a request id, unique within a sequence ("req_" + 16 hex
	// digits): the upstreams' ids ("chatcmpl-…", "msg_…") derive from it.
	id string
	// now is the time of the answer.
	now time.Time
}

// reply is an answer, written by writeReply.
type reply struct {
	status int
	body   []byte
	header http.Header // extra headers; may be nil
}

// answerFunc answers one request of an upstream, without faults.
type answerFunc func(r *http.Request, c *call) reply

// upstream wraps an upstream's answering function with counting, fault
// injection and latency.
func (s *Server) upstream(u Upstream, answer answerFunc) http.HandlerFunc {
	i, _ := u.index()
	cnt := &s.counters[i]
	return func(w http.ResponseWriter, r *http.Request) {
		seq := s.seqs[i].Load()
		n := seq.take()
		cnt.requests.Add(1)
		cnt.inFlight.Add(1)
		defer cnt.inFlight.Add(-1)

		// Reading the body first lets net/http notice a client that goes
		// away, which ends the context that latency and hangs wait on.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
		c := &call{body: body, id: fmt.Sprintf("req_%016x", seq.bits(n, streamID))}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if !errors.As(err, &tooLarge) {
				cnt.canceled.Add(1) // the client went away mid-body
				return
			}
			cnt.rejected.Add(1)
			c.now = s.clock.Now()
			writeReply(w, s.errorReply(u, http.StatusRequestEntityTooLarge, "", r, c))
			return
		}

		f := &seq.fault
		kind := f.decide(seq.draw(n, streamFate))
		if d := f.delay(seq.draw(n, streamJitter)); d > 0 {
			cnt.delayed.Add(1)
			if !s.wait(r.Context(), d) {
				cnt.canceled.Add(1)
				resetConnection(w) // never a bodiless 200, should the client still listen
				return
			}
		}
		c.now = s.clock.Now()
		switch kind {
		case kindHang:
			cnt.faults[kindHang].Add(1)
			<-r.Context().Done()
			resetConnection(w) // never a bodiless 200, should the client still listen
			return
		case kindReset:
			cnt.faults[kindReset].Add(1)
			resetConnection(w)
			return
		case kindError:
			cnt.faults[kindError].Add(1)
			rep := s.errorReply(u, f.errorStatus(u), f.ErrorCode, r, c)
			setRetryAfter(&rep, u, f.RetryAfter)
			writeReply(w, rep)
			return
		}

		rep := answer(r, c)
		if rep.status != http.StatusOK {
			cnt.rejected.Add(1)
			writeReply(w, rep)
			return
		}
		switch kind {
		case kindMalformed:
			cnt.faults[kindMalformed].Add(1)
			rep.body = garble(rep.body)
			writeReply(w, rep)
		case kindTruncated:
			cnt.faults[kindTruncated].Add(1)
			writeTruncated(w, rep)
		default:
			cnt.ok.Add(1)
			writeReply(w, rep)
		}
	}
}

// errorReply is upstream u's error answer with the given status.
func (s *Server) errorReply(u Upstream, status int, code string, r *http.Request, c *call) reply {
	switch u {
	case OpenAI:
		return openAIError(status, code, c)
	case Anthropic:
		return anthropicError(status, "", c)
	case USDA:
		return usdaError(status, "", r, c)
	default:
		return webError(status, "")
	}
}

// wait waits for d on the server's clock and reports whether it passed
// before ctx ended.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := s.clock.NewTimer(d)
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// setRetryAfter adds the retry-after headers of an injected error.
func setRetryAfter(rep *reply, u Upstream, after time.Duration) {
	if after <= 0 {
		return
	}
	if rep.header == nil {
		rep.header = http.Header{}
	}
	seconds := (after + time.Second - 1) / time.Second
	rep.header.Set("Retry-After", strconv.FormatInt(int64(seconds), 10))
	if u == OpenAI {
		ms := (after + time.Millisecond - 1) / time.Millisecond
		rep.header.Set("Retry-After-Ms", strconv.FormatInt(int64(ms), 10))
	}
}

// writeReply writes rep as JSON.
func writeReply(w http.ResponseWriter, rep reply) {
	writeHead(w, rep)
	_, _ = w.Write(rep.body)
}

// writeTruncated announces rep's full length but writes only its first
// half; net/http then closes the connection, and the client reads an
// unexpected end of the body.
func writeTruncated(w http.ResponseWriter, rep reply) {
	writeHead(w, rep)
	_, _ = w.Write(rep.body[:len(rep.body)/2])
}

// writeHead writes rep's headers, announcing its whole body, and status.
func writeHead(w http.ResponseWriter, rep reply) {
	h := w.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
}

// garble returns a body that starts like body and is never valid JSON: a
// gateway's HTML page follows its first half (a raw newline is invalid
// inside a JSON string, and "<" outside one).
func garble(body []byte) []byte {
	out := append([]byte(nil), body[:len(body)/2]...)
	return append(out, "\n<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>\n"...)
}

// resetConnection closes the request's connection at once, with a TCP
// reset where it can. On a connection that cannot be taken over (HTTP/2)
// it aborts the handler with http.ErrAbortHandler, which net/http turns
// into a reset stream without logging.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
