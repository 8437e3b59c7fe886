package console

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/healthagent/resilience/pkg/dbreaker"
)

// stateDoc is the JSON document of GET api/state and of the live stream's
// "state" event: every breaker as Redis has it, every replica as its
// heartbeat says.
type stateDoc struct {
	Prefix  string `json:"prefix"`
	Actions bool   `json:"actions"` // a token is configured
	// KeepSilentMs is how long a silent replica stays listed (KeepSilent).
	KeepSilentMs int64        `json:"keep_silent_ms"`
	Breakers     []breakerDoc `json:"breakers"`
	Replicas     []replicaDoc `json:"replicas"`
}

// breakerDoc is one breaker's shared state. Times are Redis' clock, in
// milliseconds; open_for_ms is how long it stays open, as of store_time_ms.
type breakerDoc struct {
	Name        string `json:"name"`
	State       string `json:"state"`
	Underlying  string `json:"underlying"`
	Incarnation string `json:"inc"`
	Generation  int64  `json:"gen"`
	Failures    int64  `json:"failures"`
	Successes   int64  `json:"successes"`
	Trips       int64  `json:"trips"`
	Probes      int64  `json:"probes"`
	OpenedAtMs  int64  `json:"opened_at_ms"`
	OpenUntilMs int64  `json:"open_until_ms"`
	OpenForMs   int64  `json:"open_for_ms"`
	UpdatedAtMs int64  `json:"updated_at_ms"`
	StoreTimeMs int64  `json:"store_time_ms"`
	LastError   string `json:"last_error"`
	Corrupt     bool   `json:"corrupt"`
}

// replicaDoc is one replica's heartbeat, judged against Redis.
type replicaDoc struct {
	Replica  string `json:"replica"`
	Degraded bool   `json:"degraded"`
	// Silent: no heartbeat heard within its TTL (SilentForMs ago): the
	// replica is down, or cut off from Redis and deciding locally by its
	// StoreFailure policy; the views are the last ones heard. It stays
	// listed for KeepSilent.
	Silent      bool  `json:"silent"`
	SilentForMs int64 `json:"silent_for_ms,omitempty"`
	// Flags: decides_locally (degraded, or a breaker's local breaker
	// decides), disagrees (a view that Redis contradicts), behind (a view
	// an older generation than Redis'), silent.
	Flags    []string  `json:"flags"`
	Breakers []viewDoc `json:"breakers"`
}

// Verdicts of a replica's view against Redis.
const (
	verdictAgrees    = "agrees"    // same incarnation, generation and state
	verdictBehind    = "behind"    // same incarnation, older generation: catching up
	verdictDisagrees = "disagrees" // anything else
	verdictLocal     = "local"     // the replica's local breaker decides
	verdictUnknown   = "unknown"   // the replica has not learned the state yet
)

type viewDoc struct {
	Name        string `json:"name"`
	State       string `json:"state"`
	Incarnation string `json:"inc"`
	Generation  int64  `json:"gen"`
	OpenForMs   int64  `json:"open_for_ms"`
	Known       bool   `json:"known"`
	Current     bool   `json:"current"`
	Local       bool   `json:"local"`
	Verdict     string `json:"verdict"`
}

// entryDoc is one entry of a breaker's log.
type entryDoc struct {
	ID          string `json:"id"`
	Breaker     string `json:"breaker"`
	AtMs        int64  `json:"at_ms"`
	From        string `json:"from"`
	To          string `json:"to"`
	Incarnation string `json:"inc"`
	Generation  int64  `json:"gen"`
	OpenUntilMs int64  `json:"open_until_ms"`
	Error       string `json:"error"`
	Action      string `json:"action,omitempty"`
	By          string `json:"by,omitempty"`
}

