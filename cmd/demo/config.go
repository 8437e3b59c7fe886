package main

import (
	"fmt"

	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/nutrition"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// config is the service's configuration, read from the environment. The
// names of the bot's plan are kept; every value is validated, and a bad one
// stops start-up with a message naming the variable and the value.
type config struct {
	Addr        string // API listen address (PORT)
	MetricsAddr string // /metrics listen address (METRICS_PORT, METRICS_HOST)

	BreakersEnabled  bool          // CIRCUIT_BREAKER_ENABLED
	FailureThreshold int           // CIRCUIT_BREAKER_FAILURE_THRESHOLD
	OpenTimeout      time.Duration // CIRCUIT_BREAKER_TIMEOUT
	Consistency      string        // CIRCUIT_BREAKER_MODE: strict | fast
	RetryMax         int           // API_RETRY_MAX
	RetryBaseDelay   time.Duration // API_RETRY_BASE_DELAY
	RequestTimeout   time.Duration // REQUEST_TIMEOUT: one deadline per API request

	VisionPrimary  string // VISION_MODEL_PRIMARY: openai | anthropic
	VisionFallback string // VISION_MODEL_FALLBACK: openai | anthropic | none

	RedisURL    string // REDIS_URL
	DatabaseURL string // DATABASE_URL
	KeyPrefix   string // CIRCUIT_BREAKER_KEY_PREFIX: the breakers' Redis keys
	Schema      string // NUTRITION_SCHEMA: the cache's PostgreSQL schema

	OpenAIKey, OpenAIBaseURL, OpenAIModel          string
	AnthropicKey, AnthropicBaseURL, AnthropicModel string
	USDAKey, USDABaseURL                           string
	WebSearchURL                                   string
}

// Defaults, as the bot's plan gives them.
const (
	defaultRedisURL    = "redis://127.0.0.1:6379/0"
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
)

// envError names the variable, the value and what was expected.
type envError struct {
	Name, Value, Want string
}

func (e *envError) Error() string {
	return fmt.Sprintf("demo: invalid %s=%q: want %s", e.Name, e.Value, e.Want)
}

// env reads variables through getenv, remembering the first error.
type env struct {
	getenv func(string) string
	err    error
}

func (e *env) fail(name, value, want string) {
	if e.err == nil {
		e.err = &envError{Name: name, Value: value, Want: want}
	}
}

func (e *env) str(name, def string) string {
	if v := strings.TrimSpace(e.getenv(name)); v != "" {
		return v
	}
	return def
}

func (e *env) boolean(name string, def bool) bool {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	e.fail(name, v, "true or false")
	return def
}

func (e *env) integer(name string, def, lo, hi int) int {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		e.fail(name, v, fmt.Sprintf("a whole number from %d to %d", lo, hi))
		return def
	}
	return n
}

// duration reads a Go duration ("1.5s", "250ms") or a number of seconds
// ("60"), as the plan writes them.
func (e *env) duration(name string, def, lo, hi time.Duration) time.Duration {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || secs != secs || secs > hi.Seconds() || secs < lo.Seconds() {
			e.fail(name, v, fmt.Sprintf("a duration from %v to %v, like 1s or 60", lo, hi))
			return def
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < lo || d > hi {
		e.fail(name, v, fmt.Sprintf("a duration from %v to %v, like 1s or 60", lo, hi))
		return def
	}
	return d
}

func (e *env) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(e.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	e.fail(name, v, "one of "+strings.Join(allowed, ", "))
	return def
}

// urlValue reads an URL with one of the schemes; empty is allowed when def
// is empty.
func (e *env) urlValue(name, def string, schemes ...string) string {
	v := e.str(name, def)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	ok := err == nil && u.Host != ""
	if ok {
		ok = false
		for _, s := range schemes {
			ok = ok || u.Scheme == s
		}
	}
	if !ok {
		e.fail(name, redactURL(v), "an URL starting with "+strings.Join(schemes, ":// or ")+"://")
		return def
	}
	return v
}

// redactURL hides the password of an URL, for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	return u.String()
}

