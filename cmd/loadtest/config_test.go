package main

import (
	"bytes"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsDefaults(t *testing.T) {
	var stderr bytes.Buffer
	c, err := parseFlags(nil, &stderr)
	if err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
	if c.Scenario != scenarioSteady || !slices.Equal(c.Modes, []string{modeStrict}) || c.Replicas != 3 || c.VUs != 100 {
		t.Errorf("defaults: scenario %q, modes %v, replicas %d, vus %d; want steady, [strict], 3, 100", c.Scenario, c.Modes, c.Replicas, c.VUs)
	}
	if c.Threshold != 5 || c.OpenTimeout != 2*time.Second || c.ErrorRate != 0.5 || c.Redis != "127.0.0.1:6379" {
		t.Errorf("defaults: threshold %d, open timeout %s, error rate %v, redis %q", c.Threshold, c.OpenTimeout, c.ErrorRate, c.Redis)
	}
	if stderr.Len() != 0 {
		t.Errorf("parsing printed %q", stderr.String())
	}
}

func TestParseFlagsCompareRunsEveryMode(t *testing.T) {
	c, err := parseFlags([]string{"-compare", "-scenario", "outage"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Modes, []string{modeNone, modeLocal, modeStrict, modeFast}) {
		t.Errorf("modes = %v", c.Modes)
	}
}

func TestParseFlagsRejectsBadValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		flag string // the flag the error must name
	}{
		{"unknown scenario", []string{"-scenario", "meltdown"}, "-scenario meltdown"},
		{"unknown mode", []string{"-breaker", "global"}, "-breaker global"},
		{"compare with a mode", []string{"-compare", "-breaker", "strict"}, "-breaker and -compare"},
		{"no replicas", []string{"-replicas", "0"}, "-replicas 0"},
		{"too many replicas", []string{"-replicas", "33"}, "-replicas 33"},
		{"no users", []string{"-vus", "0"}, "-vus 0"},
		{"fewer users than replicas", []string{"-vus", "2", "-replicas", "3"}, "-vus 2"},
		{"negative duration", []string{"-duration", "-1s"}, "-duration -1s"},
		{"endless duration", []string{"-duration", "1h"}, "-duration 1h0m0s"},
		{"negative request count", []string{"-requests", "-5"}, "-requests -5"},
		{"negative think", []string{"-think", "-1ms"}, "-think -1ms"},
		{"error rate above one", []string{"-error-rate", "1.5"}, "-error-rate 1.5"},
		{"error rate zero", []string{"-error-rate", "0"}, "-error-rate 0"},
		{"error status not 5xx", []string{"-error-status", "404"}, "-error-status 404"},
		{"threshold zero", []string{"-threshold", "0"}, "-threshold 0"},
		{"open timeout too short", []string{"-open-timeout", "0s"}, "-open-timeout 0s"},
		{"probe lease within the attempt", []string{"-probe-lease", "450ms"}, "-probe-lease 450ms"},
		{"slow rate above one", []string{"-slow-rate", "2"}, "-slow-rate 2"},
		{"retries too many", []string{"-retries", "11"}, "-retries 11"},
		{"max delay under base", []string{"-retry-base", "2s"}, "-retry-max-delay 1s"},
		{"budget above one", []string{"-retry-budget", "1.5"}, "-retry-budget 1.5"},
		{"request timeout within the primary's", []string{"-request-timeout", "500ms"}, "-request-timeout 500ms"},
		{"negative check slack", []string{"-check-slack", "-1s"}, "-check-slack -1s"},
		{"fault past the end", []string{"-scenario", "outage", "-fault-at", "8s", "-fault-for", "3s"}, "-fault-for 3s"},
		{"no time to recover", []string{"-scenario", "outage", "-fault-at", "5s", "-fault-for", "3s"}, "-duration 10s"},
		{"crash needs a lease more", []string{"-scenario", "replica-crash", "-fault-at", "3s", "-fault-for", "4s"}, "-duration 10s"},
		{"redis down past the end", []string{"-scenario", "redis-down", "-redis-down-at", "9s"}, "-redis-down-for 3s"},
		{"plot format", []string{"-plot", "out.jpg"}, "-plot out.jpg"},
		{"not a number", []string{"-vus", "many"}, "-vus"},
		{"unknown flag", []string{"-turbo"}, "-turbo"},
		{"stray argument", []string{"outage"}, `"outage"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args, &bytes.Buffer{})
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("parseFlags(%q) = %v, want a usage error", tt.args, err)
			}
			if !strings.Contains(err.Error(), tt.flag) {
				t.Errorf("error %q does not name %q", err, tt.flag)
			}
		})
	}
}

func TestParseFlagsHelp(t *testing.T) {
	var stderr bytes.Buffer
	_, err := parseFlags([]string{"-h"}, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"-scenario", "-compare", "-check", "-procs", "-plot"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage does not mention %s:\n%s", want, stderr.String())
		}
	}
}

func TestRunExitsTwoOnBadFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"-vus", "-3"}, strings.NewReader(""), &stdout, &stderr)
	if code != exitUsage {
		t.Errorf("exit status %d, want %d", code, exitUsage)
	}
	if !strings.Contains(stderr.String(), "-vus -3") || stdout.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}
