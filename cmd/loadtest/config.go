package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Scenarios.
const (
	scenarioSteady       = "steady"
	scenarioFlaky        = "flaky"
	scenarioOutage       = "outage"
	scenarioSlow         = "slow"
	scenarioRedisDown    = "redis-down"
	scenarioReplicaCrash = "replica-crash"
)

var scenarios = []string{scenarioSteady, scenarioFlaky, scenarioOutage, scenarioSlow, scenarioRedisDown, scenarioReplicaCrash}

// Breaker modes.
const (
	modeNone   = "none"
	modeLocal  = "local"
	modeStrict = "strict"
	modeFast   = "fast"
)

var modes = []string{modeNone, modeLocal, modeStrict, modeFast}

// Limits that keep a run bounded.
const (
	maxReplicas = 32
	maxVUs      = 10000
	maxDuration = 10 * time.Minute
	maxRequests = 10_000_000
)

// config is everything a run needs, from the command line.
type config struct {
	Scenario string
	Modes    []string // one mode, or every mode with -compare
	Replicas int
	VUs      int
	Duration time.Duration
	Requests int64
	Think    time.Duration
	Procs    bool
	Redis    string
	Seed     uint64

	FaultAt      time.Duration
	FaultFor     time.Duration
	ErrorRate    float64
	ErrorStatus  int
	SlowLatency  time.Duration
	RedisDownAt  time.Duration
	RedisDownFor time.Duration

	Threshold      int
	OpenTimeout    time.Duration
	ProbeLease     time.Duration
	AttemptTimeout time.Duration
	StoreTimeout   time.Duration
	SlowCall       time.Duration
	SlowRate       float64
	Window         time.Duration
	MinCalls       int
	FlushInterval  time.Duration

	Retries        int
	RetryBase      time.Duration
	RetryMaxDelay  time.Duration
	RetryBudget    float64
	PrimaryTimeout time.Duration
	RequestTimeout time.Duration

	JSONFile string
	PlotFile string
	Check    bool
	// CheckSlack is added to every time limit of -check.
	CheckSlack time.Duration
	Verbose    bool
}

// usageError is a bad command line: the tool exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return "loadtest: " + e.msg }

func badFlag(name string, value any, why string) error {
	return &usageError{msg: fmt.Sprintf("-%s %v: %s", name, value, why)}
}

