// Package chain keeps the bot answering when an upstream fails: ordered
// fallback chains, and the Guard that wraps every call to one upstream the
// same way. Both live here because a chain's steps are calls through a
// Guard: GuardedStep makes one, and the metrics observe both through one
// Observer.
//
// Usage:
//
//	openAIGuard, _ := chain.NewGuard("openai", chain.GuardConfig{
//		Breaker: openAIBreaker, Retry: openAIRetry, AttemptTimeout: 20 * time.Second,
//	}, chain.WithObserver(m.APIs))
//	text, _ := chain.New("text", []chain.Step[string]{
//		chain.GuardedStep(anthropicGuard, askAnthropic),
//		chain.GuardedStep(openAIGuard, askOpenAI),
//		{Name: "cache", Degraded: true, Fn: cachedAnswer},
//	}, chain.WithTimeout(20*time.Second))
//	res, err := text.Execute(ctx)
//	if err == nil && res.Degraded { /* tell the user the answer is a fallback */ }
//
// Chain.Execute runs a chain; Execute and Guard.Do run one function through
// a Guard, with a result or without. Build a Chain and a Guard once and use
// them for every call: both are safe for concurrent use. Options give the
// collaborators (WithClock, WithLogger, WithObserver) and a chain's
// deadline (WithTimeout) and final errors (WithStopOn); invalid
// configuration is a *config.Error.
//
// # Chains
//
// A Chain tries its steps in order and returns the first success, with the
// name and index of the step that served and whether the answer is degraded
// (served by a step after the first, or by a step flagged Degraded). When no
// step serves, Execute returns one *Error that names every step that failed
// and unwraps to each of their errors, so errors.Is and errors.As see
// through it.
//
// A step that fails falls through to the next one, whatever the error: a 400
// from one provider may well be accepted by the next, and a 401 means only
// that one provider's key is wrong. WithStopOn names the errors that should
// end the chain instead (IsBadRequest is a ready predicate).
//
// Not every error of a step is a failure: WithNotFound names the errors by
// which a step says it has nothing for this request (a cache miss, a food
// no source knows). The chain moves on all the same, but such a step is
// no failure for the observers and the log, and the step after it is no
// fallback unless another step failed: a chain that looks further is not
// falling back. An answer such as "this photo shows no food" is no error
// at all: the step returns it as its value, and the chain stops there.
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
// call, from a GuardConfig holding the upstream's breaker (package
// dbreaker) and retry policy (package retry). Each attempt passes the
// breaker, so failed attempts count towards opening it, and an attempt the
// open breaker rejects ends the retry at once instead of sleeping (package
// retry never retries a rejection). Before each wait the Guard asks its
// breaker too (retry.WithBeforeWait): one that will still be open when the
// wait ends, because this very retry just tripped it or a probe failed,
// ends the retry at once with retry.ErrBlocked instead of a wait in vain.
// With a chain in front the full order reads chain → retry → breaker →
// timeout → call. NewGuard refuses a breaker whose ProbeLease does not
// outlast the AttemptTimeout, since a probe that outlives its lease lets a
// second probe start. A nil Breaker makes the Guard pass straight to the
// call (breakers switched off); a nil Retry makes one attempt.
//
// # Observability
//
// Chains log with messages that start "[FALLBACK]". An Observer
// (WithObserver) is told about every step a chain ran
// (fallback_executions_total counts those that ran as fallbacks, see
// StepEvent.Fallback) and every attempt and retry a Guard made
// (api_calls_total, api_call_duration_seconds, api_failures_total,
// api_retries_total, labelled as Labels says: an upstream's answer with
// a success status that is not what was asked for is a failure of class
// "bad_response", see BadResponse); package metrics implements it. Error
// text passed to logs, errors and observers has the query string and user
// info of every URL removed (package redact), so an API key in a request
// URL never reaches a log.
package chain
