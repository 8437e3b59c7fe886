// Package chain keeps the bot answering when an upstream fails: ordered
// fallback chains, and the Guard that wraps every call to one upstream the
// same way.
//
// Usage:
//
//	text, _ := chain.New("text", []chain.Step[string]{
//		chain.GuardedStep(anthropicGuard, askAnthropic),
//		chain.GuardedStep(openAIGuard, askOpenAI),
//		{Name: "cache", Degraded: true, Fn: cachedAnswer},
//	}, chain.WithTimeout(20*time.Second))
//	res, err := text.Run(ctx)
//	if err == nil && res.Degraded { /* tell the user the answer is a fallback */ }
//
// # Chains
//
// A Chain tries its steps in order and returns the first success, with the
// name and index of the step that served and whether the answer is degraded
// (served by a step after the first, or by a step flagged Degraded). When no
// step serves, Run returns one *Error that names every step that failed and
// unwraps to each of their errors, so errors.Is and errors.As see through it.
//
// A step that fails falls through to the next one, whatever the error: a 400
// from one provider may well be accepted by the next, and a 401 means only
// that one provider's key is wrong. WithStopOn names the errors that should
// end the chain instead (IsBadRequest is a ready predicate).
//
// Time: Step.Timeout bounds one step, retries included; WithTimeout bounds
// the whole run, and so does the caller's own deadline. Step.Share bounds a
// step to a fraction of the time left when it starts, so that one deadline
// per request leaves the fallbacks time to answer: a primary with Share 0.5
// gets half of what is left, however long its attempt timeout. No step
// starts once the deadline has passed. A caller that cancels its context stops the chain
// at once; the step it interrupted is not counted as a failure. Steps must
// honour their context: a chain runs them on the caller's goroutine and
// never abandons one.
//
// # Guard
//
// A Guard composes, outermost first: retry → breaker → per-attempt timeout →
// call. Each attempt passes the breaker, so failed attempts count towards
// opening it, and an attempt the open breaker rejects ends the retry at once
// instead of sleeping (package retry never retries a rejection). Before
// each wait the Guard asks its breaker too (retry.Policy.BeforeWait): one
// that will still be open when the wait ends, because this very retry just
// tripped it or a probe failed, ends the retry at once with
// retry.ErrBlocked instead of a wait in vain. With a chain in front the full order reads chain → retry → breaker → timeout →
// call. NewGuard refuses a breaker whose ProbeLease does not outlast the
// AttemptTimeout, since a probe that outlives its lease lets a second probe
// start. A nil Breaker makes the Guard pass straight to the call (breakers
// switched off).
//
// # Observability
//
// Chains log with messages that start "[FALLBACK]" and tell each Observer
// about every step that ran (fallback_executions_total). A Guard tells its
// Recorder about every attempt and retry (api_calls_total,
// api_call_duration_seconds, api_failures_total, api_retries_total);
// package metrics implements both. Error text passed to logs, errors and
// recorders has the query string and user info of every URL removed, so an
// API key in a request URL never reaches a log.
package chain
