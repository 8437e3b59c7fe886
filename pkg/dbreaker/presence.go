package dbreaker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// Replica presence: with WithPresence, each replica keeps a heartbeat key
// <prefix>:replica:<name> (a JSON document that expires after PresenceTTL)
// saying which breakers it holds, whether its store is degraded, and each
// breaker's view (Breaker.View). It is rewritten every PresenceInterval,
// and within presenceCheck of any change, each write also published on
// <prefix>:presence so that a console learns of it at once. Close deletes
// the key and publishes the replica's departure.
const (
	// PresenceInterval is how often a heartbeat is rewritten when nothing
	// changed.
	PresenceInterval = time.Second
	// PresenceTTL is how long a heartbeat lives without being rewritten.
	PresenceTTL = 4 * time.Second
	// presenceCheck is how often the views are compared with the last
	// heartbeat: in memory only, no I/O.
	presenceCheck = 100 * time.Millisecond
)

// WithPresence makes the store keep a heartbeat for this replica, named
// replica (1 to 64 letters, digits and "._-:", e.g. a host name and a
// port), from its first Breaker until Close (default: none). Its cost is
// a background goroutine and, per replica, one SET and one PUBLISH a
// second plus one per change of a view; the call path does nothing more.
// For NewRedisStore.
func WithPresence(replica string) Option {
	return func(o *options) error {
		o.given = append(o.given, "WithPresence")
		if err := validateIdent("replica name", replica); err != nil {
			return err
		}
		o.replica = replica
		return nil
	}
}

// PresenceChannel is the Pub/Sub channel on which heartbeats are published.
func (s *RedisStore) PresenceChannel() string { return s.prefix + ":presence" }

// PresenceKey returns the heartbeat key of a replica.
func (s *RedisStore) PresenceKey(replica string) string { return s.prefix + ":replica:" + replica }

// Presence is one replica's heartbeat.
type Presence struct {
	Replica string
	// At is the replica's own clock when it wrote the heartbeat (for
	// people: never compare it with another clock to tell liveness).
	At  time.Time
	TTL time.Duration
	// Degraded: the replica's store finds Redis unavailable, so its
	// breakers decide by their StoreFailure policy.
	Degraded bool
	// Gone: the replica closed its store; nothing follows.
	Gone     bool
	Breakers []BreakerView
}

// BreakerView is one breaker's view on a replica.
type BreakerView struct {
	Name string
	View
}

// The heartbeat's JSON form.
type heartbeat struct {
	Replica  string          `json:"replica"`
	AtMs     int64           `json:"at_ms"`
	TTLMs    int64           `json:"ttl_ms"`
	Degraded bool            `json:"degraded"`
	Gone     bool            `json:"gone,omitempty"`
	Breakers []heartbeatView `json:"breakers"`
}

type heartbeatView struct {
	Name      string `json:"name"`
	State     string `json:"state"`
	Inc       string `json:"inc"`
	Gen       int64  `json:"gen"`
	OpenForMs int64  `json:"open_for_ms"`
	Known     bool   `json:"known"`
	Current   bool   `json:"current"`
	Local     bool   `json:"local"`
}

// ParsePresence reads a heartbeat as stored in a presence key or published
// on the presence channel. Anything else is an error naming what is wrong.
func ParsePresence(payload []byte) (Presence, error) {
	var hb heartbeat
	if err := json.Unmarshal(payload, &hb); err != nil {
		return Presence{}, fmt.Errorf("dbreaker: heartbeat: %w", err)
	}
	if err := validateIdent("replica name", hb.Replica); err != nil {
		return Presence{}, fmt.Errorf("dbreaker: heartbeat: %w", err)
	}
	if hb.AtMs < 0 || hb.TTLMs < 0 {
		return Presence{}, fmt.Errorf("dbreaker: heartbeat of %s: negative time", hb.Replica)
	}
	p := Presence{Replica: hb.Replica, At: msTime(hb.AtMs), TTL: time.Duration(hb.TTLMs) * time.Millisecond,
		Degraded: hb.Degraded, Gone: hb.Gone}
	for _, v := range hb.Breakers {
		state, err := ParseState(v.State)
		if err != nil || ValidateName(v.Name) != nil || !validIncarnation(v.Inc, true) || v.Gen < 0 || v.OpenForMs < 0 {
			return Presence{}, fmt.Errorf("dbreaker: heartbeat of %s: malformed view of breaker %.70q", hb.Replica, v.Name)
		}
		p.Breakers = append(p.Breakers, BreakerView{Name: v.Name, View: View{State: state, Incarnation: v.Inc, Generation: v.Gen,
			OpenFor: time.Duration(v.OpenForMs) * time.Millisecond, Known: v.Known, Current: v.Current, Local: v.Local}})
	}
	return p, nil
}

