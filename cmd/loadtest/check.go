package main

import (
	"fmt"
	"time"
)

// Criteria checked by -check.
const (
	minRespondedRatio = 0.999
	maxFallbackMs     = 1000.0
	// closeSlack is what recovery may take beyond the open timeout: the
	// wait for the next request after the timeout ends, and the probe
	// itself.
	closeSlack = 250 * time.Millisecond
)

// checkResult is one criterion applied to one mode's row.
type checkResult struct {
	Mode   string `json:"mode"`
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// checks applies the criteria that concern the scenario and mode of each
// row (see docs/loadtest.md).
func checks(cfg *config, runs []modeRun) []checkResult {
	var out []checkResult
	add := func(mode, name string, ok bool, format string, args ...any) {
		out = append(out, checkResult{Mode: mode, Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}
	for _, run := range runs {
		r := run.Result
		mode := r.Mode
		add(mode, "responded", r.Requests > 0 && r.RespondedRatio >= minRespondedRatio,
			"%d of %d requests answered (%.4f %%), need at least %.1f %%", r.Responded, r.Requests, 100*r.RespondedRatio, 100*minRespondedRatio)
		maxFallback := maxFallbackMs + ms(cfg.CheckSlack)
		add(mode, "fallback_latency", r.FallbackLatency.Max < maxFallback,
			"slowest degraded answer %.1f ms, need under %.0f ms", r.FallbackLatency.Max, maxFallback)

		outage := cfg.Scenario == scenarioOutage || cfg.Scenario == scenarioReplicaCrash
		if outage && mode == modeStrict {
			// Calls already in flight when the trip was committed fail
			// too; the store finds their reports stale. What the breaker
			// promises is that it opens on exactly -threshold consecutive
			// failures: a success that started before the outage and was
			// answered during it resets the count, and may rightly let
			// threshold − 1 more failures be recorded.
			v, late := r.RecordedFailuresBeforeOpen, r.LateSuccessesBeforeOpen
			limit := int64(cfg.Threshold)
			if late != nil {
				limit += *late * int64(cfg.Threshold-1)
			}
			add(mode, "failed_before_open", v != nil && *v <= limit,
				"%s failed upstream calls before every replica rejected, %s of them already in flight at the trip (stale): the breaker opened on %s recorded failures, need at most %d (-threshold %d, %s late successes)",
				fmtInt(r.FailedUpstreamCallsBeforeOpen), fmtInt(r.StaleFailuresBeforeOpen), fmtInt(v), limit, cfg.Threshold, fmtInt(late))
		}
		if outage && mode != modeNone {
			limit, what := cfg.OpenTimeout+closeSlack, "-open-timeout + 250ms"
			if cfg.Scenario == scenarioReplicaCrash {
				limit, what = limit+cfg.ProbeLease, "-open-timeout + -probe-lease + 250ms"
			}
			if cfg.CheckSlack > 0 {
				limit, what = limit+cfg.CheckSlack, what+" + -check-slack"
			}
			v := r.TimeToCloseMs
			add(mode, "recovery", v != nil && *v <= ms(limit),
				"closed %s ms after the upstream recovered, need at most %s ms (%s)", fmtFloat(v), fmtFloat(ptr(ms(limit))), what)
		}
		if sharedMode(mode) {
			v := r.MaxConcurrentProbes
			add(mode, "probes", v != nil && *v <= 1,
				"at most %s half-open probes in flight at once, need at most 1", fmtInt(v))
		}
		if cfg.Scenario == scenarioRedisDown && sharedMode(mode) {
			v := r.RedisCausedFailures
			add(mode, "redis_caused_failures", v != nil && *v == 0 && run.Input.RedisDown != nil,
				"%s requests not answered in full while Redis was down and restarted (store errors %d), need 0", fmtInt(v), r.StoreErrors)
		}
	}
	return out
}

func fmtInt(v *int64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}

func fmtFloat(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", *v)
}
