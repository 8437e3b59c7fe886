package retry

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/redact"
)

// Do calls fn until it succeeds or p says to stop, and returns what the last
// call returned. A nil p means the zero Policy (the defaults). If p is
// invalid, Do returns its *ConfigError without calling fn.
//
// After a failed attempt Do stops, in this order, when
//
//   - the error is not retryable: a Permanent error (then Do returns the
//     error inside), a circuit breaker rejection, or an error the classifier
//     refuses (returned as it is);
//   - the caller's context is done (a *GiveUpError matching ctx.Err());
//   - the attempts are exhausted (a *GiveUpError matching ErrExhausted);
//   - the next wait would end at or after the context deadline (ErrDeadline);
//   - Policy.BeforeWait says the attempt after the wait could not run
//     (ErrBlocked), as when a circuit breaker will still be open;
//   - the retry budget is empty (ErrBudgetExhausted);
//   - the context is done during the wait.
//
// The wait is the server's Retry-After hint when the error has one (see
// RetryAfterer), else the jittered exponential backoff; either way at most
// Policy.MaxDelay. fn receives ctx unchanged: apply a per-attempt timeout
// inside fn. Results returned together with an error by a retried attempt
// are dropped, so fn should release them itself.
func Do[T any](ctx context.Context, p *Policy, fn func(ctx context.Context) (T, error)) (T, error) {
	if err := p.Validate(); err != nil {
		var zero T
		return zero, err
	}
	if p == nil {
		p = &Policy{}
	}
	if p.Budget != nil {
		p.Budget.Deposit()
	}
	v, err := fn(ctx)
	if err != nil {
		return retryAfterFailure(ctx, p, fn, v, err)
	}
	if p.OnStop != nil {
		p.OnStop(ctx, StopEvent{Name: p.Name, Attempts: 1, Reason: StopSuccess})
	}
	return v, nil
}

// Run is Do for a function without a result.
func Run(ctx context.Context, p *Policy, fn func(ctx context.Context) error) error {
	_, err := Do(ctx, p, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(ctx)
	})
	return err
}

// retryAfterFailure is the slow path of Do, entered after the first attempt
// failed with err.
func retryAfterFailure[T any](ctx context.Context, p *Policy, fn func(context.Context) (T, error), v T, err error) (T, error) {
	s := p.settings()
	attempts := 1
	var prev time.Duration
	for {
		if pe, ok := err.(*permanentError); ok {
			return v, p.stop(ctx, attempts, StopNotRetryable, pe.err)
		}
		if IsPermanent(err) || isRejected(err) || !s.classify(err) {
			return v, p.stop(ctx, attempts, StopNotRetryable, err)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return v, p.giveUp(ctx, &GiveUpError{Attempts: attempts, Reason: StopContextDone, Err: err, ctxErr: ctxErr})
		}
		if attempts > s.maxRetries {
			return v, p.giveUp(ctx, &GiveUpError{Attempts: attempts, Reason: StopExhausted, Err: err})
		}

		delay, hinted := retryAfterHint(err, s.max)
		if !hinted {
			delay = s.backoff(attempts, prev, s.rand())
		}
		if deadline, ok := ctx.Deadline(); ok && !s.clock.Now().Add(delay).Before(deadline) {
			return v, p.giveUp(ctx, &GiveUpError{Attempts: attempts, Reason: StopDeadline, Delay: delay, Err: err})
		}
		if p.BeforeWait != nil {
			if blocked := p.BeforeWait(ctx, delay); blocked != nil {
				return v, p.giveUp(ctx, &GiveUpError{Attempts: attempts, Reason: StopBlocked, Delay: delay, Err: err, blocked: blocked})
			}
		}
		if p.Budget != nil && !p.Budget.Withdraw() {
			return v, p.giveUp(ctx, &GiveUpError{Attempts: attempts, Reason: StopBudgetExhausted, Err: err})
		}

		p.retrying(ctx, RetryEvent{Name: p.Name, Attempt: attempts, Delay: delay, FromRetryAfter: hinted, Err: err})
		if ctxErr := wait(ctx, s.clock, delay); ctxErr != nil {
			return v, p.giveUp(ctx, &GiveUpError{Attempts: attempts, Reason: StopContextDone, Err: err, ctxErr: ctxErr})
		}
		prev = delay
		attempts++
		if v, err = fn(ctx); err == nil {
			return v, p.stop(ctx, attempts, StopSuccess, nil)
		}
	}
}

// retryAfterHint returns the wait hint carried by err, capped at maxDelay.
func retryAfterHint(err error, maxDelay time.Duration) (time.Duration, bool) {
	var ra RetryAfterer
	if !errors.As(err, &ra) {
		return 0, false
	}
	d, ok := ra.RetryAfter()
	if !ok {
		return 0, false
	}
	return min(max(d, 0), maxDelay), true
}

// wait blocks for d, or until ctx is done, and returns ctx.Err() in that case.
func wait(ctx context.Context, c clock.Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := c.NewTimer(d)
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}

func (p *Policy) retrying(ctx context.Context, e RetryEvent) {
	if p.OnRetry != nil {
		p.OnRetry(ctx, e)
	}
	if p.Logger != nil {
		p.Logger.LogAttrs(ctx, slog.LevelWarn, "[RETRY] retrying after a failed attempt",
			slog.String("upstream", e.Name),
			slog.Int("attempt", e.Attempt),
			slog.Duration("delay", e.Delay),
			slog.Bool("retry_after", e.FromRetryAfter),
			slog.String("error", redact.ErrorText(e.Err.Error())))
	}
}

// giveUp logs and reports a stop with a retryable last error.
func (p *Policy) giveUp(ctx context.Context, e *GiveUpError) error {
	if p.Logger != nil {
		p.Logger.LogAttrs(ctx, slog.LevelWarn, "[RETRY] giving up",
			slog.String("upstream", p.Name),
			slog.Int("attempts", e.Attempts),
			slog.String("reason", e.Reason.String()),
			slog.String("error", redact.ErrorText(e.Err.Error())))
	}
	return p.stop(ctx, e.Attempts, e.Reason, e)
}

// stop reports the end of a Do call to OnStop and returns err.
func (p *Policy) stop(ctx context.Context, attempts int, reason StopReason, err error) error {
	if p.OnStop != nil {
		p.OnStop(ctx, StopEvent{Name: p.Name, Attempts: attempts, Reason: reason, Err: err})
	}
	return err
}
