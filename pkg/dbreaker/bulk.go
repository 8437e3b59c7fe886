package dbreaker

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Reads of many breakers at once, for consoles and tools: one pipeline
// (on a Cluster, one per node) bounded by the caller's context as a whole,
// so a Redis that stops answering costs one deadline, not one per breaker.

// Snapshots reads the shared state of several breakers, as Snapshot does
// for one, in one pipeline. It returns the snapshots it read, in the order
// of names, and an error joining one per breaker it could not read (an
// invalid name, a failed command, an unreadable reply), each naming its
// breaker. Like Snapshot, each read counts toward the store's health, and
// while the store is degraded nothing is sent.
func (s *RedisStore) Snapshots(ctx context.Context, names []string, p Policy) ([]Snapshot, error) {
	if len(names) == 0 {
		return nil, nil
	}
	if s.Degraded() {
		return nil, fmt.Errorf("dbreaker: snapshots: %w", errDegraded)
	}
	windowMs := int64(0)
	if p.usesWindow() {
		windowMs = ms(p.Window)
	}
	buckets := max(p.WindowBuckets, 1)
	type read struct {
		name string
		keys []string
		cmd  *redis.Cmd
	}
	var errs []error
	reads := make([]read, 0, len(names))
	for _, name := range names {
		if err := ValidateName(name); err != nil {
			errs = append(errs, err)
			continue
		}
		state, window, probes := s.Keys(name)
		reads = append(reads, read{name: name, keys: []string{state, window, probes}})
	}
	send := func(reads []read, cmd func(pipe redis.Pipeliner, keys []string) *redis.Cmd) {
		pipe := s.client.Pipeline()
		for i := range reads {
			reads[i].cmd = cmd(pipe, reads[i].keys)
		}
		_, _ = pipe.Exec(ctx) // errors are read per command
	}
	send(reads, func(pipe redis.Pipeliner, keys []string) *redis.Cmd {
		return s.scripts.snapshot.EvalSha(ctx, pipe, keys, windowMs, buckets)
	})
	// A script cache emptied since (SCRIPT FLUSH, a restart): load the
	// script once and send those reads again.
	var again []int
	for i, r := range reads {
		if redis.HasErrorPrefix(r.cmd.Err(), "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		retry := make([]read, len(again))
		for j, i := range again {
			retry[j] = reads[i]
		}
		if err := s.scripts.snapshot.Load(ctx, s.client).Err(); err == nil {
			send(retry, func(pipe redis.Pipeliner, keys []string) *redis.Cmd {
				return s.scripts.snapshot.EvalSha(ctx, pipe, keys, windowMs, buckets)
			})
			for j, i := range again {
				reads[i] = retry[j]
			}
		}
	}
	out := make([]Snapshot, 0, len(reads))
	for _, r := range reads {
		reply, err := r.cmd.Result()
		if err != nil {
			s.noteCall(ctx, err)
			errs = append(errs, fmt.Errorf("dbreaker: %s script of %s: %w", s.scripts.snapshot.name, r.name, err))
			continue
		}
		snap, err := decodeSnapshot(r.name, reply)
		if s.decoded(ctx, err) != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, snap)
	}
	return out, errors.Join(errs...)
}

// Histories returns the last n entries (1 to MaxHistory) of several
// breakers' logs, newest first, as History does for one, in one pipeline:
// per breaker read, its entries (none for a breaker without a log), and an
// error joining one per breaker it could not read, each naming it.
func (s *RedisStore) Histories(ctx context.Context, names []string, n int) (map[string][]LogEntry, error) {
	if n < 1 || n > MaxHistory {
		return nil, fmt.Errorf("dbreaker: Histories(%d breakers, %d): want 1 to %d entries", len(names), n, MaxHistory)
	}
	var errs []error
	cmds := make(map[string]*redis.XMessageSliceCmd, len(names))
	pipe := s.client.Pipeline()
	for _, name := range names {
		if err := ValidateName(name); err != nil {
			errs = append(errs, err)
			continue
		}
		cmds[name] = pipe.XRevRangeN(ctx, s.LogKey(name), "+", "-", int64(n))
	}
	if len(cmds) > 0 {
		_, _ = pipe.Exec(ctx) // errors are read per command
	}
	out := make(map[string][]LogEntry, len(cmds))
	for name, cmd := range cmds {
		msgs, err := cmd.Result()
		if err != nil {
			errs = append(errs, fmt.Errorf("dbreaker: history of %s: %w", name, err))
			continue
		}
		entries := make([]LogEntry, 0, len(msgs))
		for _, m := range msgs {
			if e, ok := parseLogEntry(m); ok {
				entries = append(entries, e)
			}
		}
		out[name] = entries
	}
	return out, errors.Join(errs...)
}

// BreakerExists reports whether a breaker has a state hash or a log under
// the store's key prefix: one EXISTS of its own keys, no SCAN.
func (s *RedisStore) BreakerExists(ctx context.Context, name string) (bool, error) {
	if err := ValidateName(name); err != nil {
		return false, err
	}
	k := s.keysOf(name)
	n, err := s.client.Exists(ctx, k.state, k.log).Result()
	if err != nil {
		return false, fmt.Errorf("dbreaker: looking for %s: %w", name, err)
	}
	return n > 0, nil
}
