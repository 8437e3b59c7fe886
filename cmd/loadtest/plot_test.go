package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWritePlot(t *testing.T) {
	b := outageLog()
	for i := range 3 {
		b.events = append(b.events, event{Kind: kindState, Replica: i, At: msAt(500), State: statePtr(stateClosed)},
			event{Kind: kindState, Replica: i, At: msAt(1100), State: statePtr(stateOpen)})
	}
	b.events = append(b.events, event{Kind: kindCrash, Replica: 2, At: msAt(4011)})
	cfg := &config{Replicas: 3}
	runs := []modeRun{
		{Result: result{Mode: modeNone}, Input: reportInput{Mode: modeNone, End: 5 * time.Second, Fault: &window{time.Second, 3 * time.Second}}, Events: b.sorted()},
		{Result: result{Mode: modeStrict}, Input: reportInput{Mode: modeStrict, End: 5 * time.Second, RedisDown: &window{time.Second, 2 * time.Second}}, Events: b.sorted()},
	}
	tests := []struct {
		file   string
		header []byte
	}{
		{"timeline.svg", []byte("<?xml")},
		{"timeline.png", []byte("\x89PNG\r\n\x1a\n")},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			if err := writePlot(path, cfg, runs); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, tt.header) || len(data) < 1000 {
				t.Errorf("%s: %d bytes starting %q", tt.file, len(data), data[:min(len(data), 16)])
			}
		})
	}
}

func TestRateBins(t *testing.T) {
	b := &eventLogBuilder{}
	b.call(0, 10, 1, true).call(1, 20, 1, false).call(0, 300, 1, true)
	b.request(0, 100, 200, outcomeDegraded) // ends at 300: second bin
	bins := rateBins(b.sorted(), 400*time.Millisecond)
	if len(bins) != 2 {
		t.Fatalf("%d bins for 400 ms, want 2", len(bins))
	}
	if bins[0].calls != 8 || bins[0].failedCalls != 4 || bins[1].calls != 4 || bins[1].degraded != 4 || bins[0].degraded != 0 {
		t.Errorf("bins %+v", bins)
	}
}
