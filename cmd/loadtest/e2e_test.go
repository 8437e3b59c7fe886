package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthagent/resilience/internal/testredis"
)

// roomy gives room on a busy machine to what these tests are not about:
// the breakers' Redis calls (a store call that times out is decided by a
// replica alone; the probe lease must outlast an attempt and two store
// calls), each request's deadline, the time limits of -check, which are
// the tool's criteria for a run on a quiet machine (CI's smoke run applies
// them as they are), and the slow-call policy (a loaded machine makes
// every call slow, and would trip the breaker before the outage). The
// tests are about the upstream's failures and what the replicas do about
// them.
var roomy = []string{"-store-timeout", "500ms", "-probe-lease", "1500ms", "-request-timeout", "10s", "-check-slack", "10s", "-slow-rate", "0"}

// runTool runs the tool with args plus -json and -check, and returns its
// report. The run must pass every check.
func runTool(t *testing.T, args ...string) report {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	args = append(append(args, roomy...), "-json", out, "-check")
	code := run(t.Context(), args, strings.NewReader(""), &stdout, &stderr)
	t.Logf("loadtest %s\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
	if code != exitOK {
		t.Fatalf("exit status %d, want %d", code, exitOK)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("-json: %v\n%s", err, data)
	}
	if rep.Passed == nil || !*rep.Passed {
		t.Fatalf("-json says the checks did not pass: %+v", rep.Checks)
	}
	return rep
}

// An outage in strict mode on the shared Redis, in a few seconds: every
// request answered, the breaker opens on -threshold failures in total, at
// most one probe at a time, recovery within one open timeout, and the
// run's keys deleted.
func TestOutageStrictEndToEnd(t *testing.T) {
	client := testredis.Client(t)
	rep := runTool(t, "-scenario", "outage", "-breaker", "strict", "-redis", testredis.Addr(),
		"-replicas", "3", "-vus", "30", "-think", "50ms", "-duration", "6s",
		"-fault-at", "1s", "-fault-for", "1s", "-open-timeout", "1s")
	if len(rep.Results) != 1 {
		t.Fatalf("%d results, want 1", len(rep.Results))
	}
	r := rep.Results[0]
	if r.Requests < 100 || r.RespondedRatio < minRespondedRatio {
		t.Errorf("%d requests, %v answered", r.Requests, r.RespondedRatio)
	}
	if r.RespondedDegraded == 0 || r.RespondedFull == 0 {
		t.Errorf("full %d, degraded %d: the outage should show both", r.RespondedFull, r.RespondedDegraded)
	}
	// Five consecutive failures open it; each success answered during the
	// outage restarts the count (see the failed_before_open check).
	if v, late := r.RecordedFailuresBeforeOpen, r.LateSuccessesBeforeOpen; v == nil || late == nil || *v < 1 || *v > 5+4**late {
		t.Errorf("recorded_failures_before_open = %s with %s late successes, want 1 to 5 + 4 per late success", fmtInt(v), fmtInt(late))
	}
	if f, s, rec := r.FailedUpstreamCallsBeforeOpen, r.StaleFailuresBeforeOpen, r.RecordedFailuresBeforeOpen; f == nil || s == nil || rec == nil || *f != *s+*rec {
		t.Errorf("failed before open %s != stale %s + recorded %s", fmtInt(f), fmtInt(s), fmtInt(rec))
	}
	if v := r.TimeToCloseMs; v == nil || *v < 0 {
		t.Errorf("time_to_close_ms = %s, want the breaker closed after the upstream recovered", fmtFloat(v))
	}
	if r.UpstreamCalls != r.UpstreamCallsSeen {
		t.Errorf("the fake upstream counted %d calls, the replicas made %d", r.UpstreamCalls, r.UpstreamCallsSeen)
	}
	if r.RedisKeyPrefix == "" {
		t.Fatal("no redis_key_prefix in the report")
	}
	keys, err := client.Keys(t.Context(), r.RedisKeyPrefix+"*").Result()
	if err != nil || len(keys) != 0 {
		t.Errorf("keys left under %s: %v %v", r.RedisKeyPrefix, keys, err)
	}
}

// Replicas as processes: after recovery the replica holding the half-open
// probe is killed with SIGKILL before it reports; another replica probes
// once the lease ends and closes the breaker.
func TestReplicaCrashProcessesEndToEnd(t *testing.T) {
	testredis.Client(t)
	rep := runTool(t, "-procs", "-scenario", "replica-crash", "-breaker", "strict", "-redis", testredis.Addr(),
		"-replicas", "3", "-vus", "15", "-think", "50ms", "-duration", "7s",
		"-fault-at", "500ms", "-fault-for", "1s", "-open-timeout", "1s")
	r := rep.Results[0]
	if r.ReplicasKilled != 1 {
		t.Errorf("%d replicas killed, want 1", r.ReplicasKilled)
	}
	if v := r.MaxConcurrentProbes; v == nil || *v != 1 {
		t.Errorf("max_concurrent_half_open_probes = %s, want 1", fmtInt(v))
	}
	if r.Requests == 0 || r.UpstreamCallsSeen == 0 {
		t.Errorf("no traffic came back from the replica processes: %+v", r)
	}
}
