package dbreaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultKeyPrefix starts every key and the events channel of a RedisStore.
const DefaultKeyPrefix = "dbreaker"

// maxErrorText bounds the last_error field.
const maxErrorText = 256

// RedisStore keeps breaker state in Redis and changes it only inside Lua
// scripts. It works on any redis.UniversalClient: a standalone client,
// Sentinel (redis.NewFailoverClient) or Cluster (every key of one breaker
// shares the hash tag {name}). Safe for concurrent use.
//
// Background work starts with the first Breaker made on the store: one
// Pub/Sub subscription to the events channel for the whole process (it
// reconnects by itself), a flusher for Fast-mode reports, the heartbeat
// (WithPresence), and, while Redis is unreachable, a health check. Close
// stops it.
type RedisStore struct {
	client  redis.UniversalClient
	prefix  string
	channel string
	scripts *scriptSet
	logger  *slog.Logger
	incs    *incarnations

	flushInterval  time.Duration
	flushBatch     int
	maxQueue       int
	healthInterval time.Duration
	replica        string // WithPresence: this replica's name; "" for no heartbeat

	lifeMu  sync.Mutex // guards started, closed and wg.Add
	started bool
	closed  bool
	stop    chan struct{} // closed by Close
	wg      sync.WaitGroup

	health   healthGuard
	sub      subscription
	flusher  flusher
	policies sync.Map // Policy → *scriptPolicy
	keys     sync.Map // breaker name → *breakerKeys
}

// NewRedisStore returns a store on client. It sends nothing to Redis. The
// client stays the caller's to close, after the store's Close. It takes
// WithLogger, WithKeyPrefix, WithFlushInterval, WithFlushBatch,
// WithMaxQueue, WithHealthCheckInterval and WithPresence.
//
// The client must let a context's deadline bound each command
// (ContextTimeoutEnabled in go-redis' options): that is how StoreTimeout
// bounds every store call. Without it go-redis waits its own ReadTimeout
// (3 s by default) on a Redis that stopped answering, so NewRedisStore
// refuses a *redis.Client, *redis.ClusterClient or *redis.Ring built
// without it. A client of another type is taken as it is.
func NewRedisStore(client redis.UniversalClient, opts ...Option) (*RedisStore, error) {
	if client == nil {
		return nil, invalid("client", nil, "NewRedisStore needs a Redis client")
	}
	o, err := resolve("NewRedisStore", opts, "WithLogger", "WithKeyPrefix", "WithFlushInterval", "WithFlushBatch", "WithMaxQueue",
		"WithHealthCheckInterval", "WithPresence")
	if err != nil {
		return nil, err
	}
	if err := checkClientTimeouts(client); err != nil {
		return nil, err
	}
	scripts, err := newScriptSet()
	if err != nil {
		return nil, err
	}
	incs, err := newIncarnations()
	if err != nil {
		return nil, err
	}
	s := &RedisStore{
		client: client, prefix: o.prefix, scripts: scripts, logger: o.logger, incs: incs,
		flushInterval: o.flushInterval, flushBatch: o.flushBatch, maxQueue: o.maxQueue, healthInterval: o.healthInterval,
		replica: o.replica, stop: make(chan struct{}),
	}
	s.channel = s.prefix + ":events"
	s.sub.watchers = make(map[string][]*Breaker)
	s.flusher.queues = make(map[*reportQueue]struct{})
	s.flusher.signal = make(chan struct{}, 1)
	return s, nil
}

// checkClientTimeouts refuses a client that would not let StoreTimeout
// bound its commands.
func checkClientTimeouts(client redis.UniversalClient) error {
	var enabled bool
	switch c := client.(type) {
	case *redis.Client:
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		enabled = c.Options().ContextTimeoutEnabled
	default:
		return nil
	}
	if !enabled {
		return errors.New("dbreaker: NewRedisStore: the client's ContextTimeoutEnabled option is false, so a Redis " +
			"that stops answering would hold every call for the client's ReadTimeout instead of StoreTimeout; " +
			"set ContextTimeoutEnabled: true in its options (after redis.ParseURL too)")
	}
	return nil
}

// start launches the subscription and the flusher, once.
func (s *RedisStore) start() {
	s.lifeMu.Lock()
	first := !s.started
	s.started = true
	s.lifeMu.Unlock()
	if first {
		_ = s.background(s.subscribeLoop)
		_ = s.background(s.flushLoop)
		if s.replica != "" {
			_ = s.background(s.presenceLoop)
		}
	}
}

// background runs fn in a goroutine that Close waits for, and reports
// whether it did: after Close it does nothing.
func (s *RedisStore) background(fn func()) bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

