package dbreaker

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/healthagent/resilience/pkg/config"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.resolved()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		FailureThreshold: 5, SlowCallDuration: 5 * time.Second, MinimumCalls: 20, Window: time.Minute,
		WindowBuckets: 10, OpenTimeout: time.Minute, OpenTimeoutGrowth: 1, MaxOpenTimeout: 10 * time.Minute,
		HalfOpenMaxProbes: 1, SuccessThreshold: 1, ProbeLease: 30 * time.Second, StoreTimeout: 50 * time.Millisecond,
	}
	c.Classify = nil
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
	p := Config{FailureThreshold: Off, FailureRate: 0.5}
	if got, err := p.resolved(); err != nil || got.policy().FailureThreshold != 0 {
		t.Fatalf("Off: %+v, %v", got.policy(), err)
	}
}

func TestConfigRejectsInvalidFields(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"negative threshold", Config{FailureThreshold: -2}, "FailureThreshold"},
		{"rate above one", Config{FailureRate: 1.5}, "FailureRate"},
		{"negative rate", Config{FailureRate: -0.1}, "FailureRate"},
		{"NaN rate", Config{FailureRate: math.NaN()}, "FailureRate"},
		{"slow rate above one", Config{SlowCallRate: 2}, "SlowCallRate"},
		{"negative slow duration", Config{SlowCallDuration: -time.Second}, "SlowCallDuration"},
		{"sub-millisecond open timeout", Config{OpenTimeout: time.Microsecond}, "OpenTimeout"},
		{"negative open timeout", Config{OpenTimeout: -time.Second}, "OpenTimeout"},
		{"huge open timeout", Config{OpenTimeout: 10 * 365 * 24 * time.Hour}, "OpenTimeout"},
		{"growth below one", Config{OpenTimeoutGrowth: 0.5}, "OpenTimeoutGrowth"},
		{"infinite growth", Config{OpenTimeoutGrowth: math.Inf(1)}, "OpenTimeoutGrowth"},
		{"max below open timeout", Config{OpenTimeout: time.Minute, MaxOpenTimeout: time.Second}, "MaxOpenTimeout"},
		{"negative probes", Config{HalfOpenMaxProbes: -1}, "HalfOpenMaxProbes"},
		{"too many probes", Config{HalfOpenMaxProbes: 5000}, "HalfOpenMaxProbes"},
		{"negative success threshold", Config{SuccessThreshold: -3}, "SuccessThreshold"},
		{"negative lease", Config{ProbeLease: -time.Second}, "ProbeLease"},
		{"too many buckets", Config{WindowBuckets: 1000}, "WindowBuckets"},
		{"window shorter than its buckets", Config{Window: 5 * time.Millisecond, WindowBuckets: 10}, "Window"},
		{"negative minimum calls", Config{MinimumCalls: -1}, "MinimumCalls"},
		{"negative store timeout", Config{StoreTimeout: -1}, "StoreTimeout"},
		{"no policy left", Config{FailureThreshold: Off}, "FailureThreshold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New("b", memStore(t), tt.cfg)
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("New: err = %v, want a *config.Error", err)
			}
			if ce.Field != tt.field || !strings.Contains(err.Error(), tt.field) || !strings.HasPrefix(err.Error(), "dbreaker: ") {
				t.Fatalf("err = %q (field %q), want field %q", err, ce.Field, tt.field)
			}
		})
	}
}

func TestOpenTimeoutGrowth(t *testing.T) {
	c, err := Config{OpenTimeout: time.Second, OpenTimeoutGrowth: 1.5, MaxOpenTimeout: 3 * time.Second}.resolved()
	if err != nil {
		t.Fatal(err)
	}
	p := c.policy()
	for trips, want := range map[int64]time.Duration{1: time.Second, 2: 1500 * time.Millisecond, 3: 2250 * time.Millisecond, 4: 3 * time.Second, 40: 3 * time.Second} {
		if got := p.openTimeout(trips); got != want {
			t.Errorf("openTimeout(%d) = %v, want %v", trips, got, want)
		}
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"openai", true},
		{"usda.fdc:search_v1-2", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"open{ai}", false},
		{"a}b", false},
		{"with space", false},
		{"naïve", false},
		{"new\nline", false},
		{"*", false},
		{"a\x00b", false},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "dbreaker: invalid breaker name") {
			t.Errorf("error %q does not say what was wrong", err)
		}
		if _, nerr := New(tt.name, memStore(t), Config{}); (nerr == nil) != tt.ok {
			t.Errorf("New(%q) = %v, want ok=%v", tt.name, nerr, tt.ok)
		}
	}
}
