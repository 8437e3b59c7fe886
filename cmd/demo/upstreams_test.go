package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/healthagent/resilience/internal/fakeupstream"
)

// UPSTREAMS=real without the keys stops start-up, naming what is missing:
// a deployment that lost its secrets never serves invented answers.
func TestRealUpstreamsWithoutKeysRefuseToStart(t *testing.T) {
	for _, env := range []map[string]string{
		{"UPSTREAMS": "real"},
		{"UPSTREAMS": "real", "OPENAI_API_KEY": "sk-x", "USDA_BASE_URL": "http://usda.internal"},
		{"OPENAI_API_KEY": "sk-x"}, // auto, with some secrets lost
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), nil, envOf(env), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "UPSTREAMS") || !strings.Contains(stderr.String(), "missing: ") ||
			!strings.Contains(stderr.String(), "ANTHROPIC_API_KEY") {
			t.Errorf("env %v: exit %d, stderr %q; want 2 and a message naming UPSTREAMS and the missing keys", env, code, stderr.String())
		}
	}
}

// get answers GET path on h, decoded.
func get(t *testing.T, h http.Handler, path string) map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var out map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
	return out
}

// Every answer of a replica on its in-process fakes says "simulated": true,
// as do /readyz and a gauge; a replica on configured upstreams says false.
func TestSimulatedAnswersSaySo(t *testing.T) {
	fake, err := fakeupstream.New(fakeupstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	upstream := startFake(t, fake)
	ep := fakeupstream.EndpointsAt(upstream)
	real := map[string]string{"UPSTREAMS": "real",
		"OPENAI_BASE_URL": ep.OpenAI, "OPENAI_API_KEY": "k", "ANTHROPIC_BASE_URL": ep.Anthropic, "ANTHROPIC_API_KEY": "k",
		"USDA_BASE_URL": upstream, "USDA_API_KEY": "k", "WEB_SEARCH_URL": ep.Web}
	for _, tt := range []struct {
		name      string
		env       map[string]string
		simulated bool
	}{
		{"nothing configured", nil, true},
		{"UPSTREAMS=fake", map[string]string{"UPSTREAMS": "fake"}, true},
		{"UPSTREAMS=real", real, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestService(t, tt.env)
			h := s.apiHandler()
			for _, req := range [][2]string{
				{"/v1/meals", `{"caption":"150 g chicken breast"}`},
				{"/v1/chat", `{"message":"How much protein is in an egg?"}`},
			} {
				rec, out := post(t, h, req[0], req[1])
				if rec.Code != http.StatusOK || out["simulated"] != tt.simulated {
					t.Errorf("%s: %d %s; want \"simulated\": %v", req[0], rec.Code, rec.Body.String(), tt.simulated)
				}
			}
			if out := get(t, h, "/readyz"); out["simulated_upstreams"] != tt.simulated {
				t.Errorf("/readyz %v: want simulated_upstreams %v", out, tt.simulated)
			}
			want := 0.0
			if tt.simulated {
				want = 1
			}
			if got := gaugeValue(t, s, "health_agent_simulated_upstreams", ""); got != want {
				t.Errorf("health_agent_simulated_upstreams = %v, want %v", got, want)
			}
		})
	}
}

// A replica whose breakers CIRCUIT_BREAKER_ENABLED switched off has no
// circuit_breaker_state series for an alert to read; a gauge says so.
func TestBreakersSwitchedOffShowInAGauge(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  float64
	}{{"true", 1}, {"false", 0}} {
		t.Run("CIRCUIT_BREAKER_ENABLED="+tt.value, func(t *testing.T) {
			s := newTestService(t, map[string]string{"CIRCUIT_BREAKER_ENABLED": tt.value})
			if got := gaugeValue(t, s, "health_agent_breakers_enabled", ""); got != tt.want {
				t.Errorf("health_agent_breakers_enabled = %v, want %v", got, tt.want)
			}
			states := 0
			mfs, err := s.registry.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				if mf.GetName() == "circuit_breaker_state" {
					states += len(mf.GetMetric())
				}
			}
			if (states > 0) != (tt.want == 1) {
				t.Errorf("%d circuit_breaker_state series with breakers enabled=%s", states, tt.value)
			}
		})
	}
}

// gaugeValue reads one gauge of the replica's registry; component, when
// not empty, selects health_agent_degraded's label.
func gaugeValue(t *testing.T, s *service, name, component string) float64 {
	t.Helper()
	mfs, err := s.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
				return l.GetName() == "component" && l.GetValue() != component
			}) {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no %s{component=%q}", name, component)
	return 0
}

