package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// report is the JSON document written by -json.
type report struct {
	Scenario string         `json:"scenario"`
	Settings map[string]any `json:"settings"`
	Results  []result       `json:"results"`
	Windows  []windowsJSON  `json:"windows"`
	Checks   []checkResult  `json:"checks,omitempty"`
	Passed   *bool          `json:"passed,omitempty"`
}

// windowsJSON says when each run's fault and Redis outage really happened.
type windowsJSON struct {
	Mode        string    `json:"mode"`
	FaultMs     []float64 `json:"fault_ms,omitempty"`
	RedisDownMs []float64 `json:"redis_down_ms,omitempty"`
}

func settings(c *config) map[string]any {
	return map[string]any{
		"replicas": c.Replicas, "vus": c.VUs, "duration": c.Duration.String(), "requests_limit": c.Requests,
		"think": c.Think.String(), "procs": c.Procs, "seed": c.Seed,
		"fault_at": c.FaultAt.String(), "fault_for": c.FaultFor.String(), "error_rate": c.ErrorRate,
		"error_status": c.ErrorStatus, "slow_latency": c.SlowLatency.String(),
		"redis_down_at": c.RedisDownAt.String(), "redis_down_for": c.RedisDownFor.String(),
		"threshold": c.Threshold, "open_timeout": c.OpenTimeout.String(), "probe_lease": c.ProbeLease.String(),
		"attempt_timeout": c.AttemptTimeout.String(), "store_timeout": c.StoreTimeout.String(),
		"slow_call": c.SlowCall.String(), "slow_rate": c.SlowRate, "window": c.Window.String(),
		"min_calls": c.MinCalls, "flush_interval": c.FlushInterval.String(),
		"retries": c.Retries, "retry_base": c.RetryBase.String(), "retry_max_delay": c.RetryMaxDelay.String(),
		"retry_budget": c.RetryBudget, "primary_timeout": c.PrimaryTimeout.String(),
		"request_timeout": c.RequestTimeout.String(),
	}
}

func buildReport(c *config, runs []modeRun, cs []checkResult) report {
	rep := report{Scenario: c.Scenario, Settings: settings(c), Checks: cs}
	for _, r := range runs {
		rep.Results = append(rep.Results, r.Result)
		w := windowsJSON{Mode: r.Result.Mode}
		if f := r.Input.Fault; f != nil {
			w.FaultMs = []float64{ms(f.Start), ms(f.End)}
		}
		if d := r.Input.RedisDown; d != nil {
			w.RedisDownMs = []float64{ms(d.Start), ms(d.End)}
		}
		rep.Windows = append(rep.Windows, w)
	}
	if c.Check {
		ok := true
		for _, ch := range cs {
			ok = ok && ch.OK
		}
		rep.Passed = &ok
	}
	return rep
}

func writeJSON(path string, rep report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("loadtest: -json: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("loadtest: -json: %w", err)
	}
	return nil
}

