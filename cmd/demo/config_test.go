package main

import (
	"errors"
	"os"
	"reflect"
	"strconv"
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
		c.Addr != ":8080" || c.MetricsAddr != ":8000" || c.Consistency != "strict" || c.BreakerStore != "redis" ||
		c.Upstreams != "auto" || !c.Simulated {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigReadsThePlansNames(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{
		"CIRCUIT_BREAKER_ENABLED": "false", "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "7", "CIRCUIT_BREAKER_TIMEOUT": "90",
		"API_RETRY_MAX": "0", "API_RETRY_BASE_DELAY": "250ms", "VISION_MODEL_PRIMARY": "anthropic",
		"METRICS_PORT": "9100", "REDIS_URL": "rediss://u:p@redis:6380/1", "DATABASE_URL": "postgres://db/x",
		"OPENAI_API_KEY": "sk-x", "ANTHROPIC_API_KEY": "sk-ant-x", "USDA_API_KEY": "k", "CIRCUIT_BREAKER_MODE": "FAST",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BreakersEnabled || c.FailureThreshold != 7 || c.OpenTimeout != 90*time.Second || c.RetryMax != 0 ||
		c.RetryBaseDelay != 250*time.Millisecond || c.VisionPrimary != "anthropic" || c.VisionFallback != "openai" ||
		c.MetricsAddr != ":9100" || c.Consistency != "fast" || c.Simulated {
		t.Fatalf("config: %+v", c)
	}
}

// The plan's .env, as written: provider:model, real keys, no web search.
func TestConfigReadsThePlansEnvFile(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{
		"VISION_MODEL_PRIMARY": "openai:gpt-4o-mini", "VISION_MODEL_FALLBACK": "anthropic:claude-3-5-sonnet-latest",
		"OPENAI_API_KEY": "sk-x", "ANTHROPIC_API_KEY": "sk-ant-x", "USDA_API_KEY": "k",
		"CIRCUIT_BREAKER_ENABLED": "true", "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "5", "CIRCUIT_BREAKER_TIMEOUT": "60",
		"API_RETRY_MAX": "3", "API_RETRY_BASE_DELAY": "1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.VisionPrimary != "openai" || c.VisionPrimaryModel != "gpt-4o-mini" ||
		c.VisionFallback != "anthropic" || c.VisionFallbackModel != "claude-3-5-sonnet-latest" ||
		c.MetricsAddr != ":8000" || c.Simulated || c.WebSearchURL != "" {
		t.Fatalf("config: %+v", c)
	}
}

func TestConfigUpstreams(t *testing.T) {
	keys := map[string]string{"OPENAI_API_KEY": "a", "ANTHROPIC_API_KEY": "b", "USDA_API_KEY": "c"}
	with := func(kv map[string]string, more ...string) map[string]string {
		out := map[string]string{}
		for k, v := range kv {
			out[k] = v
		}
		for i := 0; i+1 < len(more); i += 2 {
			out[more[i]] = more[i+1]
		}
		return out
	}
	tests := []struct {
		name      string
		env       map[string]string
		simulated bool
		missing   string // the error names UPSTREAMS and these keys
	}{
		{"auto, nothing set: simulated", nil, true, ""},
		{"auto, every key: real", keys, false, ""},
		{"auto, one key: refused", map[string]string{"OPENAI_API_KEY": "a"}, false, "ANTHROPIC_API_KEY, USDA_API_KEY"},
		{"auto, an URL alone: refused", map[string]string{"USDA_BASE_URL": "http://usda"}, false, "OPENAI_API_KEY, ANTHROPIC_API_KEY, USDA_API_KEY"},
		{"real, every key", with(keys, "UPSTREAMS", "real"), false, ""},
		{"real without keys: refused", map[string]string{"UPSTREAMS": "real"}, false, "OPENAI_API_KEY, ANTHROPIC_API_KEY, USDA_API_KEY"},
		{"real, a blank key: refused", with(keys, "UPSTREAMS", "REAL", "USDA_API_KEY", "  "), false, "USDA_API_KEY"},
		{"fake, nothing set", map[string]string{"UPSTREAMS": "fake"}, true, ""},
		{"fake, with keys", with(keys, "UPSTREAMS", "fake"), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(envOf(tt.env))
			if tt.missing != "" {
				var ee *envError
				if !errors.As(err, &ee) || ee.Name != "UPSTREAMS" || !strings.Contains(err.Error(), "missing: "+tt.missing) {
					t.Fatalf("err = %v, want one naming UPSTREAMS and the missing %s", err, tt.missing)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Simulated != tt.simulated {
				t.Fatalf("Simulated = %v, want %v", c.Simulated, tt.simulated)
			}
		})
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
		{"VISION_MODEL_PRIMARY", "gemini:gemini-pro"},
		{"VISION_MODEL_PRIMARY", "openai:"},
		{"VISION_MODEL_PRIMARY", "openai:gpt 4o"},
		{"VISION_MODEL_PRIMARY", "none"},
		{"VISION_MODEL_FALLBACK", "none:x"},
		{"VISION_MODEL_FALLBACK", "openai:gpt-4o"}, // the default primary's provider
		{"UPSTREAMS", "sometimes"},
		{"UPSTREAMS", "real"}, // without keys
		{"CIRCUIT_BREAKER_STORE", "etcd"},
		{"VISION_MODEL_FALLBACK", "openai"}, // the same as the default primary
		{"METRICS_PORT", "70000"},
		{"METRICS_PORT", "8080"}, // PORT's default
		{"PORT", "http"},
		{"REDIS_URL", "localhost:6379"},
		{"REDIS_URL", "http://redis:6379"},
		{"DATABASE_URL", "mysql://db/x"},
		{"OPENAI_BASE_URL", "ftp://x"},
		{"CONSOLE_TOKEN", "hunter2"}, // too short
		{"CONSOLE_TOKEN", "a token with spaces in it"},
		{"REPLICA_NAME", "demo 1"},
		{"REPLICA_NAME", "{demo}"},
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
	for _, env := range []map[string]string{
		{"DATABASE_URL": "mysql://user:hunter2@db/x"},
		{"CONSOLE_TOKEN": "hunter2"},
	} {
		_, err := loadConfig(envOf(env))
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("err = %v", err)
		}
	}
}

func TestConfigConsole(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{"CONSOLE_TOKEN": "0123456789abcdef", "REPLICA_NAME": "demo1"}))
	if err != nil || c.ConsoleToken != "0123456789abcdef" || c.ReplicaName != "demo1" {
		t.Fatalf("config %+v, %v", c, err)
	}
	c, err = loadConfig(envOf(nil))
	if err != nil || c.ConsoleToken != "" || !strings.HasSuffix(c.ReplicaName, ":"+strconv.Itoa(os.Getpid())) {
		t.Fatalf("defaults: token %q, replica %q, %v", c.ConsoleToken, c.ReplicaName, err)
	}
}

// FuzzLoadConfig: no environment makes loading panic, and an accepted one
// is within bounds.
func FuzzLoadConfig(f *testing.F) {
	f.Add("CIRCUIT_BREAKER_TIMEOUT", "60", "API_RETRY_BASE_DELAY", "1s")
	f.Add("CIRCUIT_BREAKER_FAILURE_THRESHOLD", "5", "REDIS_URL", "redis://x:1")
	f.Add("METRICS_PORT", "9090", "VISION_MODEL_FALLBACK", "none")
	f.Add("VISION_MODEL_PRIMARY", "anthropic:claude-3-5-sonnet-latest", "UPSTREAMS", "fake")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		c, err := loadConfig(envOf(map[string]string{k1: v1, k2: v2}))
		if err != nil {
			return
		}
		if c.FailureThreshold < 1 || c.OpenTimeout < 100*time.Millisecond || c.RetryMax < 0 || c.RetryBaseDelay <= 0 {
			t.Fatalf("accepted out-of-range config %+v", c)
		}
		if !c.Simulated && (c.OpenAIKey == "" || c.AnthropicKey == "" || c.USDAKey == "") {
			t.Fatalf("real upstreams accepted without every key: %+v", c)
		}
	})
}

// .env.example lists every variable the service reads, each with its
// default.
func TestEnvExampleListsEveryVariableWithItsDefault(t *testing.T) {
	data, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	file := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf(".env.example:%d: %q is not NAME=value", i+1, line)
		}
		file[k] = v
	}
	read := map[string]bool{}
	defaults, err := loadConfig(func(k string) string { read[k] = true; return "" })
	if err != nil {
		t.Fatal(err)
	}
	for k := range read {
		if _, ok := file[k]; !ok {
			t.Errorf(".env.example lacks %s", k)
		}
	}
	for k := range file {
		if !read[k] {
			t.Errorf(".env.example sets %s, which the service does not read", k)
		}
	}
	fromFile, err := loadConfig(envOf(file))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromFile, defaults) {
		t.Errorf(".env.example's values are not the defaults:\nfile     %+v\ndefaults %+v", fromFile, defaults)
	}
}
