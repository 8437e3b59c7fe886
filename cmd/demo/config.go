package main

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/dbreaker/console"
	"github.com/healthagent/resilience/pkg/nutrition/postgres"
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

	// VISION_MODEL_PRIMARY and VISION_MODEL_FALLBACK, as provider:model
	// ("openai:gpt-4o-mini") or a bare provider (its OPENAI_MODEL or
	// ANTHROPIC_MODEL); the fallback may be none.
	VisionPrimary, VisionPrimaryModel   string // openai | anthropic
	VisionFallback, VisionFallbackModel string // openai | anthropic | none

	// Upstreams is UPSTREAMS: auto, fake or real. Simulated says what it
	// resolved to: the replica serves answers from its in-process fake
	// upstreams, invented, never from OpenAI, Anthropic or USDA.
	Upstreams string
	Simulated bool

	BreakerStore string // CIRCUIT_BREAKER_STORE: redis (shared) | memory (per replica)
	RedisURL     string // REDIS_URL
	DatabaseURL  string // DATABASE_URL
	KeyPrefix    string // CIRCUIT_BREAKER_KEY_PREFIX: the breakers' Redis keys
	Schema       string // NUTRITION_SCHEMA: the cache's PostgreSQL schema

	OpenAIKey, OpenAIBaseURL, OpenAIModel          string
	AnthropicKey, AnthropicBaseURL, AnthropicModel string
	USDAKey, USDABaseURL                           string
	WebSearchURL                                   string

	// ConsoleToken is CONSOLE_TOKEN: the bearer token of the actions of the
	// breaker console (/console on the metrics port); empty: read-only.
	ConsoleToken string
	// ReplicaName is REPLICA_NAME: this replica in the console's list of
	// replicas (its heartbeat); default <host name>:<process id>.
	ReplicaName string
}

// Defaults, as the bot's plan gives them.
const (
	defaultRedisURL    = "redis://127.0.0.1:6379/0"
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	defaultMetricsPort = 8000
)

// defaultReplicaName is <host name>:<process id>, the host name cut to
// what a replica name allows.
func defaultReplicaName() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-') {
			return r
		}
		return -1
	}, host)
	if host == "" {
		host = "replica"
	}
	suffix := ":" + strconv.Itoa(os.Getpid())
	return host[:min(len(host), dbreaker.MaxNameLen-len(suffix))] + suffix
}

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

// visionModel reads provider:model, or a bare provider, from one of the
// providers allowed. The model is kept as written; "" means the provider's
// default model.
func (e *env) visionModel(name, def string, allowed ...string) (provider, model string) {
	v := e.str(name, def)
	provider, model, hasModel := strings.Cut(v, ":")
	provider = strings.ToLower(strings.TrimSpace(provider))
	want := "one of " + strings.Join(allowed, ", ") + ", optionally with :model (openai:gpt-4o-mini)"
	ok := false
	for _, a := range allowed {
		ok = ok || provider == a
	}
	if !ok || hasModel && (provider == "none" || !validModel(model)) {
		e.fail(name, v, want)
		return def, ""
	}
	return provider, model
}

