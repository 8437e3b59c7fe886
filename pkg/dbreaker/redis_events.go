package dbreaker

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscription is the store's one Pub/Sub subscription to the events
// channel, shared by every breaker of the process.
type subscription struct {
	mu       sync.RWMutex
	watchers map[string][]*Breaker

	// epoch changes whenever events may have been missed (a new or renewed
	// subscription, the end of a Redis outage); live is true while the
	// subscription is confirmed and answering.
	epoch atomic.Uint64
	live  atomic.Bool
}

func (sub *subscription) bump() { sub.epoch.Add(1) }

// watch implements watchable.
func (s *RedisStore) watch(name string, b *Breaker) func() {
	s.sub.mu.Lock()
	s.sub.watchers[name] = append(s.sub.watchers[name], b)
	s.sub.mu.Unlock()
	s.start()
	return func() {
		s.sub.mu.Lock()
		defer s.sub.mu.Unlock()
		s.sub.watchers[name] = slices.DeleteFunc(s.sub.watchers[name], func(x *Breaker) bool { return x == b })
		if len(s.sub.watchers[name]) == 0 {
			delete(s.sub.watchers, name)
		}
	}
}

// events implements watchable.
func (s *RedisStore) events() (uint64, bool) {
	return s.sub.epoch.Load(), s.sub.live.Load()
}

// subscribeLoop keeps the subscription up until Close, reconnecting with
// a growing pause (capped by the health-check interval).
func (s *RedisStore) subscribeLoop() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		cancel()
	}()
	pause := 10 * time.Millisecond
	for {
		confirmed, err := s.subscribeOnce(ctx)
		s.sub.live.Store(false)
		if confirmed {
			pause = 10 * time.Millisecond
		}
		if ctx.Err() != nil {
			return
		}
		s.logger.Debug("[CIRCUIT_BREAKER] event subscription lost; reconnecting", "error", err, "pause", pause)
		if !s.sleep(pause) {
			return
		}
		pause = min(2*pause, s.healthInterval)
	}
}

// subscribeOnce subscribes and delivers events until the connection fails.
// Silence is checked with a PING every idle period, so a dead connection is
// found within about two periods.
func (s *RedisStore) subscribeOnce(ctx context.Context) (confirmed bool, err error) {
	const idle = time.Second // room for a busy machine: a late PONG is not a dead connection
	ps := s.client.Subscribe(ctx, s.channel)
	done := make(chan struct{})
	defer close(done)
	go func() { // a blocked read ignores ctx: closing unblocks it
		select {
		case <-ctx.Done():
		case <-done:
		}
		ps.Close()
	}()
	if _, err := ps.ReceiveTimeout(ctx, 2*idle); err != nil {
		return false, err
	}
	s.sub.bump()
	s.sub.live.Store(true)
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, idle)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged && ctx.Err() == nil {
				if err := ps.Ping(ctx); err != nil {
					return true, err
				}
				pinged = true
				continue
			}
			return true, err
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Message:
			s.dispatch(m.Payload)
		case *redis.Subscription:
			s.sub.bump() // go-redis resubscribed after a reconnect: events may be lost
		}
	}
}

// dispatch hands one event to the breakers watching its name. A payload
// that is not an event is ignored.
func (s *RedisStore) dispatch(payload string) {
	var ev event
	if err := json.Unmarshal([]byte(payload), &ev); err != nil || ev.Breaker == "" {
		return
	}
	s.sub.mu.RLock()
	watchers := slices.Clone(s.sub.watchers[ev.Breaker])
	s.sub.mu.RUnlock()
	for _, b := range watchers {
		b.applyEvent(ev)
	}
}
