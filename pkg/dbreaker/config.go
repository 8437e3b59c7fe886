package dbreaker

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"
)

// Off turns a count-based trip policy off: set FailureThreshold to Off to trip
// on rates only.
const Off = -1

// Defaults applied to zero fields of Config.
const (
	DefaultFailureThreshold  = 5
	DefaultOpenTimeout       = 60 * time.Second
	DefaultHalfOpenMaxProbes = 1
	DefaultSuccessThreshold  = 1
	DefaultProbeLease        = 30 * time.Second
	DefaultMinimumCalls      = 20
	DefaultWindow            = 60 * time.Second
	DefaultWindowBuckets     = 10
	DefaultSlowCallDuration  = 5 * time.Second
	DefaultStoreTimeout      = 50 * time.Millisecond
)

// Limits that keep a misconfiguration from turning into unbounded work in
// the store.
const (
	maxWindowBuckets = 600
	maxProbes        = 1000
	maxDuration      = 365 * 24 * time.Hour
)

// Outcome is what a call's result means to the breaker.
type Outcome uint8

const (
	// Success resets the consecutive-failure count and counts toward closing.
	Success Outcome = iota
	// Failure counts toward tripping.
	Failure
	// Ignored changes no counter; a probe reporting it frees its slot.
	Ignored
)

var outcomeNames = [...]string{"success", "failure", "ignored"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "outcome(?)"
}

// DefaultClassify counts every error as a failure except context.Canceled (the
// caller gave up; the upstream said nothing), which is ignored.
func DefaultClassify(err error) Outcome {
	switch {
	case err == nil:
		return Success
	case errors.Is(err, context.Canceled):
		return Ignored
	default:
		return Failure
	}
}

// Consistency says how the call path uses the store.
type Consistency uint8

const (
	// Strict asks the store to admit every call and reports every outcome
	// before Done returns: exact thresholds, two round trips per call.
	Strict Consistency = iota
	// Fast admits calls locally while the replica's view (kept fresh by
	// script replies and the store's events) says closed, and reports
	// outcomes in batches: about zero round trips per call, at the price of
	// a bounded overshoot after a trip (calls admitted before the replica
	// learns of it, counted as stale reports). Probes always ask the store.
	Fast
)

func (c Consistency) String() string {
	switch c {
	case Strict:
		return "strict"
	case Fast:
		return "fast"
	}
	return "consistency(?)"
}

// StoreFailure says what a breaker does while its store cannot be reached.
type StoreFailure uint8

const (
	// FallbackLocal decides with a local, in-memory breaker of the same
	// policy (one per replica) until the store is back.
	FallbackLocal StoreFailure = iota
	// FailOpen admits every call and records nothing.
	FailOpen
	// FailClosed rejects every call with ErrStoreUnavailable.
	FailClosed
)

func (f StoreFailure) String() string {
	switch f {
	case FallbackLocal:
		return "fallback_local"
	case FailOpen:
		return "fail_open"
	case FailClosed:
		return "fail_closed"
	}
	return "store_failure(?)"
}