// Close stops the subscription, the flusher and the health check, then
// flushes the queued reports within ctx. Breakers made on the store keep
// working, asking Redis on every call as if events were down.
func (s *RedisStore) Close(ctx context.Context) error {
	s.lifeMu.Lock()
	if s.closed {
		s.lifeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	s.lifeMu.Unlock()
	s.wg.Wait()
	return s.flushAll(ctx, true)
}

// sleep waits d, or until Close; it reports whether the store is still open.
func (s *RedisStore) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.stop:
		return false
	case <-t.C:
		return true
	}
}

// Channel is the Pub/Sub channel on which every transition is published.
func (s *RedisStore) Channel() string { return s.channel }

// Keys returns the state hash, window hash and probes ZSET keys of a breaker.
func (s *RedisStore) Keys(name string) (state, window, probes string) {
	k := s.keysOf(name)
	return k.state, k.window, k.probes
}

// breakerKeys are a breaker's keys and the script arguments that depend
// on its name alone, made once per name.
type breakerKeys struct {
	state, window, probes, log string
	all                        []string // KEYS of report and override
	acquire                    []string // KEYS of acquire
	head                       []any    // ARGV[1..2] of acquire, report and override: channel, name
}

func (s *RedisStore) keysOf(name string) *breakerKeys {
	if v, ok := s.keys.Load(name); ok {
		return v.(*breakerKeys)
	}
	state := s.prefix + ":{" + name + "}"
	k := &breakerKeys{state: state, window: state + ":window", probes: state + ":probes", log: state + ":log", head: []any{s.channel, name}}
	k.all, k.acquire = []string{k.state, k.window, k.probes, k.log}, []string{k.state, k.probes, k.log}
	v, _ := s.keys.LoadOrStore(name, k)
	return v.(*breakerKeys)
}

// LogKey returns the key of a breaker's log stream (see History).
func (s *RedisStore) LogKey(name string) string { return s.keysOf(name).log }

