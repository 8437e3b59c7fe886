package main

import (
	"testing"
	"time"
)

func TestChecks(t *testing.T) {
	good := func() result {
		return result{
			Mode: modeStrict, Requests: 10000, Responded: 9995, RespondedRatio: 0.9995,
			FallbackLatency:               latency{Max: 120},
			FailedUpstreamCallsBeforeOpen: ptr[int64](7), StaleFailuresBeforeOpen: ptr[int64](2), RecordedFailuresBeforeOpen: ptr[int64](5),
			TimeToCloseMs:       ptr(2100.0),
			MaxConcurrentProbes: ptr[int64](1),
			RedisCausedFailures: ptr[int64](0),
		}
	}
	outage := config{Scenario: scenarioOutage, Threshold: 5, OpenTimeout: 2 * time.Second, ProbeLease: time.Second}
	slack := outage
	slack.CheckSlack = 500 * time.Millisecond
	tests := []struct {
		name   string
		cfg    config
		change func(r *result)
		failed string // the one check that must fail; "" for none
		absent string // a check that must not be applied
	}{
		{"all good", outage, func(*result) {}, "", ""},
		{"too few answers", outage, func(r *result) { r.Responded, r.RespondedRatio = 9989, 0.9989 }, "responded", ""},
		{"no requests at all", outage, func(r *result) { r.Requests, r.Responded, r.RespondedRatio = 0, 0, 0 }, "responded", ""},
		{"slow fallback", outage, func(r *result) { r.FallbackLatency.Max = 1000 }, "fallback_latency", ""},
		{"six recorded failures", outage, func(r *result) { r.RecordedFailuresBeforeOpen = ptr[int64](6) }, "failed_before_open", ""},
		{"nine recorded after a late success", outage, func(r *result) {
			r.RecordedFailuresBeforeOpen, r.LateSuccessesBeforeOpen = ptr[int64](9), ptr[int64](1)
		}, "", ""},
		{"ten recorded after a late success", outage, func(r *result) {
			r.RecordedFailuresBeforeOpen, r.LateSuccessesBeforeOpen = ptr[int64](10), ptr[int64](1)
		}, "failed_before_open", ""},
		{"never opened", outage, func(r *result) { r.RecordedFailuresBeforeOpen = nil }, "failed_before_open", ""},
		{"slow recovery", outage, func(r *result) { r.TimeToCloseMs = ptr(2250.1) }, "recovery", ""},
		{"never closed", outage, func(r *result) { r.TimeToCloseMs = nil }, "recovery", ""},
		{"slow recovery within the slack", slack, func(r *result) { r.TimeToCloseMs = ptr(2750.0) }, "", ""},
		{"slow recovery past the slack", slack, func(r *result) { r.TimeToCloseMs = ptr(2750.1) }, "recovery", ""},
		{"slow fallback within the slack", slack, func(r *result) { r.FallbackLatency.Max = 1499 }, "", ""},
		{"slow fallback past the slack", slack, func(r *result) { r.FallbackLatency.Max = 1500 }, "fallback_latency", ""},
		{"two probes", outage, func(r *result) { r.MaxConcurrentProbes = ptr[int64](2) }, "probes", ""},
		{"a crash may add one lease", config{Scenario: scenarioReplicaCrash, Threshold: 5, OpenTimeout: 2 * time.Second, ProbeLease: time.Second},
			func(r *result) { r.TimeToCloseMs = ptr(3200.0) }, "", ""},
		{"fast mode overshoots without failing", outage, func(r *result) {
			r.Mode = modeFast
			r.RecordedFailuresBeforeOpen = ptr[int64](9)
		}, "", "failed_before_open"},
		{"no breaker, no breaker checks", outage, func(r *result) { r.Mode, r.TimeToCloseMs, r.MaxConcurrentProbes = modeNone, nil, nil }, "", "recovery"},
		{"redis caused a failure", config{Scenario: scenarioRedisDown}, func(r *result) { r.RedisCausedFailures = ptr[int64](1) }, "redis_caused_failures", "recovery"},
		{"steady has no outage checks", config{Scenario: scenarioSteady}, func(r *result) { r.RecordedFailuresBeforeOpen = nil }, "", "failed_before_open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.change(&r)
			in := reportInput{}
			if tt.cfg.Scenario == scenarioRedisDown {
				in.RedisDown = &window{time.Second, 2 * time.Second}
			}
			for _, c := range checks(&tt.cfg, []modeRun{{Result: r, Input: in}}) {
				if c.Name == tt.absent {
					t.Errorf("check %s applied: %s", c.Name, c.Detail)
				}
				if c.OK == (c.Name == tt.failed) {
					t.Errorf("check %s ok=%v: %s", c.Name, c.OK, c.Detail)
				}
			}
		})
	}
}