// Replicas reads every live heartbeat under the store's key prefix, sorted
// by replica name; unreadable ones are left out. It SCANs the keyspace:
// for consoles and tools, never for the call path.
func (s *RedisStore) Replicas(ctx context.Context) ([]Presence, error) {
	var keys []string
	if err := s.scanKeys(ctx, s.PresenceKey("*"), func(k string) { keys = append(keys, k) }); err != nil {
		return nil, fmt.Errorf("dbreaker: listing replicas: %w", err)
	}
	var out []Presence
	for _, k := range keys {
		v, err := s.client.Get(ctx, k).Bytes()
		if errors.Is(err, redis.Nil) {
			continue // expired since the scan
		}
		if err != nil {
			return nil, fmt.Errorf("dbreaker: reading heartbeat %s: %w", k, err)
		}
		if p, err := ParsePresence(v); err == nil {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Presence) int { return cmp.Compare(a.Replica, b.Replica) })
	return out, nil
}

// heartbeat is this replica's presence now: per breaker name it holds, the
// view of the first breaker made with that name.
func (s *RedisStore) heartbeat() heartbeat {
	hb := heartbeat{Replica: s.replica, AtMs: time.Now().UnixMilli(), TTLMs: PresenceTTL.Milliseconds(), Degraded: s.Degraded()}
	s.sub.mu.RLock()
	names := make([]string, 0, len(s.sub.watchers))
	for name := range s.sub.watchers {
		names = append(names, name)
	}
	slices.Sort(names)
	firsts := make([]*Breaker, len(names))
	for i, name := range names {
		firsts[i] = s.sub.watchers[name][0]
	}
	s.sub.mu.RUnlock()
	hb.Breakers = make([]heartbeatView, len(names))
	for i, b := range firsts {
		v := b.View()
		hb.Breakers[i] = heartbeatView{Name: names[i], State: v.State.String(), Inc: v.Incarnation, Gen: v.Generation,
			OpenForMs: v.OpenFor.Milliseconds(), Known: v.Known, Current: v.Current, Local: v.Local}
	}
	return hb
}

// sameViews reports whether two heartbeats say the same, apart from their
// times.
func sameViews(a, b heartbeat) bool {
	if a.Degraded != b.Degraded || len(a.Breakers) != len(b.Breakers) {
		return false
	}
	for i := range a.Breakers {
		x, y := a.Breakers[i], b.Breakers[i]
		x.OpenForMs, y.OpenForMs = 0, 0
		if x != y {
			return false
		}
	}
	return true
}

// presenceLoop writes the heartbeat until Close, then deletes it.
func (s *RedisStore) presenceLoop() {
	tick := time.NewTicker(presenceCheck)
	defer tick.Stop()
	var last heartbeat
	var next time.Time // when the heartbeat is due even if nothing changed
	for {
		select {
		case <-s.stop:
			s.presenceGone()
			return
		case <-tick.C:
		}
		hb := s.heartbeat()
		now := time.Now()
		if now.Before(next) && sameViews(hb, last) {
			continue
		}
		next = now.Add(PresenceInterval)
		if err := s.writePresence(hb); err != nil {
			s.logger.Debug("[CIRCUIT_BREAKER] heartbeat not written", "replica", s.replica, "error", err)
			continue // tried again at the next interval
		}
		last = hb
	}
}

// writePresence stores a heartbeat, then publishes it: only a stored one
// is announced, so a console that hears of a replica finds it in
// Replicas. (One pipeline would publish even when the write failed, as on
// a Cluster, where the key and the channel live on different nodes.)
func (s *RedisStore) writePresence(hb heartbeat) error {
	payload, err := json.Marshal(hb)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), healthCheckTimeout)
	defer cancel()
	if hb.Gone {
		err = s.client.Del(ctx, s.PresenceKey(s.replica)).Err()
	} else {
		err = s.client.Set(ctx, s.PresenceKey(s.replica), payload, PresenceTTL).Err()
	}
	if err != nil {
		return err
	}
	return s.client.Publish(ctx, s.PresenceChannel(), payload).Err()
}

// presenceGone deletes the heartbeat and announces the departure, unless
// Redis is known to be unavailable (the key then expires by itself).
func (s *RedisStore) presenceGone() {
	if s.Degraded() {
		return
	}
	hb := heartbeat{Replica: s.replica, AtMs: time.Now().UnixMilli(), Gone: true, Breakers: []heartbeatView{}}
	if err := s.writePresence(hb); err != nil && !errors.Is(err, context.Canceled) {
		s.logger.Debug("[CIRCUIT_BREAKER] heartbeat not deleted; it expires by itself", "replica", s.replica, "error", err)
	}
}

// SubscribeFleet subscribes to the events and presence channels: every
// transition and every heartbeat, as a console follows them. The caller
// reads the messages (go-redis reconnects by itself; messages sent
// meanwhile are lost) and closes the subscription.
func (s *RedisStore) SubscribeFleet(ctx context.Context) *redis.PubSub {
	return s.client.Subscribe(ctx, s.channel, s.PresenceChannel())
}
