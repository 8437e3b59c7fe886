package chain

import (
	"context"

	"github.com/healthagent/resilience/pkg/retry"
)

// StepEvent describes one step that ran: it served (Err nil) or failed. A
// step interrupted by the caller's cancellation is not reported.
type StepEvent struct {
	// Chain is the chain's name; Primary is the name of its first step
	// (the primary_api of fallback_executions_total).
	Chain   string
	Primary string
	// Step is the step's name, Index its position (0: the primary).
	Step  string
	Index int
	// Degraded: the step is a fallback or flagged Degraded.
	Degraded bool
	// Err is the step's error; nil when it served.
	Err error
	// NotFound: Err says that the step has nothing for this request (see
	// WithNotFound), which is no failure.
	NotFound bool
	// FailedBefore counts the steps of this run before this one that
	// failed; steps that found nothing are not counted.
	FailedBefore int
}

// Fallback reports whether the step runs as a fallback: a step before it
// in the same run failed. A step after steps that only found nothing (a
// cache miss, a food USDA does not know) is the chain looking further, not
// falling back.
func (e StepEvent) Fallback() bool { return e.FailedBefore > 0 }

// Observer is told what chains and Guards do (WithObserver): a chain
// reports every step that ran, a Guard every attempt and every retry. Its
// methods run on the caller's goroutine and must be quick and safe for
// concurrent use. Package metrics implements it (fallback_executions_total,
// api_calls_total, api_call_duration_seconds, api_failures_total,
// api_retries_total); embed NopObserver to implement part of it.
type Observer interface {
	// OnStep is called once per step a chain ran.
	OnStep(ctx context.Context, e StepEvent)
	// OnAttempt is called once per attempt a Guard made, rejected attempts
	// included.
	OnAttempt(ctx context.Context, a Attempt)
	// OnRetry is called before the wait for each retry of a Guard; e.Name
	// is the Guard's name.
	OnRetry(ctx context.Context, e retry.RetryEvent)
}

// NopObserver ignores everything; embed it to implement part of Observer.
type NopObserver struct{}

func (NopObserver) OnStep(context.Context, StepEvent)         {}
func (NopObserver) OnAttempt(context.Context, Attempt)        {}
func (NopObserver) OnRetry(context.Context, retry.RetryEvent) {}

// ObserverFunc adapts a function to an Observer of a chain's steps: OnStep
// calls it; OnAttempt and OnRetry do nothing.
type ObserverFunc func(ctx context.Context, e StepEvent)

// OnStep calls f.
func (f ObserverFunc) OnStep(ctx context.Context, e StepEvent) { f(ctx, e) }

func (ObserverFunc) OnAttempt(context.Context, Attempt)        {}
func (ObserverFunc) OnRetry(context.Context, retry.RetryEvent) {}