// writeTable prints the report as a table: one row per figure, one column
// per mode.
func writeTable(w io.Writer, c *config, runs []modeRun, cs []checkResult) error {
	procs := ""
	if c.Procs {
		procs = " (processes)"
	}
	fmt.Fprintf(w, "scenario %s: %d replicas%s, %d users (think %s), %s", c.Scenario, c.Replicas, procs, c.VUs, c.Think, c.Duration)
	if c.usesFault() {
		fmt.Fprintf(w, ", fault from %s for %s", c.FaultAt, c.FaultFor)
	}
	if c.Scenario == scenarioRedisDown {
		fmt.Fprintf(w, ", Redis down from %s for %s", c.RedisDownAt, c.RedisDownFor)
	}
	fmt.Fprintf(w, "; breaker threshold %d, open timeout %s\n\n", c.Threshold, c.OpenTimeout)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"", "\t"}
	for _, r := range runs {
		head = append(head, r.Result.Mode+"\t")
	}
	fmt.Fprintln(tw, strings.Join(head, ""))
	row := func(name string, f func(r result) string) {
		cells := []string{name, "\t"}
		for _, r := range runs {
			cells = append(cells, f(r.Result)+"\t")
		}
		fmt.Fprintln(tw, strings.Join(cells, ""))
	}
	num := func(f func(r result) int64) func(result) string {
		return func(r result) string { return fmt.Sprint(f(r)) }
	}
	opt := func(f func(r result) *int64) func(result) string {
		return func(r result) string { return fmtInt(f(r)) }
	}
	optf := func(f func(r result) *float64) func(result) string {
		return func(r result) string { return fmtFloat(f(r)) }
	}
	lat := func(f func(r result) float64) func(result) string {
		return func(r result) string { return fmt.Sprintf("%.2f", f(r)) }
	}
	row("requests", num(func(r result) int64 { return r.Requests }))
	row("responded %", func(r result) string { return fmt.Sprintf("%.3f", 100*r.RespondedRatio) })
	row("  full", num(func(r result) int64 { return r.RespondedFull }))
	row("  degraded", num(func(r result) int64 { return r.RespondedDegraded }))
	row("failed", num(func(r result) int64 { return r.Failed }))
	if c.Scenario == scenarioReplicaCrash {
		row("replicas killed", num(func(r result) int64 { return r.ReplicasKilled }))
		row("lost in crash", num(func(r result) int64 { return r.LostInCrash }))
	}
	row("upstream calls", num(func(r result) int64 { return r.UpstreamCalls }))
	row("  failed", num(func(r result) int64 { return r.FailedUpstreamCalls }))
	row("amplification", func(r result) string { return fmt.Sprintf("%.3f", r.Amplification) })
	if c.usesFault() {
		row("  during the fault", func(r result) string {
			if r.FaultAmplification == nil {
				return "-"
			}
			return fmt.Sprintf("%.3f", *r.FaultAmplification)
		})
	}
	row("failed calls before open", opt(func(r result) *int64 { return r.FailedUpstreamCallsBeforeOpen }))
	row("  recorded by the breaker", opt(func(r result) *int64 { return r.RecordedFailuresBeforeOpen }))
	row("  late successes (reset the count)", opt(func(r result) *int64 { return r.LateSuccessesBeforeOpen }))
	row("  stale (already in flight)", opt(func(r result) *int64 { return r.StaleFailuresBeforeOpen }))
	row("admitted while open", opt(func(r result) *int64 { return r.AdmittedWhileOpen }))
	row("max concurrent probes", opt(func(r result) *int64 { return r.MaxConcurrentProbes }))
	row("time to trip ms", optf(func(r result) *float64 { return r.TimeToTripMs }))
	row("time to open ms", optf(func(r result) *float64 { return r.TimeToOpenMs }))
	row("time to close ms", optf(func(r result) *float64 { return r.TimeToCloseMs }))
	row("transitions", num(func(r result) int64 { return r.Transitions }))
	row("latency p50 ms", lat(func(r result) float64 { return r.Latency.P50 }))
	row("latency p95 ms", lat(func(r result) float64 { return r.Latency.P95 }))
	row("latency p99 ms", lat(func(r result) float64 { return r.Latency.P99 }))
	row("latency max ms", lat(func(r result) float64 { return r.Latency.Max }))
	row("fallback p99 ms", lat(func(r result) float64 { return r.FallbackLatency.P99 }))
	row("fallback max ms", lat(func(r result) float64 { return r.FallbackLatency.Max }))
	row("guard overhead p50 ms", lat(func(r result) float64 { return r.GuardOverhead.P50 }))
	row("guard overhead p95 ms", lat(func(r result) float64 { return r.GuardOverhead.P95 }))
	row("store errors", num(func(r result) int64 { return r.StoreErrors }))
	row("stale reports", num(func(r result) int64 { return r.StaleReports }))
	row("local decisions", num(func(r result) int64 { return r.LocalDecisions }))
	row("longest stall ms", lat(func(r result) float64 { return r.MaxStallMs }))
	if c.Scenario == scenarioRedisDown {
		row("redis-caused failures", opt(func(r result) *int64 { return r.RedisCausedFailures }))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(cs) > 0 {
		fmt.Fprintln(w)
		for _, ch := range cs {
			verdict := "ok  "
			if !ch.OK {
				verdict = "FAIL"
			}
			fmt.Fprintf(w, "%s %-6s %-22s %s\n", verdict, ch.Mode, ch.Name, ch.Detail)
		}
	}
	return nil
}
