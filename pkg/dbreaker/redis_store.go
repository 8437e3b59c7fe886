package dbreaker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
type RedisStore struct {
	client  redis.UniversalClient
	prefix  string
	channel string
	scripts *scriptSet
}

// RedisOption configures a RedisStore.
type RedisOption func(*RedisStore) error

// WithKeyPrefix sets the prefix of every key and of the events channel
// (default "dbreaker": keys "dbreaker:{name}", channel "dbreaker:events").
// The same rules as for breaker names apply.
func WithKeyPrefix(prefix string) RedisOption {
	return func(s *RedisStore) error {
		if err := validateIdent("key prefix", prefix); err != nil {
			return err
		}
		s.prefix = prefix
		return nil
	}
}

// NewRedisStore returns a store on client. It sends nothing to Redis.
func NewRedisStore(client redis.UniversalClient, opts ...RedisOption) (*RedisStore, error) {
	if client == nil {
		return nil, fmt.Errorf("dbreaker: NewRedisStore: nil client")
	}
	scripts, err := newScriptSet()
	if err != nil {
		return nil, err
	}
	s := &RedisStore{client: client, prefix: DefaultKeyPrefix, scripts: scripts}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	s.channel = s.prefix + ":events"
	return s, nil
}

// Channel is the Pub/Sub channel on which every transition is published.
func (s *RedisStore) Channel() string { return s.channel }

// Keys returns the state hash, window hash and probes ZSET keys of a breaker.
func (s *RedisStore) Keys(name string) (state, window, probes string) {
	state = s.prefix + ":{" + name + "}"
	return state, state + ":window", state + ":probes"
}

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
	state, _, probes := s.Keys(name)
	reply, err := s.scripts.acquire.run(ctx, s.client, []string{state, probes},
		s.channel, name, token, p.HalfOpenMaxProbes, ms(p.ProbeLease))
	if err != nil {
		return Decision{}, err
	}
	r, err := parseReply(name, reply, 3, false)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Allowed: r.own[0] == "1", Probe: r.own[1] == "1", Snapshot: r.snap, Transitions: r.transitions}
	if !d.Allowed {
		switch reason := r.own[2]; reason {
		case "open":
			d.Reason = ErrOpen
		case "forced_open":
			d.Reason = ErrForcedOpen
		case "probes":
			d.Reason = ErrTooManyProbes
		default:
			return Decision{}, replyErr("rejection reason %q", reason)
		}
	}
	return d, nil
}

var outcomeCodes = [...]string{Success: "s", Failure: "f", Ignored: "i"}

// Report implements Store.
func (s *RedisStore) Report(ctx context.Context, name string, p Policy, reports []Report) (ReportResult, error) {
	state, window, probes := s.Keys(name)
	args := make([]any, 0, 14+5*len(reports))
	lastError := ""
	for _, r := range reports {
		if r.Outcome == Failure && r.Error != "" {
			lastError = r.Error
		}
	}
	args = append(args, s.channel, name, p.FailureThreshold,
		strconv.FormatFloat(p.FailureRate, 'g', -1, 64), strconv.FormatFloat(p.SlowCallRate, 'g', -1, 64),
		p.MinimumCalls, ms(p.Window), p.WindowBuckets, ms(p.OpenTimeout),
		strconv.FormatFloat(p.OpenTimeoutGrowth, 'g', -1, 64), ms(p.MaxOpenTimeout),
		p.SuccessThreshold, truncateText(lastError, maxErrorText), len(reports))
	for _, r := range reports {
		if int(r.Outcome) >= len(outcomeCodes) {
			return ReportResult{}, fmt.Errorf("dbreaker: report: invalid outcome %d", r.Outcome)
		}
		slow := 0
		if r.Slow {
			slow = 1
		}
		args = append(args, r.Generation, r.Token, outcomeCodes[r.Outcome], slow, max(r.Count, 1))
	}
	reply, err := s.scripts.report.run(ctx, s.client, []string{state, window, probes}, args...)
	if err != nil {
		return ReportResult{}, err
	}
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
	reply, err := s.scripts.snapshot.run(ctx, s.client, []string{state, window, probes}, windowMs, max(p.WindowBuckets, 1))
	if err != nil {
		return Snapshot{}, err
	}
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

// Override implements Store.
func (s *RedisStore) Override(ctx context.Context, name string, action Action) (Snapshot, []Transition, error) {
	if int(action) >= len(actionNames) {
		return Snapshot{}, nil, fmt.Errorf("dbreaker: override: invalid action %d", action)
	}
	state, window, probes := s.Keys(name)
	reply, err := s.scripts.override.run(ctx, s.client, []string{state, window, probes}, s.channel, name, action.String())
	if err != nil {
		return Snapshot{}, nil, err
	}
	r, err := parseReply(name, reply, 0, true)
	return r.snap, r.transitions, err
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
