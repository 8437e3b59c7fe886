package retry

import (
	"math"
	"testing"
	"time"
)

const (
	ms = time.Millisecond
	s1 = time.Second
)

func TestExponential(t *testing.T) {
	tests := []struct {
		name      string
		base, max time.Duration
		retry     int
		want      time.Duration
	}{
		{"first retry waits base", s1, 30 * s1, 1, s1},
		{"second doubles", s1, 30 * s1, 2, 2 * s1},
		{"fifth", s1, 30 * s1, 5, 16 * s1},
		{"sixth is capped", s1, 30 * s1, 6, 30 * s1},
		{"retry zero counts as first", s1, 30 * s1, 0, s1},
		{"shift past 63 bits", s1, 30 * s1, 100, 30 * s1},
		{"huge base does not overflow", 1 << 62, math.MaxInt64, 3, math.MaxInt64},
		{"exact fit below max", 250 * ms, s1, 3, s1},
		{"base equals max", s1, s1, 4, s1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exponential(tt.base, tt.max, tt.retry); got != tt.want {
				t.Errorf("exponential(%s, %s, %d) = %s, want %s", tt.base, tt.max, tt.retry, got, tt.want)
			}
		})
	}
}

func TestJitterFunctions(t *testing.T) {
	tests := []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"proportional r=0 is d·(1−f)", proportional(10*s1, 0.1, 0), 9 * s1},
		{"proportional r=0.5 is d", proportional(10*s1, 0.1, 0.5), 10 * s1},
		{"proportional r=1 is d·(1+f)", proportional(10*s1, 0.1, 1), 11 * s1},
		{"proportional f=0 ignores r", proportional(10*s1, 0, 0.9), 10 * s1},
		{"proportional f=1 r=0 is zero", proportional(10*s1, 1, 0), 0},
		{"full r=0", full(10*s1, 0), 0},
		{"full r=0.25", full(10*s1, 0.25), 2500 * ms},
		{"full r=1", full(10*s1, 1), 10 * s1},
		{"decorrelated first retry r=0 is base", decorrelated(s1, 30*s1, 0, 0), s1},
		{"decorrelated first retry r=1 is 3·base", decorrelated(s1, 30*s1, 0, 1), 3 * s1},
		{"decorrelated prev 4s r=0.5 is 1+0.5·(12−1)", decorrelated(s1, 30*s1, 4*s1, 0.5), 6500 * ms},
		{"decorrelated is capped", decorrelated(s1, 30*s1, 20*s1, 1), 30 * s1},
		{"decorrelated prev below base counts as base", decorrelated(2*s1, 30*s1, ms, 1), 6 * s1},
		{"decorrelated huge prev is capped", decorrelated(s1, 30*s1, math.MaxInt64, 1), 30 * s1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
}

func TestFromSecondsAndClamp(t *testing.T) {
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"fromSeconds negative", float64(fromSeconds(-1)), 0},
		{"fromSeconds NaN", float64(fromSeconds(math.NaN())), 0},
		{"fromSeconds +Inf", float64(fromSeconds(math.Inf(1))), math.MaxInt64},
		{"fromSeconds 1e12", float64(fromSeconds(1e12)), math.MaxInt64},
		{"fromSeconds 1.5", float64(fromSeconds(1.5)), float64(1500 * ms)},
		{"clamp negative", clampUnit(-0.5), 0},
		{"clamp NaN", clampUnit(math.NaN()), 0},
		{"clamp above one", clampUnit(7), 1},
		{"clamp inside", clampUnit(0.3), 0.3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

// TestBackoffSchedule checks the whole schedule of the default delays (base
// 1 s, max 30 s) for each jitter mode with a fixed random number. The
// decorrelated schedule feeds each wait back as prev, as Execute does.
func TestBackoffSchedule(t *testing.T) {
	tests := []struct {
		name   string
		policy Config
		r      float64
		want   []time.Duration
	}{
		{"none", Config{Jitter: JitterNone}, 0.9,
			[]time.Duration{1 * s1, 2 * s1, 4 * s1, 8 * s1, 16 * s1, 30 * s1, 30 * s1}},
		{"proportional r=1: +10 %, capped at max", Config{}, 1,
			[]time.Duration{1100 * ms, 2200 * ms, 4400 * ms, 8800 * ms, 17600 * ms, 30 * s1, 30 * s1}},
		{"proportional r=0: −10 %", Config{}, 0,
			[]time.Duration{900 * ms, 1800 * ms, 3600 * ms, 7200 * ms, 14400 * ms, 27 * s1, 27 * s1}},
		{"proportional f=0.5 r=0.75: +25 %", Config{JitterFraction: 0.5}, 0.75,
			[]time.Duration{1250 * ms, 2500 * ms, 5 * s1, 10 * s1, 20 * s1, 30 * s1, 30 * s1}},
		{"full r=0.5: half", Config{Jitter: JitterFull}, 0.5,
			[]time.Duration{500 * ms, 1 * s1, 2 * s1, 4 * s1, 8 * s1, 15 * s1, 15 * s1}},
		// d(n) = 1 s + 0.5·(3·d(n−1) − 1 s), d(0) = 1 s.
		{"decorrelated r=0.5", Config{Jitter: JitterDecorrelated}, 0.5,
			[]time.Duration{2 * s1, 3500 * ms, 5750 * ms, 9125 * ms, 14187500 * time.Microsecond, 21781250 * time.Microsecond, 30 * s1}},
		{"decorrelated r=0: always base", Config{Jitter: JitterDecorrelated}, 0,
			[]time.Duration{s1, s1, s1, s1, s1, s1, s1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.policy.Validate(); err != nil {
				t.Fatal(err)
			}
			s := tt.policy.settings()
			var prev time.Duration
			for i, want := range tt.want {
				got := s.backoff(i+1, prev, tt.r)
				if got != want {
					t.Errorf("retry %d: backoff = %s, want %s", i+1, got, want)
				}
				prev = got
			}
		})
	}
}

func TestBackoffNeverExceedsMaxWhateverRand(t *testing.T) {
	for _, j := range []Jitter{JitterProportional, JitterFull, JitterDecorrelated, JitterNone} {
		t.Run(j.String(), func(t *testing.T) {
			p := Config{Jitter: j, MaxDelay: 10 * s1}
			s := p.settings()
			prev := time.Duration(0)
			for i, r := range []float64{1, 2, math.Inf(1), math.NaN(), -1, 1, 1, 1, 1, 1} {
				d := s.backoff(i+1, prev, r)
				if d < 0 || d > 10*s1 {
					t.Fatalf("retry %d with r=%v: backoff %s outside [0, 10s]", i+1, r, d)
				}
				prev = d
			}
		})
	}
}
