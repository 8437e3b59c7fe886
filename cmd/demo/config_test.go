package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestConfigDefaults(t *testing.T) {
	c, err := loadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.BreakersEnabled || c.FailureThreshold != 5 || c.OpenTimeout != time.Minute || c.RetryMax != 3 ||
		c.RetryBaseDelay != time.Second || c.VisionPrimary != "openai" || c.VisionFallback != "anthropic" ||
		c.Addr != ":8080" || c.MetricsAddr != ":9090" || c.Consistency != "strict" || !c.fakeUpstreams() {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigReadsThePlansNames(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{
		"CIRCUIT_BREAKER_ENABLED": "false", "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "7", "CIRCUIT_BREAKER_TIMEOUT": "90",
		"API_RETRY_MAX": "0", "API_RETRY_BASE_DELAY": "250ms", "VISION_MODEL_PRIMARY": "anthropic",
		"METRICS_PORT": "9100", "REDIS_URL": "rediss://u:p@redis:6380/1", "DATABASE_URL": "postgres://db/x",
		"OPENAI_API_KEY": "sk-x", "CIRCUIT_BREAKER_MODE": "FAST",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BreakersEnabled || c.FailureThreshold != 7 || c.OpenTimeout != 90*time.Second || c.RetryMax != 0 ||
		c.RetryBaseDelay != 250*time.Millisecond || c.VisionPrimary != "anthropic" || c.VisionFallback != "openai" ||
		c.MetricsAddr != ":9100" || c.Consistency != "fast" || c.fakeUpstreams() {
		t.Fatalf("config: %+v", c)
	}
}

func TestConfigNamesTheBadVariable(t *testing.T) {
	tests := []struct{ name, value string }{
		{"CIRCUIT_BREAKER_ENABLED", "maybe"},
		{"CIRCUIT_BREAKER_FAILURE_THRESHOLD", "0"},
		{"CIRCUIT_BREAKER_FAILURE_THRESHOLD", "five"},
		{"CIRCUIT_BREAKER_FAILURE_THRESHOLD", "99999999999999999999"},
		{"CIRCUIT_BREAKER_TIMEOUT", "-5"},
		{"CIRCUIT_BREAKER_TIMEOUT", "forever"},
		{"CIRCUIT_BREAKER_TIMEOUT", "NaN"},
		{"CIRCUIT_BREAKER_TIMEOUT", "1e400"},
		{"CIRCUIT_BREAKER_TIMEOUT", "10ms"},
		{"CIRCUIT_BREAKER_MODE", "eventual"},
		{"API_RETRY_MAX", "-1"},
		{"API_RETRY_MAX", "11"},
		{"API_RETRY_BASE_DELAY", "2h"},
		{"VISION_MODEL_PRIMARY", "gemini"},
		{"VISION_MODEL_FALLBACK", "openai"}, // the same as the default primary
		{"METRICS_PORT", "70000"},
		{"METRICS_PORT", "8080"}, // PORT's default
		{"PORT", "http"},
		{"REDIS_URL", "localhost:6379"},
		{"REDIS_URL", "http://redis:6379"},
		{"DATABASE_URL", "mysql://db/x"},
		{"OPENAI_BASE_URL", "ftp://x"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := loadConfig(envOf(map[string]string{tt.name: tt.value}))
			var ee *envError
			if !errors.As(err, &ee) || ee.Name != tt.name {
				t.Fatalf("err = %v, want one naming %s", err, tt.name)
			}
			if !strings.Contains(err.Error(), tt.name) || !strings.Contains(err.Error(), "want") {
				t.Fatalf("message %q does not say what was wrong", err)
			}
		})
	}
}

func TestConfigErrorsHidePasswords(t *testing.T) {
	_, err := loadConfig(envOf(map[string]string{"DATABASE_URL": "mysql://user:hunter2@db/x"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
}

// FuzzLoadConfig: no environment makes loading panic, and an accepted one
// is within bounds.
func FuzzLoadConfig(f *testing.F) {
	f.Add("CIRCUIT_BREAKER_TIMEOUT", "60", "API_RETRY_BASE_DELAY", "1s")
	f.Add("CIRCUIT_BREAKER_FAILURE_THRESHOLD", "5", "REDIS_URL", "redis://x:1")
	f.Add("METRICS_PORT", "9090", "VISION_MODEL_FALLBACK", "none")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		c, err := loadConfig(envOf(map[string]string{k1: v1, k2: v2}))
		if err != nil {
			return
		}
		if c.FailureThreshold < 1 || c.OpenTimeout < 100*time.Millisecond || c.RetryMax < 0 || c.RetryBaseDelay <= 0 {
			t.Fatalf("accepted out-of-range config %+v", c)
		}
	})
}
