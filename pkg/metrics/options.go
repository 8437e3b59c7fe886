package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// DefaultDurationBuckets returns the buckets of api_call_duration_seconds, in
// seconds: from a cache hit on the same host (1 ms) to a slow vision model
// (2 min).
func DefaultDurationBuckets() []float64 {
	return []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120}
}

type options struct {
	buckets []float64
}

// Option configures the collectors.
type Option func(*options)

// WithDurationBuckets sets the buckets of api_call_duration_seconds
// (default DefaultDurationBuckets): at least one, strictly increasing.
func WithDurationBuckets(buckets []float64) Option {
	return func(o *options) { o.buckets = slices.Clone(buckets) }
}

func resolve(opts []Option) (options, error) {
	o := options{buckets: DefaultDurationBuckets()}
	for _, opt := range opts {
		if opt == nil {
			return o, errors.New("metrics: nil option")
		}
		opt(&o)
	}
	if len(o.buckets) == 0 {
		return o, errors.New("metrics: WithDurationBuckets: no buckets")
	}
	for i, b := range o.buckets {
		if math.IsNaN(b) {
			return o, fmt.Errorf("metrics: WithDurationBuckets: bucket %d is NaN", i)
		}
		if i > 0 && !(b > o.buckets[i-1]) {
			return o, fmt.Errorf("metrics: WithDurationBuckets: buckets not strictly increasing at %d: %v", i, o.buckets)
		}
	}
	return o, nil
}
