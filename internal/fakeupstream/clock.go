package fakeupstream

import "github.com/healthagent/resilience/pkg/retry"

// Clock is the server's source of time: it stamps answers ("created") and
// times the added latency. Tests inject a manual one. It is the retry
// package's clock, so one fake serves both.
type Clock = retry.Clock

// Timer is a one-shot timer made by a Clock.
type Timer = retry.Timer

// SystemClock is the Clock of package time.
type SystemClock = retry.RealClock