// validModel: a model name as the providers spell them: 1 to 200 printable
// characters without spaces.
func validModel(m string) bool {
	if m == "" || len(m) > 200 {
		return false
	}
	for _, r := range m {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
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

// redisSettings reads REDIS_URL and CIRCUIT_BREAKER_KEY_PREFIX.
func (e *env) redisSettings() (redisURL, keyPrefix string) {
	redisURL = e.urlValue("REDIS_URL", defaultRedisURL, "redis", "rediss", "unix")
	keyPrefix = e.str("CIRCUIT_BREAKER_KEY_PREFIX", dbreaker.DefaultKeyPrefix)
	if err := dbreaker.ValidateName(keyPrefix); err != nil {
		e.fail("CIRCUIT_BREAKER_KEY_PREFIX", keyPrefix, "1 to 64 letters, digits or ._-:")
	}
	return redisURL, keyPrefix
}

// loadRedisSettings reads only what `demo breakers` needs: REDIS_URL and
// CIRCUIT_BREAKER_KEY_PREFIX.
func loadRedisSettings(getenv func(string) string) (redisURL, keyPrefix string, err error) {
	e := &env{getenv: getenv}
	redisURL, keyPrefix = e.redisSettings()
	return redisURL, keyPrefix, e.err
}

// loadConfig reads the configuration from getenv.
func loadConfig(getenv func(string) string) (config, error) {
	e := &env{getenv: getenv}
	port := e.integer("PORT", 8080, 0, 65535) // 0: any free port
	metricsPort := e.integer("METRICS_PORT", defaultMetricsPort, 0, 65535)
	c := config{
		Addr:             e.str("HOST", "") + ":" + strconv.Itoa(port),
		MetricsAddr:      e.str("METRICS_HOST", "") + ":" + strconv.Itoa(metricsPort),
		BreakersEnabled:  e.boolean("CIRCUIT_BREAKER_ENABLED", true),
		FailureThreshold: e.integer("CIRCUIT_BREAKER_FAILURE_THRESHOLD", 5, 1, 1000),
		OpenTimeout:      e.duration("CIRCUIT_BREAKER_TIMEOUT", 60*time.Second, 100*time.Millisecond, 24*time.Hour),
		Consistency:      e.oneOf("CIRCUIT_BREAKER_MODE", "strict", "strict", "fast"),
		BreakerStore:     e.oneOf("CIRCUIT_BREAKER_STORE", "redis", "redis", "memory"),
		RetryMax:         e.integer("API_RETRY_MAX", 3, 0, 10),
		RetryBaseDelay:   e.duration("API_RETRY_BASE_DELAY", time.Second, time.Millisecond, time.Minute),
		Upstreams:        e.oneOf("UPSTREAMS", "auto", "auto", "fake", "real"),
		RequestTimeout:   e.duration("REQUEST_TIMEOUT", 3*time.Second, 100*time.Millisecond, 5*time.Minute),
		DatabaseURL:      e.urlValue("DATABASE_URL", defaultDatabaseURL, "postgres", "postgresql"),
		Schema:           e.str("NUTRITION_SCHEMA", postgres.DefaultSchema),
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
	c.RedisURL, c.KeyPrefix = e.redisSettings()
	c.ConsoleToken = e.str("CONSOLE_TOKEN", "")
	if err := console.ValidateToken(c.ConsoleToken); err != nil {
		e.fail("CONSOLE_TOKEN", "(hidden)", fmt.Sprintf("at least %d printable characters without spaces, or empty for a read-only console", console.MinTokenLen))
	}
	c.ReplicaName = e.str("REPLICA_NAME", defaultReplicaName())
	if err := dbreaker.ValidateName(c.ReplicaName); err != nil {
		e.fail("REPLICA_NAME", c.ReplicaName, "1 to 64 letters, digits or ._-:")
	}
	if err := postgres.ValidateSchema(c.Schema); err != nil {
		e.fail("NUTRITION_SCHEMA", c.Schema, "a PostgreSQL identifier: lower-case letters, digits and _")
	}
	names := modelNames()
	c.VisionPrimary, c.VisionPrimaryModel = e.visionModel("VISION_MODEL_PRIMARY", "openai", names...)
	other := "none" // the fallback by default: the first other model
	for _, n := range names {
		if n != c.VisionPrimary {
			other = n
			break
		}
	}
	c.VisionFallback, c.VisionFallbackModel = e.visionModel("VISION_MODEL_FALLBACK", other, append(names, "none")...)
	if e.err == nil && c.VisionFallback == c.VisionPrimary {
		e.fail("VISION_MODEL_FALLBACK", e.str("VISION_MODEL_FALLBACK", ""), "the other provider than VISION_MODEL_PRIMARY, or none")
	}
	c.resolveUpstreams(e)
	if e.err == nil && c.Addr == c.MetricsAddr && port != 0 {
		e.fail("METRICS_PORT", strconv.Itoa(metricsPort), "a port other than PORT: metrics are served apart from the API")
	}
	return c, e.err
}

// resolveUpstreams decides whether the replica serves simulated answers.
// fake: always. real: never, and every key must be set. auto: simulated
// when no key and no upstream URL is set (nothing configured, as with a
// bare `go run`); else as real, so that a deployment that lost some of
// its secrets refuses to start instead of serving invented answers.
func (c *config) resolveUpstreams(e *env) {
	if c.Upstreams == "fake" {
		c.Simulated = true
		return
	}
	keys := []struct{ name, value string }{
		{"OPENAI_API_KEY", c.OpenAIKey}, {"ANTHROPIC_API_KEY", c.AnthropicKey}, {"USDA_API_KEY", c.USDAKey},
	}
	var names, missing []string
	for _, k := range keys {
		names = append(names, k.name)
		if k.value == "" {
			missing = append(missing, k.name)
		}
	}
	nothingSet := len(missing) == len(keys) &&
		c.OpenAIBaseURL == "" && c.AnthropicBaseURL == "" && c.USDABaseURL == "" && c.WebSearchURL == ""
	if c.Upstreams == "auto" && nothingSet {
		c.Simulated = true
		return
	}
	if len(missing) > 0 {
		want := strings.Join(names, ", ") + " all set for the real upstreams"
		if c.Upstreams == "auto" {
			want += ", or none of them and no *_URL for simulated ones"
		}
		e.fail("UPSTREAMS", c.Upstreams, want+"; missing: "+strings.Join(missing, ", "))
	}
}