// parseFlags reads the command line. Every error is a *usageError naming the
// flag at fault.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SetOutput(io.Discard) // errors are returned, not printed twice
	fs.Usage = func() {}
	var mode string
	var compare bool
	fs.StringVar(&c.Scenario, "scenario", scenarioSteady, "scenario: "+strings.Join(scenarios, ", "))
	fs.StringVar(&mode, "breaker", modeStrict, "breaker mode: "+strings.Join(modes, ", "))
	fs.BoolVar(&compare, "compare", false, "run every breaker mode in turn (none, local, strict, fast) on the same scenario")
	fs.IntVar(&c.Replicas, "replicas", 3, "number of replicas")
	fs.IntVar(&c.VUs, "vus", 100, "concurrent virtual users, spread evenly over the replicas")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "length of each run")
	fs.Int64Var(&c.Requests, "requests", 0, "stop after this many requests (0: the duration alone ends the run)")
	fs.DurationVar(&c.Think, "think", 100*time.Millisecond, "mean pause of a virtual user between requests (uniform in [0.5, 1.5] times it; 0: none)")
	fs.BoolVar(&c.Procs, "procs", false, "run each replica as a separate process (the tool re-executes itself)")
	fs.StringVar(&c.Redis, "redis", "127.0.0.1:6379", "Redis address for the strict and fast modes (redis-down starts a server of its own)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the upstream's faults and of the users' pauses")

	fs.DurationVar(&c.FaultAt, "fault-at", 2*time.Second, "when the upstream's fault begins (flaky, outage, slow, replica-crash)")
	fs.DurationVar(&c.FaultFor, "fault-for", 3*time.Second, "how long the upstream's fault lasts; recovery follows")
	fs.Float64Var(&c.ErrorRate, "error-rate", 0.5, "share of upstream requests that fail in the flaky scenario, in (0, 1]")
	fs.IntVar(&c.ErrorStatus, "error-status", 503, "HTTP status of the upstream's injected errors (500-599)")
	fs.DurationVar(&c.SlowLatency, "slow-latency", 300*time.Millisecond, "upstream latency in the slow scenario")
	fs.DurationVar(&c.RedisDownAt, "redis-down-at", 2*time.Second, "when Redis is stopped (redis-down)")
	fs.DurationVar(&c.RedisDownFor, "redis-down-for", 3*time.Second, "how long Redis stays down before it is restarted, empty (redis-down)")

	fs.IntVar(&c.Threshold, "threshold", 5, "breaker: consecutive failures that trip it")
	fs.DurationVar(&c.OpenTimeout, "open-timeout", 2*time.Second, "breaker: how long it stays open before a probe")
	fs.DurationVar(&c.ProbeLease, "probe-lease", time.Second, "breaker: how long a probe holds its slot if its replica never reports")
	fs.DurationVar(&c.AttemptTimeout, "attempt-timeout", 400*time.Millisecond, "timeout of each upstream attempt")
	fs.DurationVar(&c.StoreTimeout, "store-timeout", 50*time.Millisecond, "breaker: timeout of each Redis call")
	fs.DurationVar(&c.SlowCall, "slow-call", 200*time.Millisecond, "breaker: a call at least this long is slow")
	fs.Float64Var(&c.SlowRate, "slow-rate", 0.5, "breaker: share of slow calls in the window that trips it, in [0, 1] (0: policy off)")
	fs.DurationVar(&c.Window, "window", time.Second, "breaker: sliding window of the slow-call rate")
	fs.IntVar(&c.MinCalls, "min-calls", 20, "breaker: calls the window needs before the slow-call rate can trip it")
	fs.DurationVar(&c.FlushInterval, "flush-interval", 5*time.Millisecond, "breaker: how often Fast mode flushes its reports")

	fs.IntVar(&c.Retries, "retries", 3, "retries after the first attempt (0: none)")
	fs.DurationVar(&c.RetryBase, "retry-base", 50*time.Millisecond, "delay before the first retry; doubles at each retry")
	fs.DurationVar(&c.RetryMaxDelay, "retry-max-delay", time.Second, "longest wait between attempts")
	fs.Float64Var(&c.RetryBudget, "retry-budget", 0.1, "retry budget: retries may add this share of first attempts, plus 1/s, per replica (0: no budget)")
	fs.DurationVar(&c.PrimaryTimeout, "primary-timeout", 500*time.Millisecond, "time the primary lookup gets, retries included, before the fallback answers")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", time.Second, "time a whole request gets, fallback included")

	fs.StringVar(&c.JSONFile, "json", "", "write the report as JSON to this file")
	fs.StringVar(&c.PlotFile, "plot", "", "draw the timeline to this file (.svg or .png)")
	fs.BoolVar(&c.Check, "check", false, "exit with status 1 when a criterion is missed (see docs/loadtest.md)")
	fs.DurationVar(&c.CheckSlack, "check-slack", 0, "added to every time limit of -check (room for a loaded machine, as the tool's own tests give)")
	fs.BoolVar(&c.Verbose, "v", false, "log the breakers' transitions and Redis' comings and goings")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "usage: loadtest [flags]\n\nRuns replicas of a nutrition-lookup service under load against a fault-injecting\nupstream, and reports (see docs/loadtest.md).\n\nflags:")
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return c, err
		}
		return c, &usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return c, &usageError{msg: fmt.Sprintf("unexpected argument %q (every setting is a flag)", fs.Arg(0))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if compare {
		if set["breaker"] {
			return c, &usageError{msg: "-breaker and -compare exclude each other: -compare runs every mode"}
		}
		c.Modes = append([]string(nil), modes...)
	} else {
		c.Modes = []string{mode}
	}
	return c, c.validate()
}

