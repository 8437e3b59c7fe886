package fakeupstream

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
)

// openAIPattern sends n text requests through the SDK and returns "x" for
// each injected 429 and "." for each answer.
func openAIPattern(t *testing.T, ts *testServer, n int) string {
	t.Helper()
	client := newOpenAIClient(ts, "sk-test")
	var b strings.Builder
	for range n {
		_, err := client.Chat.Completions.New(context.Background(), textRequest("150 g rice"))
		var apiErr *openai.Error
		switch {
		case err == nil:
			b.WriteByte('.')
		case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests:
			b.WriteByte('x')
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	return b.String()
}

func TestSeededErrorRateRepeats(t *testing.T) {
	const n = 40
	cfg := Config{Seed: 42, Faults: map[Upstream]Fault{OpenAI: {ErrorRate: 0.5, ErrorStatus: 429}}}
	ts := newTestServer(t, cfg)
	first := openAIPattern(t, ts, n)
	errorsSeen := strings.Count(first, "x")
	if errorsSeen == 0 || errorsSeen == n {
		t.Fatalf("pattern %s: a rate of 0.5 should fault some requests, not all", first)
	}
	if got := ts.Stats()[OpenAI]; got.Faults.Error != uint64(errorsSeen) || got.OK != uint64(n-errorsSeen) || got.Requests != n {
		t.Errorf("stats %+v, the client saw %d errors in %d requests", got, errorsSeen, n)
	}

	t.Run("a second server with the same seed", func(t *testing.T) {
		if again := openAIPattern(t, newTestServer(t, cfg), n); again != first {
			t.Errorf("pattern %s, then %s", first, again)
		}
	})
	t.Run("setting the fault again restarts the sequence", func(t *testing.T) {
		if err := ts.SetFault(OpenAI, cfg.Faults[OpenAI]); err != nil {
			t.Fatal(err)
		}
		if again := openAIPattern(t, ts, n); again != first {
			t.Errorf("pattern %s, then %s", first, again)
		}
	})
	t.Run("traffic to other upstreams does not shift it", func(t *testing.T) {
		if err := ts.SetFault(OpenAI, cfg.Faults[OpenAI]); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		client := newOpenAIClient(ts, "sk-test")
		for range n {
			if res := ts.get(t, "/web/nutrition?q=egg"); res.status != http.StatusOK {
				t.Fatalf("web status %d", res.status)
			}
			_, err := client.Chat.Completions.New(context.Background(), textRequest("hi"))
			if err != nil {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		if b.String() != first {
			t.Errorf("pattern %s, then %s", first, b.String())
		}
	})
	t.Run("another seed gives another pattern", func(t *testing.T) {
		ts.SetSeed(43)
		if other := openAIPattern(t, ts, n); other == first {
			t.Errorf("seeds 42 and 43 both gave %s", first)
		}
	})
}

func TestLatencyUsesTheClock(t *testing.T) {
	run := func(t *testing.T) []time.Duration {
		clock := newManualClock()
		ts := newTestServer(t, Config{Seed: 9, Faults: map[Upstream]Fault{USDA: {Latency: 2 * time.Second, Jitter: time.Second}}}, WithClock(clock))
		var delays []time.Duration
		for range 5 {
			result := make(chan httpResult, 1)
			go func() { result <- ts.do(context.Background(), t, http.MethodGet, "/fdc/v1/food/5064", "", nil) }()
			d := clock.AwaitTimer(t)
			if d < 2*time.Second || d >= 3*time.Second {
				t.Errorf("delay %v outside [2s, 3s)", d)
			}
			select {
			case res := <-result:
				t.Fatalf("answered (status %d) before the latency passed", res.status)
			default:
			}
			clock.Advance(d)
			if res := <-result; res.err != nil || res.status != http.StatusOK {
				t.Fatalf("status %d, error %v", res.status, res.err)
			}
			delays = append(delays, d)
		}
		if got := ts.Stats()[USDA]; got.Delayed != 5 || got.OK != 5 {
			t.Errorf("stats %+v, want 5 delayed and ok", got)
		}
		return delays
	}
	first, again := run(t), run(t)
	varied := false
	for i := range first {
		if first[i] != again[i] {
			t.Errorf("delay %d: %v, then %v with the same seed", i, first[i], again[i])
		}
		varied = varied || first[i] != first[0]
	}
	if !varied {
		t.Errorf("jitter gave the same delay every time: %v", first)
	}
}

func TestLatencyEndsWhenTheClientGivesUp(t *testing.T) {
	clock := newManualClock()
	ts := newTestServer(t, Config{Faults: map[Upstream]Fault{Web: {Latency: time.Hour}}}, WithClock(clock))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res := ts.do(ctx, t, http.MethodGet, "/web/nutrition?q=egg", "", nil)
	if !errors.Is(res.err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the client's deadline", res.err)
	}
	ts.waitDone(t, 1)
	if got := ts.Stats()[Web]; got.Canceled != 1 || got.Delayed != 1 || got.InFlight != 0 || got.OK != 0 {
		t.Errorf("stats %+v, want one canceled request", got)
	}
}

func TestHangEndsWhenTheClientGivesUp(t *testing.T) {
	tests := []struct {
		upstream Upstream
		call     func(ctx context.Context, t *testing.T, ts *testServer) error
	}{
		{OpenAI, func(ctx context.Context, t *testing.T, ts *testServer) error {
			client := newOpenAIClient(ts, "k")
			_, err := client.Chat.Completions.New(ctx, textRequest("hi"))
			return err
		}},
		{Anthropic, func(ctx context.Context, t *testing.T, ts *testServer) error {
			client := newAnthropicClient(ts, "k")
			_, err := client.Messages.New(ctx, anthropicRequestOf(anthropic.NewTextBlock("hi")))
			return err
		}},
		{USDA, func(ctx context.Context, t *testing.T, ts *testServer) error {
			return ts.do(ctx, t, http.MethodGet, "/fdc/v1/foods/search?query=egg", "", nil).err
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.upstream), func(t *testing.T) {
			ts := newTestServer(t, Config{Faults: map[Upstream]Fault{tt.upstream: {HangRate: 1}}})
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if err := tt.call(ctx, t, ts); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v, want the client's deadline", err)
			}
			ts.waitDone(t, 1)
			if got := ts.Stats()[tt.upstream]; got.Faults.Hang != 1 || got.InFlight != 0 || got.Requests != 1 {
				t.Errorf("stats %+v, want one finished hang", got)
			}
		})
	}
}

func TestOutage(t *testing.T) {
	t.Run("error", func(t *testing.T) {
		ts := newTestServer(t, Config{Faults: map[Upstream]Fault{USDA: {Outage: OutageError}}})
		for range 5 {
			res := ts.get(t, "/fdc/v1/food/5064")
			var body struct {
				Status int    `json:"status"`
				Error  string `json:"error"`
				Path   string `json:"path"`
			}
			decodeJSON(t, res.body, &body)
			if res.status != 503 || body.Status != 503 || body.Error != "Service Unavailable" || body.Path != "/fdc/v1/food/5064" {
				t.Errorf("status %d body %s", res.status, res.body)
			}
		}
		if got := ts.Stats()[USDA]; got.Faults.Error != 5 || got.OK != 0 {
			t.Errorf("stats %+v", got)
		}
	})
	t.Run("reset", func(t *testing.T) {
		ts := newTestServer(t, Config{Faults: map[Upstream]Fault{OpenAI: {Outage: OutageReset}, Web: {Outage: OutageReset}}})
		client := newOpenAIClient(ts, "k")
		_, err := client.Chat.Completions.New(context.Background(), textRequest("hi"))
		var apiErr *openai.Error
		if err == nil || errors.As(err, &apiErr) {
			t.Errorf("OpenAI error %v, want a connection error", err)
		}
		if res := ts.get(t, "/web/nutrition?q=egg"); res.err == nil {
			t.Errorf("web: status %d, want a connection error", res.status)
		}
		for _, u := range []Upstream{OpenAI, Web} {
			// The transport may resend an idempotent request once on a
			// fresh connection, so count resets, not client calls.
			if got := ts.Stats()[u]; got.Faults.Reset == 0 || got.Faults.Reset != got.Requests {
				t.Errorf("%s stats %+v, want every request reset", u, got)
			}
		}
	})
}

func TestMalformedAndTruncatedBodies(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault Fault
	}{
		{"malformed", Fault{MalformedRate: 1}},
		{"truncated", Fault{TruncatedRate: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, Config{Faults: map[Upstream]Fault{OpenAI: tt.fault, Anthropic: tt.fault, USDA: tt.fault, Web: tt.fault}})
			oa := newOpenAIClient(ts, "k")
			if _, err := oa.Chat.Completions.New(context.Background(), textRequest("hi")); err == nil {
				t.Error("OpenAI SDK accepted the body")
			}
			cl := newAnthropicClient(ts, "k")
			if _, err := cl.Messages.New(context.Background(), anthropicRequestOf(anthropic.NewTextBlock("hi"))); err == nil {
				t.Error("Anthropic SDK accepted the body")
			}
			for _, path := range []string{"/fdc/v1/food/5064", "/web/nutrition?q=egg"} {
				res := ts.get(t, path)
				var v any
				if res.err == nil && res.status == http.StatusOK && json.Unmarshal(res.body, &v) == nil {
					t.Errorf("%s: a valid JSON body %s", path, res.body)
				}
				if tt.name == "truncated" && res.err == nil {
					t.Errorf("%s: the body was read to its end", path)
				}
				if tt.name == "malformed" && (res.err != nil || !strings.HasPrefix(string(res.body), "{")) {
					t.Errorf("%s: error %v, body %q: want a complete body that starts like JSON", path, res.err, res.body)
				}
			}
			for _, u := range Upstreams() {
				got := ts.Stats()[u]
				faults := got.Faults.Malformed
				if tt.name == "truncated" {
					faults = got.Faults.Truncated
				}
				if got.Requests == 0 || faults != got.Requests {
					t.Errorf("%s stats %+v", u, got)
				}
			}
		})
	}
}

func TestErrorsOnlyReplaceAnswers(t *testing.T) {
	// A fault that would spoil a 200 leaves the upstream's own refusals alone.
	ts := newTestServer(t, Config{OpenAIKey: "right", Faults: map[Upstream]Fault{OpenAI: {MalformedRate: 1}}})
	res := ts.do(context.Background(), t, http.MethodPost, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, map[string]string{"Authorization": "Bearer wrong"})
	var body map[string]any
	decodeJSON(t, res.body, &body)
	if got := ts.Stats()[OpenAI]; res.status != http.StatusUnauthorized || got.Rejected != 1 || got.Faults.Malformed != 0 {
		t.Errorf("status %d, stats %+v", res.status, got)
	}
}
