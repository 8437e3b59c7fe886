package chain

import "context"

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
}

// Fallback reports whether the step is a fallback: any step after the first.
func (e StepEvent) Fallback() bool { return e.Index > 0 }

// Observer is told about every step a chain runs. OnStep runs on the
// caller's goroutine and must be quick and safe for concurrent use.
// Package metrics implements it (fallback_executions_total).
type Observer interface {
	OnStep(ctx context.Context, e StepEvent)
}

// ObserverFunc adapts a function to an Observer.
type ObserverFunc func(ctx context.Context, e StepEvent)

// OnStep calls f.
func (f ObserverFunc) OnStep(ctx context.Context, e StepEvent) { f(ctx, e) }
