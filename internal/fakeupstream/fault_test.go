package fakeupstream

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestFaultValidate(t *testing.T) {
	tests := []struct {
		name     string
		upstream Upstream
		fault    Fault
		wantErr  string // "" for valid
	}{
		{"zero value", OpenAI, Fault{}, ""},
		{"everything at once", Anthropic, Fault{Latency: time.Second, Jitter: time.Second, ErrorRate: 0.2, ErrorStatus: 529, RetryAfter: 2 * time.Second, HangRate: 0.2, ResetRate: 0.2, MalformedRate: 0.2, TruncatedRate: 0.2}, ""},
		{"openai error code", OpenAI, Fault{ErrorRate: 1, ErrorStatus: 429, ErrorCode: "insufficient_quota"}, ""},
		{"outage reset", USDA, Fault{Outage: OutageReset}, ""},
		{"unknown upstream", Upstream("gemini"), Fault{}, `unknown upstream "gemini"`},
		{"rate above 1", OpenAI, Fault{ErrorRate: 1.5}, "openai.error_rate: 1.5 is not between 0 and 1"},
		{"negative rate", Web, Fault{HangRate: -0.1}, "web.hang_rate: -0.1 is not between 0 and 1"},
		{"NaN rate", USDA, Fault{MalformedRate: math.NaN()}, "usda.malformed_rate: NaN"},
		{"rates above 1 together", OpenAI, Fault{ErrorRate: 0.6, TruncatedRate: 0.6}, "more than 1"},
		{"status 200", OpenAI, Fault{ErrorStatus: 200}, "openai.error_status: 200 is not an HTTP error status"},
		{"status 600", Anthropic, Fault{ErrorStatus: 600}, "anthropic.error_status: 600"},
		{"negative latency", USDA, Fault{Latency: -time.Second}, "usda.latency: -1s is negative"},
		{"negative retry-after", OpenAI, Fault{RetryAfter: -time.Second}, "openai.retry_after"},
		{"error code on anthropic", Anthropic, Fault{ErrorCode: "x"}, "anthropic.error_code: only OpenAI errors carry a code"},
		{"odd error code", OpenAI, Fault{ErrorCode: "Bad Code!"}, "openai.error_code"},
		{"unknown outage", Web, Fault{Outage: "down"}, `web.outage: "down" is not one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.fault.Validate(tt.upstream)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "fakeupstream: ") {
				t.Fatalf("Validate error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFaultDecide(t *testing.T) {
	f := Fault{ErrorRate: 0.1, HangRate: 0.2, ResetRate: 0.1, MalformedRate: 0.1, TruncatedRate: 0.1}
	tests := []struct {
		draw float64
		want faultKind
	}{
		{0, kindError}, {0.099, kindError}, {0.101, kindHang}, {0.299, kindHang},
		{0.301, kindReset}, {0.401, kindMalformed}, {0.501, kindTruncated}, {0.601, kindNone}, {0.999, kindNone},
	}
	for _, tt := range tests {
		if got := f.decide(tt.draw); got != tt.want {
			t.Errorf("decide(%v) = %d, want %d", tt.draw, got, tt.want)
		}
	}
	for _, outage := range []struct {
		mode OutageMode
		want faultKind
	}{{OutageError, kindError}, {OutageReset, kindReset}} {
		g := Fault{Outage: outage.mode}
		for _, draw := range []float64{0, 0.5, 0.999} {
			if got := g.decide(draw); got != outage.want {
				t.Errorf("outage %q: decide(%v) = %d, want %d", outage.mode, draw, got, outage.want)
			}
		}
	}
}

func TestSequenceIsDeterministic(t *testing.T) {
	pattern := func(seed, salt uint64) string {
		s := &sequence{seed: seed, salt: salt}
		var b strings.Builder
		for range 64 {
			if s.draw(s.take(), streamFate) < 0.5 {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	first := pattern(7, 1)
	if again := pattern(7, 1); again != first {
		t.Errorf("seed 7 gave %s, then %s", first, again)
	}
	if other := pattern(8, 1); other == first {
		t.Errorf("seeds 7 and 8 gave the same pattern %s", first)
	}
	if other := pattern(7, 2); other == first {
		t.Errorf("two upstreams with seed 7 gave the same pattern %s", first)
	}
	if n := strings.Count(first, "x"); n < 16 || n > 48 {
		t.Errorf("%d of 64 draws below 0.5: %s", n, first)
	}
}

func TestSequenceDrawsAreUniform(t *testing.T) {
	s := &sequence{seed: 1, salt: 1}
	const n = 20000
	var buckets [10]int
	for i := range uint64(n) {
		d := s.draw(i, streamFate)
		if d < 0 || d >= 1 {
			t.Fatalf("draw %v outside [0, 1)", d)
		}
		buckets[int(d*10)]++
	}
	for i, c := range buckets {
		if c < n/10*85/100 || c > n/10*115/100 {
			t.Errorf("bucket %d has %d of %d draws", i, c, n)
		}
	}
}

func TestFaultJSON(t *testing.T) {
	in := Fault{Latency: 150 * time.Millisecond, Jitter: time.Second, ErrorRate: 0.25, ErrorStatus: 429, ErrorCode: "insufficient_quota", RetryAfter: 2 * time.Second, HangRate: 0.1, ResetRate: 0.05, MalformedRate: 0.05, TruncatedRate: 0.05, Outage: OutageError}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	for _, want := range []string{`"latency":"150ms"`, `"jitter":"1s"`, `"retry_after":"2s"`, `"error_rate":0.25`, `"outage":"error"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %s", data, want)
		}
	}
	var out Fault
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if out != in {
		t.Errorf("round trip gave %+v, want %+v", out, in)
	}

	bad := []struct {
		name, json, wantErr string
	}{
		{"unknown field", `{"erro_rate":0.5}`, "erro_rate: unknown field"},
		{"rate as a string", `{"error_rate":"half"}`, "error_rate: want a number, got a JSON string"},
		{"status as a float", `{"error_status":5.5}`, "error_status: want an integer"},
		{"bad duration", `{"latency":"soon"}`, `latency: "soon" is not a duration`},
		{"duration as a number", `{"latency":150}`, "latency: want a string, got a JSON number"},
		{"not an object", `[1]`, "want a JSON object"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var f Fault
			err := json.Unmarshal([]byte(tt.json), &f)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Unmarshal(%s) error %v, want %q", tt.json, err, tt.wantErr)
			}
		})
	}
}