// The plan's settings with real keys and no WEB_SEARCH_URL start a replica
// whose nutrition chain has no web step; provider:model picks the vision
// model apart from the text model.
func TestRealKeysWithoutWebSearchStart(t *testing.T) {
	fake, err := fakeupstream.New(fakeupstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	upstream := startFake(t, fake)
	ep := fakeupstream.EndpointsAt(upstream)
	s := newTestService(t, map[string]string{
		"VISION_MODEL_PRIMARY": "openai:gpt-4o", "VISION_MODEL_FALLBACK": "anthropic",
		"OPENAI_BASE_URL": ep.OpenAI, "OPENAI_API_KEY": "k", "ANTHROPIC_BASE_URL": ep.Anthropic, "ANTHROPIC_API_KEY": "k",
		"USDA_BASE_URL": upstream, "USDA_API_KEY": "k",
	})
	for _, steps := range s.chainSteps() {
		if slices.Contains(steps, "web") {
			t.Errorf("chain %v has a web step without WEB_SEARCH_URL", steps)
		}
	}
	if _, split := s.providers["openai"].(visionAndText); !split {
		t.Error("openai reads meals with OPENAI_MODEL, not the model of VISION_MODEL_PRIMARY")
	}
	if _, split := s.providers["anthropic"].(visionAndText); split {
		t.Error("anthropic has a vision model of its own, but VISION_MODEL_FALLBACK named none")
	}
	rec, out := post(t, s.apiHandler(), "/v1/meals", `{"caption":"150 g chicken breast"}`)
	if rec.Code != http.StatusOK || out["simulated"] != false {
		t.Fatalf("meal: %d %s", rec.Code, rec.Body.String())
	}
}

// /readyz answers 200 while degraded, and says what is degraded, as
// health_agent_degraded does.
func TestReadyzSaysWhatIsDegraded(t *testing.T) {
	s := newTestService(t, nil) // no PostgreSQL: no nutrition cache
	out := get(t, s.apiHandler(), "/readyz")
	if out["status"] != "degraded" || !slices.Contains(anyStrings(out["degraded"]), degradedNutritionCache) {
		t.Fatalf("/readyz without PostgreSQL: %v", out)
	}
	if got := gaugeValue(t, s, "health_agent_degraded", degradedNutritionCache); got != 1 {
		t.Errorf("health_agent_degraded{component=nutrition_cache} = %v, want 1", got)
	}
	if got := gaugeValue(t, s, "health_agent_degraded", degradedBreakerStore); got != 0 {
		t.Errorf("health_agent_degraded{component=breaker_store} = %v, want 0 (breakers in memory)", got)
	}
}

func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// Every fallback series exists from start-up: running every fallback of
// every chain adds none.
func TestEveryFallbackSeriesExistsFromStartUp(t *testing.T) {
	s := newTestService(t, map[string]string{"API_RETRY_MAX": "0"})
	h := s.apiHandler()
	count := func() int { return testutil.CollectAndCount(s.metrics.Fallbacks) }
	before := count()
	if before == 0 {
		t.Fatal("no fallback series at start-up")
	}
	jpeg := append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte("meal"), 100)...) // a JPEG header, as the API checks
	photo := `{"photo_base64":"` + base64.StdEncoding.EncodeToString(jpeg) + `","media_type":"image/jpeg"}`
	for _, faults := range []map[fakeupstream.Upstream]fakeupstream.Fault{
		{fakeupstream.Anthropic: {Outage: fakeupstream.OutageError}},
		{fakeupstream.Anthropic: {Outage: fakeupstream.OutageError}, fakeupstream.OpenAI: {Outage: fakeupstream.OutageError}},
		{fakeupstream.OpenAI: {Outage: fakeupstream.OutageError}, fakeupstream.USDA: {Outage: fakeupstream.OutageError}},
		{fakeupstream.USDA: {Outage: fakeupstream.OutageError}, fakeupstream.Web: {Outage: fakeupstream.OutageError}},
	} {
		s.fake.ResetFaults()
		for u, f := range faults {
			if err := s.fake.SetFault(u, f); err != nil {
				t.Fatal(err)
			}
		}
		for _, req := range [][2]string{
			{"/v1/chat", `{"message":"How much protein is in an egg?"}`},
			{"/v1/chat", `{"message":"A question never asked before"}`},
			{"/v1/meals", photo},
			{"/v1/meals", `{"caption":"150 g chicken breast"}`},
			{"/v1/meals", `{"caption":"a plate of zxqv wobblefruit"}`},
		} {
			if rec, _ := post(t, h, req[0], req[1]); rec.Code != http.StatusOK {
				t.Fatalf("%s %s: %d %s", req[0], req[1], rec.Code, rec.Body.String())
			}
		}
	}
	served := 0.0
	for _, steps := range s.chainSteps() {
		for _, step := range steps[1:] {
			served += testutil.ToFloat64(s.metrics.Fallbacks.ExecutionsCounter(steps[0], step, "success"))
		}
	}
	if served < 5 {
		t.Fatalf("only %v answers served by fallbacks: the faults did not exercise the chains", served)
	}
	if after := count(); after != before {
		t.Errorf("%d fallback series after every fallback ran, %d at start-up: chainSteps misses a step", after, before)
	}
}
