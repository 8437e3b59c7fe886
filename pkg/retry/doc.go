// Package retry calls a function again when it fails for a reason that may
// pass: exponential backoff with jitter, the server's Retry-After hint, a
// classifier that knows which errors are worth another attempt, a deadline
// that is never slept past, and a per-upstream retry budget against retry
// storms.
//
// Usage:
//
//	budget, _ := retry.NewBudget(retry.BudgetConfig{})
//	policy, _ := retry.New("openai", retry.Config{}, retry.WithBudget(budget), retry.WithLogger(logger))
//	answer, err := retry.Execute(ctx, policy, func(ctx context.Context) (string, error) {
//		return callOpenAI(ctx, prompt)
//	})
//	if errors.Is(err, retry.ErrExhausted) { /* every attempt failed */ }
//
// Execute runs a function with a result, Policy.Do one without. The zero
// Config is the planned default: 3 retries (4 attempts), waits of 1 s,
// 2 s, 4 s… up to 30 s, each spread by ±10 %. Options give the
// collaborators: WithClock, WithLogger, WithObserver, WithBudget,
// WithBeforeWait, WithRand. Give each upstream one Policy and one Budget,
// shared by all its calls. Invalid configuration is a *config.Error.
//
// # What is retried
//
// DefaultRetryable retries only errors known to be transient: timeouts,
// reset or refused connections, and HTTP 408, 429, 500, 502, 503, 504 and
// 529. A response becomes an error with FromResponse; an SDK's error becomes
// visible through a small adapter with a StatusCode() int method (see
// StatusCoder). Permanent errors, rejections (errors with a Rejected method
// that returns true, such as a circuit breaker's: see Rejection) and a done
// caller context always stop at once. The package depends on no other
// package of the module but its leaf packages clock, config and redact.
//
// # Composition
//
// Per upstream, outermost first: fallback chain → retry → breaker → timeout
// → call. Each attempt passes the breaker, so failed attempts count towards
// opening it, and once it is open the next attempt is rejected at once and
// the retry stops instead of sleeping (chain.Guard builds this).
//
// # Observability
//
// An Observer (WithObserver) receives a RetryEvent before each wait and a
// StopEvent with the StopReason when Execute returns, which is all a
// metrics package needs (api_retries_total{api} counts OnRetry calls). The
// logger (WithLogger, default slog.Default()) logs retries and give-ups
// with messages that start "[RETRY]".
//
// Time and randomness come from WithClock and WithRand, so tests inject a
// fake clock and never sleep.
package retry
