package metrics

import (
	"fmt"
	"math"
	"slices"

	"github.com/healthagent/resilience/pkg/config"
)

// DefaultDurationBuckets returns the buckets of api_call_duration_seconds, in
// seconds: from a cache hit on the same host (1 ms) to a slow vision model
// (2 min).
func DefaultDurationBuckets() []float64 {
	return []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120}
}

type options struct {
	buckets []float64

	given []string // the names of the options given, in order
}

// Option configures the collectors. Each option's comment names the
// constructors that take it; the others refuse it with a *config.Error.
type Option func(*options) error

// WithDurationBuckets sets the buckets of api_call_duration_seconds
// (default DefaultDurationBuckets): at least one, strictly increasing. For
// New and NewAPIs.
func WithDurationBuckets(buckets []float64) Option {
	return func(o *options) error {
		o.given = append(o.given, "WithDurationBuckets")
		if len(buckets) == 0 {
			return invalid("WithDurationBuckets", buckets, "no buckets")
		}
		for i, b := range buckets {
			if math.IsNaN(b) {
				return invalid("WithDurationBuckets", buckets, fmt.Sprintf("bucket %d is NaN", i))
			}
			if i > 0 && !(b > buckets[i-1]) {
				return invalid("WithDurationBuckets", buckets, fmt.Sprintf("buckets not strictly increasing at %d", i))
			}
		}
		o.buckets = slices.Clone(buckets)
		return nil
	}
}

// resolve applies opts over the defaults for constructor what, which takes
// the options named in accepted.
func resolve(what string, opts []Option, accepted ...string) (options, error) {
	o := options{buckets: DefaultDurationBuckets()}
	err := config.ApplyOptions("metrics", what, &o, &o.given, opts, accepted...)
	return o, err
}

// invalid returns the *config.Error of this package for field.
func invalid(field string, value any, reason string) error {
	return &config.Error{Package: "metrics", Field: field, Value: value, Reason: reason}
}
