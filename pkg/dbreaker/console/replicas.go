package console

import (
	"sync"
	"time"

	"github.com/healthagent/resilience/pkg/dbreaker"
)

// KeepSilent is how long a replica stays listed, flagged silent, after the
// console last heard its heartbeat. A replica falls silent when it is down,
// or when it is cut off from Redis: it cannot write its heartbeat then, and
// its breakers decide locally by their StoreFailure policy. A replica that
// closes its store says so and leaves the list at once.
const KeepSilent = 30 * time.Minute

// heard is a heartbeat and when this console heard it (by its clock).
type heard struct {
	p  dbreaker.Presence
	at time.Time
}

// replicaBook is what a console has heard of the replicas, through the live
// stream and api/state alike: each one's last heartbeat and when it was
// heard, kept KeepSilent after that; and when a replica was heard leaving,
// so that a listing read before it left does not bring it back. A console
// knows only the replicas it has heard: one that fell silent before the
// console first listed the heartbeats is not in the book. Safe for
// concurrent use.
type replicaBook struct {
	mu    sync.Mutex
	heard map[string]heard
	left  map[string]time.Time
}

func newReplicaBook() *replicaBook {
	return &replicaBook{heard: map[string]heard{}, left: map[string]time.Time{}}
}

// hear takes a heartbeat heard at at, or a replica's departure.
func (b *replicaBook) hear(p dbreaker.Presence, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.Gone {
		delete(b.heard, p.Replica)
		b.left[p.Replica] = at
		return
	}
	b.take(heard{p: p, at: at})
}

// hearListing takes the heartbeats of a listing that began at at: a
// replica heard since, or heard leaving since, keeps what the book has.
func (b *replicaBook) hearListing(replicas []dbreaker.Presence, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range replicas {
		if left, ok := b.left[p.Replica]; ok && !left.Before(at) {
			continue
		}
		b.take(heard{p: p, at: at})
	}
}

// take keeps h unless the book heard the replica later; b.mu is held.
func (b *replicaBook) take(h heard) {
	if cur, ok := b.heard[h.p.Replica]; ok && cur.at.After(h.at) {
		return
	}
	b.heard[h.p.Replica] = h
	if left, ok := b.left[h.p.Replica]; ok && left.Before(h.at) {
		delete(b.left, h.p.Replica)
	}
}

// list forgets what is older than KeepSilent at now and returns the rest.
func (b *replicaBook) list(now time.Time) map[string]heard {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]heard, len(b.heard))
	for name, h := range b.heard {
		if now.Sub(h.at) > KeepSilent {
			delete(b.heard, name)
			continue
		}
		out[name] = h
	}
	for name, at := range b.left {
		if now.Sub(at) > KeepSilent {
			delete(b.left, name)
		}
	}
	return out
}

// holds reports whether a replica of the book, silent or not, holds the
// breaker name.
func (b *replicaBook) holds(name string, now time.Time) bool {
	for _, h := range b.list(now) {
		for _, v := range h.p.Breakers {
			if v.Name == name {
				return true
			}
		}
	}
	return false
}