// LoadScripts loads every script into the server's script cache (SCRIPT
// LOAD). Optional: scripts are loaded on first use anyway.
func (s *RedisStore) LoadScripts(ctx context.Context) error {
	for _, sc := range s.scripts.all() {
		if err := sc.Load(ctx, s.client).Err(); err != nil {
			return fmt.Errorf("dbreaker: load %s script: %w", sc.name, err)
		}
	}
	return nil
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// Acquire implements Store.
func (s *RedisStore) Acquire(ctx context.Context, name string, p Policy, token string) (Decision, error) {
	ds, err := s.acquireBatch(ctx, name, p, []string{token})
	if err != nil {
		return Decision{}, err
	}
	return ds[0], nil
}

// acquireBatch asks to admit one call per token, in order, in one script
// run: the group commit of calls that arrived together. The transitions
// the run committed come with the first decision.
func (s *RedisStore) acquireBatch(ctx context.Context, name string, p Policy, tokens []string) ([]Decision, error) {
	k := s.keysOf(name)
	args := make([]any, 0, 5+len(tokens))
	args = append(args, k.head...)
	args = append(args, s.policyArgs(p).acquire...)
	args = append(args, s.incs.next())
	for _, t := range tokens {
		args = append(args, t)
	}
	reply, err := s.call(ctx, s.scripts.acquire, k.acquire, args...)
	if err != nil {
		return nil, err
	}
	ds, err := decodeDecisions(name, reply, len(tokens))
	return ds, s.decoded(ctx, err)
}

// decodeDecisions reads acquire.lua's reply for k calls.
func decodeDecisions(name string, reply any, k int) ([]Decision, error) {
	r, err := parseReply(name, reply, 3*k, false)
	if err != nil {
		return nil, err
	}
	ds := make([]Decision, k)
	for i := range ds {
		own := r.own[3*i : 3*i+3]
		d := Decision{Allowed: own[0] == "1", Probe: own[1] == "1", Snapshot: r.snap}
		if i == 0 {
			d.Transitions = r.transitions
		}
		if !d.Allowed {
			switch reason := own[2]; reason {
			case "open":
				d.Reason = ErrOpen
			case "forced_open":
				d.Reason = ErrForcedOpen
			case "probes":
				d.Reason = ErrTooManyProbes
			default:
				return nil, replyErr("rejection reason %q", reason)
			}
		}
		ds[i] = d
	}
	return ds, nil
}

var outcomeCodes = [...]string{Success: "s", Failure: "f", Ignored: "i"}

// Report implements Store.
func (s *RedisStore) Report(ctx context.Context, name string, p Policy, reports []Report) (ReportResult, error) {
	args, err := s.reportArgs(name, p, reports)
	if err != nil {
		return ReportResult{}, err
	}
	reply, err := s.call(ctx, s.scripts.report, s.keysOf(name).all, args...)
	if err != nil {
		return ReportResult{}, err
	}
	res, err := parseReportReply(name, reply)
	return res, s.decoded(ctx, err)
}

// scriptPolicy is a policy's arguments to the scripts, formatted once per
// policy (a breaker keeps one for its life).
type scriptPolicy struct {
	report  []any // ARGV[3..4] of report.lua
	acquire []any // ARGV[3..4] of acquire.lua
}

func (s *RedisStore) policyArgs(p Policy) *scriptPolicy {
	if v, ok := s.policies.Load(p); ok {
		return v.(*scriptPolicy)
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	fields := []string{strconv.Itoa(p.FailureThreshold), f(p.FailureRate), f(p.SlowCallRate),
		strconv.Itoa(p.MinimumCalls), strconv.FormatInt(ms(p.Window), 10), strconv.Itoa(p.WindowBuckets),
		strconv.FormatInt(ms(p.OpenTimeout), 10), f(p.OpenTimeoutGrowth), strconv.FormatInt(ms(p.MaxOpenTimeout), 10),
		strconv.Itoa(p.SuccessThreshold)}
	window := 0
	if p.usesWindow() {
		window = 1
	}
	sp := &scriptPolicy{
		report:  []any{strings.Join(fields, "|"), window},
		acquire: []any{p.HalfOpenMaxProbes, ms(p.ProbeLease)},
	}
	v, _ := s.policies.LoadOrStore(p, sp)
	return v.(*scriptPolicy)
}

// reportArgs builds report.lua's ARGV.
func (s *RedisStore) reportArgs(name string, p Policy, reports []Report) ([]any, error) {
	policy := s.policyArgs(p).report
	args := make([]any, 0, 5+len(policy)+6*len(reports))
	lastError := ""
	for _, r := range reports {
		if r.Outcome == Failure && r.Error != "" {
			lastError = r.Error
		}
	}
	args = append(args, s.keysOf(name).head...)
	args = append(args, policy...)
	args = append(args, truncateText(lastError, maxErrorText), s.incs.next(), len(reports))
	for _, r := range reports {
		if int(r.Outcome) >= len(outcomeCodes) {
			return nil, fmt.Errorf("dbreaker: report: invalid outcome %d", r.Outcome)
		}
		slow := 0
		if r.Slow {
			slow = 1
		}
		args = append(args, r.Incarnation, r.Generation, r.Token, outcomeCodes[r.Outcome], slow, max(r.Count, 1))
	}
	return args, nil
}

func parseReportReply(name string, reply any) (ReportResult, error) {
	r, err := parseReply(name, reply, 2, false)
	if err != nil {
		return ReportResult{}, err
	}
	applied, err1 := strconv.Atoi(r.own[0])
	stale, err2 := strconv.Atoi(r.own[1])
	if err := errors.Join(err1, err2); err != nil {
		return ReportResult{}, replyErr("applied/stale: %v", err)
	}
	return ReportResult{Applied: applied, Stale: stale, Snapshot: r.snap, Transitions: r.transitions}, nil
}

// Snapshot implements Store.
func (s *RedisStore) Snapshot(ctx context.Context, name string, p Policy) (Snapshot, error) {
	state, window, probes := s.Keys(name)
	windowMs := int64(0)
	if p.usesWindow() {
		windowMs = ms(p.Window)
	}
	reply, err := s.call(ctx, s.scripts.snapshot, []string{state, window, probes}, windowMs, max(p.WindowBuckets, 1))
	if err != nil {
		return Snapshot{}, err
	}
	snap, err := decodeSnapshot(name, reply)
	return snap, s.decoded(ctx, err)
}

// decodeSnapshot reads snapshot.lua's reply.
func decodeSnapshot(name string, reply any) (Snapshot, error) {
	r, err := parseReply(name, reply, 4, true)
	if err != nil {
		return Snapshot{}, err
	}
	var counts [4]int64
	for i, v := range r.own {
		if counts[i], err = strconv.ParseInt(v, 10, 64); err != nil {
			return Snapshot{}, replyErr("snapshot counts: %v", err)
		}
	}
	r.snap.Window = WindowCounts{Calls: counts[0], Failures: counts[1], Slow: counts[2]}
	r.snap.Probes = counts[3]
	return r.snap, nil
}

// Override implements Store. The action is appended to the breaker's log
// with the operator named in ctx (see ContextWithOperator).
func (s *RedisStore) Override(ctx context.Context, name string, action Action) (Snapshot, []Transition, error) {
	if int(action) >= len(actionNames) {
		return Snapshot{}, nil, fmt.Errorf("dbreaker: override: invalid action %d", action)
	}
	reply, err := s.call(ctx, s.scripts.override, s.keysOf(name).all, s.channel, name, action.String(), s.incs.next(), OperatorFrom(ctx))
	if err != nil {
		return Snapshot{}, nil, err
	}
	r, err := parseReply(name, reply, 0, true)
	return r.snap, r.transitions, s.decoded(ctx, err)
}

// truncateText cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
