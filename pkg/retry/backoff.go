package retry

import (
	"math"
	"time"
)

// The functions in this file are pure: the randomness r, uniform in [0, 1],
// is an argument, so the schedule can be tested with fixed inputs.

// exponential returns base·2^(retry−1), capped at maxDelay, without
// overflowing; retry counts from 1.
func exponential(base, maxDelay time.Duration, retry int) time.Duration {
	n := retry - 1
	if n < 0 {
		n = 0
	}
	if n >= 63 || base > maxDelay>>n {
		return maxDelay
	}
	return base << n
}

// proportional spreads d uniformly over [d·(1−f), d·(1+f)].
func proportional(d time.Duration, f, r float64) time.Duration {
	return fromSeconds(d.Seconds() * (1 + f*(2*r-1)))
}

// full picks uniformly in [0, d].
func full(d time.Duration, r float64) time.Duration {
	return fromSeconds(d.Seconds() * r)
}

// decorrelated picks uniformly in [base, 3·prev], capped at maxDelay; a prev
// below base counts as base.
func decorrelated(base, maxDelay, prev time.Duration, r float64) time.Duration {
	if prev < base {
		prev = base
	}
	lo, hi := base.Seconds(), 3*prev.Seconds()
	d := fromSeconds(lo + r*(hi-lo))
	if d > maxDelay {
		return maxDelay
	}
	return d
}

// fromSeconds converts without overflow; the result is in [0, MaxInt64].
func fromSeconds(s float64) time.Duration {
	ns := s * float64(time.Second)
	switch {
	case !(ns > 0): // also NaN
		return 0
	case ns >= math.MaxInt64:
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// clampUnit forces r into [0, 1]; NaN becomes 0.
func clampUnit(r float64) float64 {
	switch {
	case !(r >= 0):
		return 0
	case r > 1:
		return 1
	}
	return r
}

// backoff returns the wait before retry number retry (from 1), given the
// previous wait (for JitterDecorrelated) and r in [0, 1]. The result never
// exceeds s.max.
func (s *settings) backoff(retry int, prev time.Duration, r float64) time.Duration {
	r = clampUnit(r)
	var d time.Duration
	switch s.jitter {
	case JitterDecorrelated:
		d = decorrelated(s.base, s.max, prev, r)
	case JitterFull:
		d = full(exponential(s.base, s.max, retry), r)
	case JitterNone:
		d = exponential(s.base, s.max, retry)
	default:
		d = proportional(exponential(s.base, s.max, retry), s.fraction, r)
	}
	if d > s.max {
		d = s.max
	}
	return d
}
