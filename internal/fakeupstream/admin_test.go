package fakeupstream

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testsr24"
)

func TestAdminFaults(t *testing.T) {
	ts := newTestServer(t, Config{Seed: 3})
	post := func(t *testing.T, body string) httpResult {
		t.Helper()
		return ts.do(context.Background(), t, http.MethodPost, "/admin/faults", body, map[string]string{"Content-Type": "application/json"})
	}

	t.Run("GET shows every upstream healthy", func(t *testing.T) {
		res := ts.get(t, "/admin/faults")
		var got faultSettings
		decodeJSON(t, res.body, &got)
		if res.status != 200 || got != (faultSettings{Seed: 3}) {
			t.Errorf("status %d body %s", res.status, res.body)
		}
		for _, field := range []string{`"seed":3`, `"openai":{`, `"anthropic":{`, `"usda":{`, `"web":{`, `"error_rate":0`, `"latency":"0s"`, `"outage":""`} {
			if !strings.Contains(string(res.body), field) {
				t.Errorf("GET /admin/faults %s lacks %s", res.body, field)
			}
		}
	})

	t.Run("POST sets faults and the seed", func(t *testing.T) {
		res := post(t, `{"seed":42,"openai":{"error_rate":0.5,"error_status":429,"retry_after":"2s"},"usda":{"latency":"150ms","jitter":"50ms","outage":"reset"}}`)
		if res.status != 200 {
			t.Fatalf("status %d body %s", res.status, res.body)
		}
		want := faultSettings{
			Seed:   42,
			OpenAI: Fault{ErrorRate: 0.5, ErrorStatus: 429, RetryAfter: 2 * time.Second},
			USDA:   Fault{Latency: 150 * time.Millisecond, Jitter: 50 * time.Millisecond, Outage: OutageReset},
		}
		var echoed faultSettings
		decodeJSON(t, res.body, &echoed)
		if echoed != want || ts.settings() != want || ts.Seed() != 42 {
			t.Errorf("answer %+v, settings %+v, want %+v", echoed, ts.settings(), want)
		}
	})

	t.Run("POST of one upstream keeps the others", func(t *testing.T) {
		if res := post(t, `{"web":{"hang_rate":0.25}}`); res.status != 200 {
			t.Fatalf("status %d body %s", res.status, res.body)
		}
		if ts.Fault(Web).HangRate != 0.25 || ts.Fault(OpenAI).ErrorRate != 0.5 || ts.Seed() != 42 {
			t.Errorf("settings %+v", ts.settings())
		}
	})

	bad := []struct {
		name, body, wantErr string
	}{
		{"not JSON", `{"openai":`, "fakeupstream: faults: not valid JSON"},
		{"empty body", ``, "empty body"},
		{"an array", `[]`, "want a JSON object"},
		{"null", `null`, "want a JSON object"},
		{"two values", `{} {}`, "more than one JSON value"},
		{"unknown upstream", `{"gemini":{"error_rate":1}}`, `unknown field "gemini"`},
		{"unknown fault field", `{"openai":{"erro_rate":1}}`, "openai.erro_rate: unknown field"},
		{"rate out of range", `{"anthropic":{"error_rate":2}}`, "anthropic.error_rate: 2 is not between 0 and 1"},
		{"rate as a string", `{"web":{"error_rate":"0.5"}}`, "web.error_rate: want a number"},
		{"bad status", `{"usda":{"error_status":302}}`, "usda.error_status: 302"},
		{"bad duration", `{"usda":{"latency":"fast"}}`, `usda.latency: "fast" is not a duration`},
		{"negative duration", `{"usda":{"latency":"-1s"}}`, "usda.latency: -1s is negative"},
		{"fault not an object", `{"openai":5}`, "openai: want a JSON object"},
		{"negative seed", `{"seed":-1}`, "seed: want an integer"},
		{"reset not a bool", `{"reset":"yes"}`, "reset: want true or false"},
		{"a valid and an invalid upstream", `{"openai":{},"usda":{"error_rate":7}}`, "usda.error_rate"},
	}
	for _, tt := range bad {
		t.Run("400: "+tt.name, func(t *testing.T) {
			before := ts.settings()
			res := post(t, tt.body)
			var body struct {
				Error string `json:"error"`
			}
			decodeJSON(t, res.body, &body)
			if res.status != http.StatusBadRequest || !strings.Contains(body.Error, tt.wantErr) {
				t.Errorf("status %d error %q, want 400 with %q", res.status, body.Error, tt.wantErr)
			}
			if after := ts.settings(); after != before {
				t.Errorf("a rejected update changed the settings from %+v to %+v", before, after)
			}
		})
	}

	t.Run("reset, then set", func(t *testing.T) {
		res := post(t, `{"reset":true,"anthropic":{"error_rate":1}}`)
		want := faultSettings{Seed: 42, Anthropic: Fault{ErrorRate: 1}}
		if res.status != 200 || ts.settings() != want {
			t.Errorf("status %d, settings %+v, want %+v", res.status, ts.settings(), want)
		}
	})

	t.Run("DELETE heals everything", func(t *testing.T) {
		res := ts.do(context.Background(), t, http.MethodDelete, "/admin/faults", "", nil)
		if res.status != 200 || ts.settings() != (faultSettings{Seed: 42}) {
			t.Errorf("status %d, settings %+v", res.status, ts.settings())
		}
	})

	t.Run("wrong method", func(t *testing.T) {
		if res := ts.do(context.Background(), t, http.MethodPut, "/admin/faults", "{}", nil); res.status != http.StatusMethodNotAllowed {
			t.Errorf("PUT status %d, want 405", res.status)
		}
	})
}

func TestSetFaultRejectsInvalidFaults(t *testing.T) {
	ts := newTestServer(t, Config{})
	if err := ts.SetFault(OpenAI, Fault{ErrorRate: -1}); err == nil || !strings.Contains(err.Error(), "openai.error_rate") {
		t.Errorf("SetFault error %v", err)
	}
	if err := ts.SetFault(Upstream("nope"), Fault{}); err == nil || !strings.Contains(err.Error(), `unknown upstream "nope"`) {
		t.Errorf("SetFault error %v", err)
	}
	if err := ts.Apply(FaultUpdate{Faults: map[Upstream]Fault{OpenAI: {ErrorRate: 1}, USDA: {HangRate: 3}}}); err == nil || ts.Fault(OpenAI) != (Fault{}) {
		t.Errorf("Apply error %v, OpenAI fault %+v", err, ts.Fault(OpenAI))
	}
	if got := ts.Fault(Upstream("nope")); got != (Fault{}) {
		t.Errorf("Fault of an unknown upstream %+v", got)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	data, _ := testsr24.Load()
	for _, tt := range []struct {
		name    string
		faults  map[Upstream]Fault
		wantErr string
	}{
		{"bad rate", map[Upstream]Fault{USDA: {ErrorRate: 1.1}}, "usda.error_rate"},
		{"unknown upstream", map[Upstream]Fault{"bard": {}}, `unknown upstream "bard"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Data: data, Faults: tt.faults})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	ts := newTestServer(t, Config{Faults: map[Upstream]Fault{OpenAI: {Outage: OutageReset}}})
	res := ts.get(t, "/healthz")
	if res.status != 200 || string(res.body) != `{"status":"ok"}` {
		t.Errorf("status %d body %s", res.status, res.body)
	}
}
