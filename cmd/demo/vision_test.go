package main

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/healthagent/resilience/internal/fakeupstream"
	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/metrics"
)

func TestParseMeal(t *testing.T) {
	tests := []struct {
		answer string
		items  int
		ok     bool
	}{
		{`{"items":[{"name":"rice","grams":200}]}`, 1, true},
		{"Here you go:\n```json\n{\"items\":[{\"name\":\"egg\",\"grams\":50},{\"name\":\" apple \",\"grams\":180}]}\n```", 2, true},
		{`{"items":[]}`, 0, true}, // no food: an answer
		{`no json at all`, 0, false},
		{`{}`, 0, false},
		{`{"items":null}`, 0, false},
		{`{"foods":[{"name":"rice","grams":200}]}`, 0, false},
		{`{"items":[{"name":"","grams":10}]}`, 0, false},
		{`{"items":[{"name":"rice","grams":-5}]}`, 0, false},
		{`{"items":[{"name":"rice","grams":1e9}]}`, 0, false},
		{`{"items":[{"name":"rice","grams":"lots"}]}`, 0, false},
		{`}{`, 0, false},
		{`{"items":[{"name":"rice","grams":100}]`, 0, false},
	}
	for _, tt := range tests {
		items, err := parseMeal(tt.answer)
		if (err == nil) != tt.ok || len(items) != tt.items {
			t.Errorf("parseMeal(%q) = %v, %v; want %d items, ok=%v", tt.answer, items, err, tt.items, tt.ok)
		}
		if err != nil && !chain.IsBadResponse(err) {
			t.Errorf("parseMeal(%q): %v is not a bad answer: the model's breaker would not count it", tt.answer, err)
		}
	}
}

// FuzzParseMeal: no model answer panics the meal parser; an accepted one
// holds at most 20 foods with names and sane weights, and a refused one is
// a bad answer.
func FuzzParseMeal(f *testing.F) {
	f.Add(`{"items":[{"name":"rice","grams":200}]}`)
	f.Add("```json\n{\"items\":[{\"name\":\"egg\",\"grams\":50}]}\n```")
	f.Add(`{"items":[{"name":"x","grams":1e400}]}`)
	f.Add(`{"items":[]}`)
	f.Fuzz(func(t *testing.T, answer string) {
		items, err := parseMeal(answer)
		if err != nil {
			if !chain.IsBadResponse(err) {
				t.Fatalf("%v from %q is not a bad answer", err, answer)
			}
			return
		}
		if len(items) > 20 {
			t.Fatalf("%d items from %q", len(items), answer)
		}
		for _, it := range items {
			if it.Name == "" || !(it.Grams > 0 && it.Grams <= 5000) {
				t.Fatalf("item %+v from %q", it, answer)
			}
		}
	})
}

// fallbackCounts returns the fallback_executions_total series of every
// chain of s that are not zero.
func fallbackCounts(s *service) map[string]float64 {
	out := map[string]float64{}
	for _, steps := range s.chainSteps() {
		for _, step := range steps[1:] {
			for _, status := range []string{metrics.FallbackSuccess, metrics.FallbackFailure, metrics.FallbackNotFound} {
				if v := testutil.ToFloat64(s.metrics.Fallbacks.ExecutionsCounter(steps[0], step, status)); v != 0 {
					out[steps[0]+"->"+step+"/"+status] = v
				}
			}
		}
	}
	return out
}

// failureCounts returns the api_failures_total series of s that are not
// zero.
func failureCounts(s *service) map[string]float64 {
	out := map[string]float64{}
	for _, api := range upstreamNames() {
		for _, typ := range chain.ErrorTypes() {
			if v := testutil.ToFloat64(s.metrics.APIs.FailuresCounter(api, typ)); v != 0 {
				out[api+"/"+typ] = v
			}
		}
	}
	return out
}