// Config is a breaker's policy. Its zero value works: every zero field takes
// the default named in its comment. Every replica sharing a breaker name should
// use the same Config; the replica that reports an outcome applies its own.
type Config struct {
	// FailureThreshold trips the breaker after this many consecutive failures
	// (default 5). Off disables this policy.
	FailureThreshold int

	// FailureRate trips the breaker when the share of failed calls in the
	// sliding Window reaches it, once MinimumCalls calls were seen there.
	// Zero disables this policy; otherwise it must be in (0, 1].
	FailureRate float64
	// SlowCallRate trips the breaker when the share of calls slower than
	// SlowCallDuration in the Window reaches it (zero disables; (0, 1]).
	SlowCallRate float64
	// SlowCallDuration is the duration from which a call counts as slow
	// (default 5s). With SlowCallRate set, a slow half-open probe also fails.
	SlowCallDuration time.Duration
	// MinimumCalls is how many calls the Window must hold before a rate can
	// trip the breaker (default 20).
	MinimumCalls int
	// Window is the length of the sliding time window (default 60s), made of
	// WindowBuckets buckets (default 10, at most 600).
	Window        time.Duration
	WindowBuckets int

	// OpenTimeout is how long the breaker stays open before a probe may be
	// tried (default 60s, at least 1ms).
	OpenTimeout time.Duration
	// OpenTimeoutGrowth multiplies the open timeout on each trip that follows
	// a failed probe without the breaker closing in between (default 1: no
	// growth; must be at least 1). The timeout never exceeds MaxOpenTimeout
	// (default 10 × OpenTimeout).
	OpenTimeoutGrowth float64
	MaxOpenTimeout    time.Duration

	// HalfOpenMaxProbes is how many probes may run at once, cluster-wide,
	// while half-open (default 1).
	HalfOpenMaxProbes int
	// SuccessThreshold is how many probes must succeed to close (default 1).
	SuccessThreshold int
	// ProbeLease is how long a probe holds its slot if its replica never
	// reports (default 30s). It must outlast the longest call.
	ProbeLease time.Duration

	// Classify maps a call's error to an Outcome (default DefaultClassify).
	Classify func(error) Outcome

	// StoreTimeout bounds every store call (default 50ms).
	StoreTimeout time.Duration
	// Consistency is Strict (default) or Fast.
	Consistency Consistency
	// OnStoreFailure is FallbackLocal (default), FailOpen or FailClosed.
	OnStoreFailure StoreFailure
}

// Policy is the validated, store-facing form of a Config: what the store
// needs to decide admissions and transitions.
type Policy struct {
	FailureThreshold  int // 0: consecutive-failure policy off
	FailureRate       float64
	SlowCallRate      float64
	MinimumCalls      int
	Window            time.Duration
	WindowBuckets     int
	OpenTimeout       time.Duration
	OpenTimeoutGrowth float64
	MaxOpenTimeout    time.Duration
	HalfOpenMaxProbes int
	SuccessThreshold  int
	ProbeLease        time.Duration
}

// usesWindow reports whether a rate policy needs the sliding window.
func (p Policy) usesWindow() bool { return p.FailureRate > 0 || p.SlowCallRate > 0 }

// openTimeout is the open timeout for the given trip count (1 for the first
// trip since the breaker was last closed).
func (p Policy) openTimeout(trips int64) time.Duration {
	d := float64(p.OpenTimeout)
	if p.OpenTimeoutGrowth > 1 && trips > 1 {
		d *= math.Pow(p.OpenTimeoutGrowth, float64(trips-1))
	}
	if d > float64(p.MaxOpenTimeout) {
		return p.MaxOpenTimeout
	}
	return time.Duration(d).Truncate(time.Millisecond)
}

