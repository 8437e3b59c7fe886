package fakeupstream

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
)

func TestStatsUnderConcurrency(t *testing.T) {
	const (
		workers   = 8
		perWorker = 25 // requests per worker and upstream
		perUp     = workers * perWorker
	)
	fault := Fault{ErrorRate: 0.3, ErrorStatus: 500, MalformedRate: 0.1, TruncatedRate: 0.1}
	faults := map[Upstream]Fault{OpenAI: fault, Anthropic: fault, USDA: fault, Web: fault}
	ts := newTestServer(t, Config{Seed: 5, Faults: faults})
	ts.drainDone()

	requests := map[Upstream]func(ctx context.Context) httpResult{
		OpenAI: func(ctx context.Context) httpResult {
			return ts.do(ctx, t, http.MethodPost, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"150 g rice"}]}`, nil)
		},
		Anthropic: func(ctx context.Context) httpResult {
			return ts.do(ctx, t, http.MethodPost, "/v1/messages", `{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"egg"}]}`, map[string]string{"anthropic-version": "2023-06-01"})
		},
		USDA: func(ctx context.Context) httpResult {
			return ts.do(ctx, t, http.MethodGet, "/fdc/v1/foods/search?query=egg", "", nil)
		},
		Web: func(ctx context.Context) httpResult {
			return ts.do(ctx, t, http.MethodGet, "/web/nutrition?q=egg", "", nil)
		},
	}

	type seen struct{ ok, errors, malformed, truncated uint64 }
	var mu sync.Mutex
	observed := map[Upstream]*seen{}
	for _, u := range Upstreams() {
		observed[u] = &seen{}
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range perWorker {
				for _, u := range Upstreams() {
					res := requests[u](context.Background())
					mu.Lock()
					s := observed[u]
					var v any
					switch {
					case res.err != nil:
						s.truncated++
					case res.status == 500:
						s.errors++
					case res.status == 200 && json.Unmarshal(res.body, &v) != nil:
						s.malformed++
					case res.status == 200:
						s.ok++
					default:
						t.Errorf("%s: status %d body %s", u, res.status, res.body)
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	ts.waitDone(t, perUp*len(Upstreams()))

	stats := ts.Stats()
	for _, u := range Upstreams() {
		got, saw := stats[u], observed[u]
		if got.Requests != perUp || got.InFlight != 0 || got.Rejected != 0 || got.Canceled != 0 {
			t.Errorf("%s: %+v, want %d requests, none in flight", u, got, perUp)
		}
		if got.OK != saw.ok || got.Faults.Error != saw.errors || got.Faults.Malformed != saw.malformed || got.Faults.Truncated != saw.truncated {
			t.Errorf("%s: server counted %+v, clients saw %+v", u, got, *saw)
		}
		if got.OK+got.Faults.Total() != got.Requests {
			t.Errorf("%s: %d ok + %d faults != %d requests", u, got.OK, got.Faults.Total(), got.Requests)
		}
		// However the requests interleaved, the first perUp fates of the
		// seeded sequence were served.
		i, _ := u.index()
		seq := &sequence{fault: fault, seed: 5, salt: uint64(i) + 1}
		var want [kindCount]uint64
		for n := range uint64(perUp) {
			want[fault.decide(seq.draw(n, streamFate))]++
		}
		if got.OK != want[kindNone] || got.Faults.Error != want[kindError] || got.Faults.Malformed != want[kindMalformed] || got.Faults.Truncated != want[kindTruncated] {
			t.Errorf("%s: %+v, want the sequence's %v", u, got, want)
		}
	}

	t.Run("admin stats and reset", func(t *testing.T) {
		res := ts.get(t, "/admin/stats")
		var fromHTTP Stats
		decodeJSON(t, res.body, &fromHTTP)
		if fromHTTP[OpenAI] != ts.Stats()[OpenAI] || fromHTTP[Web].Requests != perUp {
			t.Errorf("GET /admin/stats %s, Stats() %+v", res.body, ts.Stats())
		}
		res = ts.do(context.Background(), t, http.MethodDelete, "/admin/stats", "", nil)
		if res.status != http.StatusOK || ts.Stats()[OpenAI] != (Counts{}) {
			t.Errorf("after DELETE: status %d, stats %+v", res.status, ts.Stats())
		}
	})
}