// A caption in which the model finds no food is answered by the model:
// the reply says no food was recognised, no fallback runs, nothing counts
// as a failure, and the model's breaker sees a success.
func TestNoFoodIsTheModelsAnswer(t *testing.T) {
	s, fake, _ := newModelService(t, map[string]string{"API_RETRY_MAX": "0"})
	h := s.apiHandler()
	captions := []string{"hello there", "lol", "a plate of zxqv wobblefruit"}
	for _, caption := range captions {
		code, ans, raw := postMeal(t, h, caption)
		if code != http.StatusOK || ans.Vision.ServedBy != "openai" || !ans.Vision.NoFood || ans.Vision.Estimated ||
			ans.Degraded || len(ans.Items) != 0 || len(ans.Unknown) != 0 || ans.Complete {
			t.Errorf("%q: %d %v; want no food, served by openai, not degraded, nothing unknown", caption, code, raw)
		}
	}
	if got := fake.Stats()[fakeupstream.Anthropic].Requests; got != 0 {
		t.Errorf("anthropic was asked %d times: the chain fell back", got)
	}
	if got := fallbackCounts(s); len(got) != 0 {
		t.Errorf("fallback_executions_total: %v, want none", got)
	}
	if got := failureCounts(s); len(got) != 0 {
		t.Errorf("api_failures_total: %v, want none", got)
	}
	if got := testutil.ToFloat64(s.metrics.Breakers.CallsCounter("openai", "success")); got != float64(len(captions)) {
		t.Errorf("openai breaker: %v successes, want %d", got, len(captions))
	}
	// A caption the model reads foods from is no "no food".
	if _, ans, _ := postMeal(t, h, "150 g chicken breast"); ans.Vision.NoFood || len(ans.Items) != 1 || !ans.Complete {
		t.Errorf("150 g chicken breast: %+v", ans)
	}
}

// proseFrom answers POST /v1/chat/completions with a 200 whose message is
// prose, not the meal JSON asked for; everything else passes to next.
func proseFrom(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
			if choices, ok := body["choices"].([]any); ok && len(choices) > 0 {
				choices[0].(map[string]any)["message"].(map[string]any)["content"] = "Sure! That looks like a nice plate of chicken."
			}
		}
		out, _ := json.Marshal(body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		_, _ = io.Copy(w, bytes.NewReader(out))
	})
}

// A model that answers 200 with something that is not a meal fails: its
// breaker and api_failures_total{error_type="bad_response"} count it, and
// the other model serves, as a fallback. So does a body that is not JSON.
func TestABadModelAnswerIsAFailureAndFallsBack(t *testing.T) {
	check := func(t *testing.T, s *service, n int) {
		t.Helper()
		h := s.apiHandler()
		for range n {
			code, ans, raw := postMeal(t, h, "150 g chicken breast")
			if code != http.StatusOK || ans.Vision.ServedBy != "anthropic" || !ans.Degraded || ans.Vision.NoFood || len(ans.Items) != 1 {
				t.Fatalf("%d %v; want the meal read by anthropic, degraded", code, raw)
			}
		}
		want := map[string]float64{"openai/bad_response": float64(n)}
		if got := failureCounts(s); !maps.Equal(got, want) {
			t.Errorf("api_failures_total: %v, want %v", got, want)
		}
		want = map[string]float64{"openai->anthropic/success": float64(n)}
		if got := fallbackCounts(s); !maps.Equal(got, want) {
			t.Errorf("fallback_executions_total: %v, want %v", got, want)
		}
		if got := testutil.ToFloat64(s.metrics.Breakers.CallsCounter("openai", "failure")); got != float64(n) {
			t.Errorf("openai breaker: %v failures, want %d", got, n)
		}
	}
	t.Run("prose in the message", func(t *testing.T) {
		s, _, _ := newModelServiceBehind(t, map[string]string{"API_RETRY_MAX": "0"}, proseFrom)
		check(t, s, 3)
	})
	t.Run("a body that is not JSON", func(t *testing.T) {
		s, fake, _ := newModelService(t, map[string]string{"API_RETRY_MAX": "0"})
		if err := fake.SetFault(fakeupstream.OpenAI, fakeupstream.Fault{MalformedRate: 1}); err != nil {
			t.Fatal(err)
		}
		check(t, s, 3)
	})
}