// loadConfig reads the configuration from getenv.
func loadConfig(getenv func(string) string) (config, error) {
	e := &env{getenv: getenv}
	port := e.integer("PORT", 8080, 0, 65535) // 0: any free port
	metricsPort := e.integer("METRICS_PORT", 9090, 0, 65535)
	c := config{
		Addr:             e.str("HOST", "") + ":" + strconv.Itoa(port),
		MetricsAddr:      e.str("METRICS_HOST", "") + ":" + strconv.Itoa(metricsPort),
		BreakersEnabled:  e.boolean("CIRCUIT_BREAKER_ENABLED", true),
		FailureThreshold: e.integer("CIRCUIT_BREAKER_FAILURE_THRESHOLD", 5, 1, 1000),
		OpenTimeout:      e.duration("CIRCUIT_BREAKER_TIMEOUT", 60*time.Second, 100*time.Millisecond, 24*time.Hour),
		Consistency:      e.oneOf("CIRCUIT_BREAKER_MODE", "strict", "strict", "fast"),
		RetryMax:         e.integer("API_RETRY_MAX", 3, 0, 10),
		RetryBaseDelay:   e.duration("API_RETRY_BASE_DELAY", time.Second, time.Millisecond, time.Minute),
		RequestTimeout:   e.duration("REQUEST_TIMEOUT", 3*time.Second, 100*time.Millisecond, 5*time.Minute),
		VisionPrimary:    e.oneOf("VISION_MODEL_PRIMARY", "openai", "openai", "anthropic"),
		RedisURL:         e.urlValue("REDIS_URL", defaultRedisURL, "redis", "rediss", "unix"),
		DatabaseURL:      e.urlValue("DATABASE_URL", defaultDatabaseURL, "postgres", "postgresql"),
		KeyPrefix:        e.str("CIRCUIT_BREAKER_KEY_PREFIX", dbreaker.DefaultKeyPrefix),
		Schema:           e.str("NUTRITION_SCHEMA", nutrition.DefaultSchema),
		OpenAIKey:        e.str("OPENAI_API_KEY", ""),
		OpenAIBaseURL:    e.urlValue("OPENAI_BASE_URL", "", "http", "https"),
		OpenAIModel:      e.str("OPENAI_MODEL", "gpt-4o-mini"),
		AnthropicKey:     e.str("ANTHROPIC_API_KEY", ""),
		AnthropicBaseURL: e.urlValue("ANTHROPIC_BASE_URL", "", "http", "https"),
		AnthropicModel:   e.str("ANTHROPIC_MODEL", "claude-3-5-haiku-latest"),
		USDAKey:          e.str("USDA_API_KEY", ""),
		USDABaseURL:      e.urlValue("USDA_BASE_URL", "", "http", "https"),
		WebSearchURL:     e.urlValue("WEB_SEARCH_URL", "", "http", "https"),
	}
	if err := dbreaker.ValidateName(c.KeyPrefix); err != nil {
		e.fail("CIRCUIT_BREAKER_KEY_PREFIX", c.KeyPrefix, "1 to 64 letters, digits or ._-:")
	}
	if err := nutrition.ValidateSchema(c.Schema); err != nil {
		e.fail("NUTRITION_SCHEMA", c.Schema, "a PostgreSQL identifier: lower-case letters, digits and _")
	}
	other := map[string]string{"openai": "anthropic", "anthropic": "openai"}[c.VisionPrimary]
	c.VisionFallback = e.oneOf("VISION_MODEL_FALLBACK", other, "openai", "anthropic", "none")
	if e.err == nil && c.VisionFallback == c.VisionPrimary {
		e.fail("VISION_MODEL_FALLBACK", c.VisionFallback, "the other provider than VISION_MODEL_PRIMARY, or none")
	}
	if e.err == nil && c.Addr == c.MetricsAddr && port != 0 {
		e.fail("METRICS_PORT", strconv.Itoa(metricsPort), "a port other than PORT: metrics are served apart from the API")
	}
	return c, e.err
}

// fakeUpstreams reports whether no real upstream is configured: then the
// service starts the fake upstream in-process and points every client at
// it.
func (c config) fakeUpstreams() bool {
	return c.OpenAIKey == "" && c.AnthropicKey == "" && c.USDAKey == "" &&
		c.OpenAIBaseURL == "" && c.AnthropicBaseURL == "" && c.USDABaseURL == "" && c.WebSearchURL == ""
}
