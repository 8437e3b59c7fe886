package console

import (
	"testing"
	"time"

	"github.com/healthagent/resilience/pkg/dbreaker"
)

// The book keeps the newest of what it heard: a listing read before a
// heartbeat or a departure does not undo it.
func TestReplicaBook(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	alive := dbreaker.Presence{Replica: "r1"}
	gone := dbreaker.Presence{Replica: "r1", Gone: true}
	type step struct {
		listing bool // a listing that began at s (with r1's heartbeat), else a heartbeat heard at s
		p       dbreaker.Presence
		s       int
	}
	for _, c := range []struct {
		name   string
		steps  []step
		listed bool
		heard  int // when r1 was last heard, if listed
	}{
		{"heard", []step{{false, alive, 1}}, true, 1},
		{"a listing older than a heartbeat", []step{{false, alive, 5}, {true, alive, 3}}, true, 5},
		{"a newer listing", []step{{false, alive, 5}, {true, alive, 7}}, true, 7},
		{"gone", []step{{false, alive, 1}, {false, gone, 2}}, false, 0},
		{"a listing begun before it left", []step{{false, alive, 1}, {false, gone, 3}, {true, alive, 2}}, false, 0},
		{"a listing begun as it left", []step{{false, gone, 3}, {true, alive, 3}}, false, 0},
		{"back after it left", []step{{false, gone, 3}, {true, alive, 4}}, true, 4},
		{"a heartbeat after it left", []step{{false, gone, 3}, {false, alive, 4}, {true, alive, 3}}, true, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newReplicaBook()
			for _, s := range c.steps {
				if s.listing {
					b.hearListing([]dbreaker.Presence{s.p}, at(s.s))
				} else {
					b.hear(s.p, at(s.s))
				}
			}
			h, ok := b.list(at(10))["r1"]
			if ok != c.listed || (ok && !h.at.Equal(at(c.heard))) {
				t.Fatalf("r1 listed %v, heard at %v; want listed %v, heard at %v", ok, h.at.Sub(t0), c.listed, at(c.heard).Sub(t0))
			}
		})
	}
	b := newReplicaBook()
	b.hear(alive, t0)
	if len(b.list(t0.Add(KeepSilent))) != 1 || len(b.list(t0.Add(KeepSilent+time.Millisecond))) != 0 {
		t.Fatal("a silent replica is not kept exactly KeepSilent")
	}
}