// validate checks every setting and names the flag of the first bad one.
func (c *config) validate() error {
	if !slices.Contains(scenarios, c.Scenario) {
		return badFlag("scenario", c.Scenario, "unknown scenario; one of "+strings.Join(scenarios, ", "))
	}
	for _, m := range c.Modes {
		if !slices.Contains(modes, m) {
			return badFlag("breaker", m, "unknown mode; one of "+strings.Join(modes, ", "))
		}
	}
	checks := []struct {
		bad        bool
		name       string
		value      any
		constraint string
	}{
		{c.Replicas < 1 || c.Replicas > maxReplicas, "replicas", c.Replicas, fmt.Sprintf("must be between 1 and %d", maxReplicas)},
		{c.VUs < 1 || c.VUs > maxVUs, "vus", c.VUs, fmt.Sprintf("must be between 1 and %d", maxVUs)},
		{c.VUs < c.Replicas, "vus", c.VUs, fmt.Sprintf("fewer users than -replicas %d: some replicas would get no traffic", c.Replicas)},
		{c.Duration <= 0 || c.Duration > maxDuration, "duration", c.Duration, fmt.Sprintf("must be positive and at most %s", maxDuration)},
		{c.Requests < 0 || c.Requests > maxRequests, "requests", c.Requests, fmt.Sprintf("must be between 0 and %d", maxRequests)},
		{c.Think < 0 || c.Think > time.Minute, "think", c.Think, "must be between 0 and 1m"},
		{c.Redis == "", "redis", `""`, "an address is required"},
		{c.FaultAt < 0, "fault-at", c.FaultAt, "must not be negative"},
		{c.FaultFor <= 0, "fault-for", c.FaultFor, "must be positive"},
		{!(c.ErrorRate > 0 && c.ErrorRate <= 1), "error-rate", c.ErrorRate, "must be in (0, 1]"},
		{c.ErrorStatus < 500 || c.ErrorStatus > 599, "error-status", c.ErrorStatus, "must be a 5xx status (500-599)"},
		{c.SlowLatency <= 0, "slow-latency", c.SlowLatency, "must be positive"},
		{c.RedisDownAt < 0, "redis-down-at", c.RedisDownAt, "must not be negative"},
		{c.RedisDownFor <= 0, "redis-down-for", c.RedisDownFor, "must be positive"},
		{c.Threshold < 1 || c.Threshold > 1000, "threshold", c.Threshold, "must be between 1 and 1000"},
		{c.OpenTimeout < time.Millisecond, "open-timeout", c.OpenTimeout, "must be at least 1ms"},
		{c.AttemptTimeout <= 0, "attempt-timeout", c.AttemptTimeout, "must be positive"},
		{c.StoreTimeout <= 0, "store-timeout", c.StoreTimeout, "must be positive"},
		{c.ProbeLease <= c.AttemptTimeout+2*c.StoreTimeout, "probe-lease", c.ProbeLease,
			fmt.Sprintf("must outlast -attempt-timeout %s plus 2 × -store-timeout %s, or a second probe could start while the first runs", c.AttemptTimeout, c.StoreTimeout)},
		{c.SlowCall <= 0, "slow-call", c.SlowCall, "must be positive"},
		{!(c.SlowRate >= 0 && c.SlowRate <= 1), "slow-rate", c.SlowRate, "must be in [0, 1]"},
		{c.Window < 10*time.Millisecond, "window", c.Window, "must be at least 10ms"},
		{c.MinCalls < 1, "min-calls", c.MinCalls, "must be at least 1"},
		{c.FlushInterval <= 0, "flush-interval", c.FlushInterval, "must be positive"},
		{c.Retries < 0 || c.Retries > 10, "retries", c.Retries, "must be between 0 and 10"},
		{c.RetryBase <= 0, "retry-base", c.RetryBase, "must be positive"},
		{c.RetryMaxDelay < c.RetryBase, "retry-max-delay", c.RetryMaxDelay, fmt.Sprintf("must be at least -retry-base %s", c.RetryBase)},
		{!(c.RetryBudget >= 0 && c.RetryBudget <= 1), "retry-budget", c.RetryBudget, "must be in [0, 1] (0: no budget)"},
		{c.PrimaryTimeout <= 0, "primary-timeout", c.PrimaryTimeout, "must be positive"},
		{c.CheckSlack < 0, "check-slack", c.CheckSlack, "must not be negative"},
		{c.RequestTimeout <= c.PrimaryTimeout, "request-timeout", c.RequestTimeout,
			fmt.Sprintf("must exceed -primary-timeout %s, or the fallback gets no time", c.PrimaryTimeout)},
	}
	for _, ch := range checks {
		if ch.bad {
			return badFlag(ch.name, ch.value, ch.constraint)
		}
	}
	if c.usesFault() {
		end := c.FaultAt + c.FaultFor
		if end >= c.Duration {
			return badFlag("fault-for", c.FaultFor, fmt.Sprintf("-fault-at %s plus -fault-for ends at %s, not before -duration %s", c.FaultAt, end, c.Duration))
		}
		need, parts := c.OpenTimeout+500*time.Millisecond, "-open-timeout + 500ms"
		if c.Scenario == scenarioReplicaCrash {
			need, parts = need+c.ProbeLease, "-open-timeout + -probe-lease + 500ms"
		}
		if c.Duration-end < need {
			return badFlag("duration", c.Duration, fmt.Sprintf("leaves %s after the fault ends (-fault-at + -fault-for = %s); recovery needs at least %s (%s)",
				c.Duration-end, end, need, parts))
		}
	}
	if c.Scenario == scenarioRedisDown {
		if end := c.RedisDownAt + c.RedisDownFor; end >= c.Duration {
			return badFlag("redis-down-for", c.RedisDownFor, fmt.Sprintf("-redis-down-at %s plus -redis-down-for ends at %s, not before -duration %s", c.RedisDownAt, end, c.Duration))
		}
	}
	if c.PlotFile != "" {
		switch strings.ToLower(filepath.Ext(c.PlotFile)) {
		case ".svg", ".png":
		default:
			return badFlag("plot", c.PlotFile, "must end in .svg or .png")
		}
	}
	return nil
}

// usesFault reports whether the scenario sets a fault on the upstream.
func (c *config) usesFault() bool {
	switch c.Scenario {
	case scenarioFlaky, scenarioOutage, scenarioSlow, scenarioReplicaCrash:
		return true
	}
	return false
}