// historyDoc is a breaker's log, newest first (GET api/breakers/{name}/history,
// and the live stream's "history" event).
type historyDoc struct {
	Breaker string     `json:"breaker"`
	Entries []entryDoc `json:"entries"`
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func newBreakerDoc(s dbreaker.Snapshot) breakerDoc {
	return breakerDoc{Name: s.Name, State: s.State.String(), Underlying: s.Underlying.String(), Incarnation: s.Incarnation,
		Generation: s.Generation, Failures: s.Failures, Successes: s.Successes, Trips: s.Trips, Probes: s.Probes,
		OpenedAtMs: ms(s.OpenedAt), OpenUntilMs: ms(s.OpenUntil), OpenForMs: s.RetryAfter().Milliseconds(),
		UpdatedAtMs: ms(s.UpdatedAt), StoreTimeMs: ms(s.StoreTime), LastError: s.LastError, Corrupt: s.Corrupt}
}

func newHistoryDoc(name string, entries []dbreaker.LogEntry) historyDoc {
	h := historyDoc{Breaker: name, Entries: make([]entryDoc, len(entries))}
	for i, e := range entries {
		h.Entries[i] = entryDoc{ID: e.ID, Breaker: name, AtMs: ms(e.At), From: e.From.String(), To: e.To.String(),
			Incarnation: e.Incarnation, Generation: e.Generation, OpenUntilMs: ms(e.OpenUntil), Error: e.Error,
			Action: e.Action, By: e.Operator}
	}
	return h
}

// verdict judges a replica's view of a breaker against Redis' state.
func verdict(v dbreaker.View, b breakerDoc) string {
	switch {
	case v.Local:
		return verdictLocal
	case !v.Known:
		return verdictUnknown
	case v.Incarnation == b.Incarnation && v.Generation == b.Generation && v.State.String() == b.State:
		return verdictAgrees
	case v.Incarnation == b.Incarnation && v.Generation < b.Generation:
		return verdictBehind
	}
	return verdictDisagrees
}

// assemble builds the state document: the breakers sorted by name (one
// that only a replica holds, never written to Redis, is closed at
// generation 0), the replicas sorted by name with their verdicts.
func (c *Console) assemble(breakers map[string]breakerDoc, replicas map[string]heard, now time.Time) stateDoc {
	doc := stateDoc{Prefix: c.store.KeyPrefix(), Actions: c.token != nil, KeepSilentMs: KeepSilent.Milliseconds(),
		Breakers: []breakerDoc{}, Replicas: []replicaDoc{}}
	all := make(map[string]breakerDoc, len(breakers))
	for name, b := range breakers {
		all[name] = b
	}
	for _, h := range replicas {
		for _, v := range h.p.Breakers {
			if _, ok := all[v.Name]; !ok {
				all[v.Name] = breakerDoc{Name: v.Name, State: "closed", Underlying: "closed"}
			}
		}
	}
	for _, b := range all {
		doc.Breakers = append(doc.Breakers, b)
	}
	slices.SortFunc(doc.Breakers, func(a, b breakerDoc) int { return cmp.Compare(a.Name, b.Name) })
	for _, h := range replicas {
		r := replicaDoc{Replica: h.p.Replica, Degraded: h.p.Degraded, Flags: []string{}, Breakers: []viewDoc{}}
		if ttl := max(h.p.TTL, dbreaker.PresenceInterval); now.Sub(h.at) > ttl {
			r.Silent, r.SilentForMs = true, now.Sub(h.at).Milliseconds()
		}
		flags := map[string]bool{"decides_locally": h.p.Degraded, "silent": r.Silent}
		for _, v := range h.p.Breakers {
			vd := viewDoc{Name: v.Name, State: v.State.String(), Incarnation: v.Incarnation, Generation: v.Generation,
				OpenForMs: v.OpenFor.Milliseconds(), Known: v.Known, Current: v.Current, Local: v.Local, Verdict: verdict(v.View, all[v.Name])}
			r.Breakers = append(r.Breakers, vd)
			switch vd.Verdict {
			case verdictLocal:
				flags["decides_locally"] = true
			case verdictDisagrees:
				flags["disagrees"] = true
			case verdictBehind:
				flags["behind"] = true
			}
		}
		for _, f := range []string{"decides_locally", "disagrees", "behind", "silent"} {
			if flags[f] {
				r.Flags = append(r.Flags, f)
			}
		}
		doc.Replicas = append(doc.Replicas, r)
	}
	slices.SortFunc(doc.Replicas, func(a, b replicaDoc) int { return cmp.Compare(a.Replica, b.Replica) })
	return doc
}

// scan lists the breakers under the prefix and reads every live
// heartbeat into the console's book of replicas.
func (c *Console) scan(ctx context.Context) ([]string, []dbreaker.Presence, error) {
	began := c.clock.Now()
	names, err := c.store.BreakerNames(ctx)
	if err != nil {
		return nil, nil, err
	}
	presences, err := c.store.Replicas(ctx)
	if err != nil {
		return nil, nil, err
	}
	c.book.hearListing(presences, began)
	return names, presences, nil
}

// readAll reads every breaker under the prefix and every live heartbeat:
// the listing under one deadline, the breakers under another.
func (c *Console) readAll(ctx context.Context) (map[string]breakerDoc, error) {
	lctx, cancel := context.WithTimeout(ctx, c.timeout)
	names, _, err := c.scan(lctx)
	cancel()
	if err != nil {
		return nil, err
	}
	ctx, cancel = context.WithTimeout(ctx, c.timeout)
	defer cancel()
	snaps, err := c.store.Snapshots(ctx, names, dbreaker.Policy{})
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	breakers := make(map[string]breakerDoc, len(snaps))
	for _, s := range snaps {
		breakers[s.Name] = newBreakerDoc(s)
	}
	return breakers, nil
}

// read does one job of a run's reader: the listing if asked, under one
// deadline (the names it finds are read too, with those the heartbeats
// hold); then, under another, the breakers in one pipeline and in another
// the logs of those that moved, are new to the run, or were asked for.
func (c *Console) read(ctx context.Context, j job) readResult {
	res := readResult{breakers: map[string]breakerDoc{}, histories: map[string]historyDoc{}}
	listed := map[string]bool{}
	if j.scan {
		lctx, cancel := context.WithTimeout(ctx, c.timeout)
		names, replicas, err := c.scan(lctx)
		cancel()
		if err != nil {
			res.err = err
			return res
		}
		res.scanned = true
		for _, name := range names {
			listed[name], j.names[name] = true, true
		}
		for _, p := range replicas {
			for _, v := range p.Breakers {
				j.names[v.Name] = true
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	names := make([]string, 0, len(j.names))
	for name := range j.names {
		names = append(names, name)
	}
	slices.Sort(names)
	snaps, failed := c.store.Snapshots(ctx, names, dbreaker.Policy{})
	var logs []string
	for _, s := range snaps {
		b := newBreakerDoc(s)
		old, known := j.known[s.Name]
		if !known && b.Incarnation == "" && !listed[s.Name] {
			continue // no key in Redis: a name from a forged event, one deleted since, or one only a replica holds
		}
		res.breakers[s.Name] = b
		if j.history[s.Name] || !known || old != (version{b.Incarnation, b.Generation}) {
			logs = append(logs, s.Name)
		}
	}
	if len(logs) > 0 {
		hs, err := c.store.Histories(ctx, logs, c.cfg.History)
		failed = errors.Join(failed, err)
		for name, entries := range hs {
			res.histories[name] = newHistoryDoc(name, entries)
		}
	}
	res.failed = failed
	return res
}