// resolved returns the config with defaults applied, or the first invalid
// field as a *config.Error.
func (c Config) resolved() (Config, error) {
	intField := func(name string, v *int, def, max int, offAllowed bool) error {
		switch {
		case *v == 0:
			*v = def
		case *v == Off && offAllowed:
		case *v < 0:
			want := "want a positive count"
			if offAllowed {
				want += " or dbreaker.Off (-1)"
			}
			return invalid(name, *v, want)
		case max > 0 && *v > max:
			return invalid(name, *v, "want at most "+strconv.Itoa(max))
		}
		return nil
	}
	durField := func(name string, v *time.Duration, def time.Duration) error {
		switch {
		case *v == 0:
			*v = def
		case *v < time.Millisecond:
			return invalid(name, *v, "want at least 1ms (or 0 for the default)")
		case *v > maxDuration:
			return invalid(name, *v, "want at most 8760h")
		}
		return nil
	}
	rateField := func(name string, v float64) error {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return invalid(name, v, "want a share in (0, 1], or 0 to disable")
		}
		return nil
	}
	errs := []error{
		intField("FailureThreshold", &c.FailureThreshold, DefaultFailureThreshold, 0, true),
		rateField("FailureRate", c.FailureRate),
		rateField("SlowCallRate", c.SlowCallRate),
		durField("SlowCallDuration", &c.SlowCallDuration, DefaultSlowCallDuration),
		intField("MinimumCalls", &c.MinimumCalls, DefaultMinimumCalls, 0, false),
		durField("Window", &c.Window, DefaultWindow),
		intField("WindowBuckets", &c.WindowBuckets, DefaultWindowBuckets, maxWindowBuckets, false),
		durField("OpenTimeout", &c.OpenTimeout, DefaultOpenTimeout),
		durField("MaxOpenTimeout", &c.MaxOpenTimeout, 0),
		intField("HalfOpenMaxProbes", &c.HalfOpenMaxProbes, DefaultHalfOpenMaxProbes, maxProbes, false),
		intField("SuccessThreshold", &c.SuccessThreshold, DefaultSuccessThreshold, 0, false),
		durField("ProbeLease", &c.ProbeLease, DefaultProbeLease),
		durField("StoreTimeout", &c.StoreTimeout, DefaultStoreTimeout),
	}
	for _, err := range errs {
		if err != nil {
			return c, err
		}
	}
	switch g := c.OpenTimeoutGrowth; {
	case g == 0:
		c.OpenTimeoutGrowth = 1
	case math.IsNaN(g) || math.IsInf(g, 0) || g < 1 || g > 100:
		return c, invalid("OpenTimeoutGrowth", g, "want a factor in [1, 100], or 0 for no growth")
	}
	if c.MaxOpenTimeout == 0 {
		c.MaxOpenTimeout = min(10*c.OpenTimeout, maxDuration)
	}
	if c.MaxOpenTimeout < c.OpenTimeout {
		return c, invalid("MaxOpenTimeout", c.MaxOpenTimeout, "want at least OpenTimeout ("+c.OpenTimeout.String()+")")
	}
	if c.Window < time.Duration(c.WindowBuckets)*time.Millisecond {
		return c, invalid("Window", c.Window, "want at least 1ms per bucket ("+strconv.Itoa(c.WindowBuckets)+" buckets)")
	}
	if c.FailureThreshold == Off && c.FailureRate == 0 && c.SlowCallRate == 0 {
		return c, invalid("FailureThreshold", c.FailureThreshold, "Off leaves no trip policy: set FailureRate or SlowCallRate too")
	}
	if c.Consistency > Fast {
		return c, invalid("Consistency", int(c.Consistency), "want dbreaker.Strict or dbreaker.Fast")
	}
	if c.OnStoreFailure > FailClosed {
		return c, invalid("OnStoreFailure", int(c.OnStoreFailure), "want FallbackLocal, FailOpen or FailClosed")
	}
	if c.Classify == nil {
		c.Classify = DefaultClassify
	}
	return c, nil
}

func (c Config) policy() Policy {
	p := Policy{
		FailureThreshold:  c.FailureThreshold,
		FailureRate:       c.FailureRate,
		SlowCallRate:      c.SlowCallRate,
		MinimumCalls:      c.MinimumCalls,
		Window:            c.Window,
		WindowBuckets:     c.WindowBuckets,
		OpenTimeout:       c.OpenTimeout,
		OpenTimeoutGrowth: c.OpenTimeoutGrowth,
		MaxOpenTimeout:    c.MaxOpenTimeout,
		HalfOpenMaxProbes: c.HalfOpenMaxProbes,
		SuccessThreshold:  c.SuccessThreshold,
		ProbeLease:        c.ProbeLease,
	}
	if p.FailureThreshold == Off {
		p.FailureThreshold = 0
	}
	return p
}
