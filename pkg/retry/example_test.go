package retry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/retry"
)

// printRetries prints each retry as it is about to happen.
type printRetries struct{ retry.NopObserver }

func (printRetries) OnRetry(_ context.Context, e retry.RetryEvent) {
	fmt.Printf("attempt %d failed (%v); retrying in %s\n", e.Attempt, e.Err, e.Delay)
}

func ExampleExecute() {
	// An upstream that is overloaded once, and asks to be retried at once.
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "apple: 52 kcal per 100 g")
	}))
	defer srv.Close()

	policy, err := retry.New("usda", retry.Config{}, retry.WithObserver(printRetries{}))
	if err != nil {
		panic(err)
	}
	body, err := retry.Execute(context.Background(), policy, func(ctx context.Context) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if err != nil {
			return "", retry.Permanent(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		if err := retry.FromResponse(resp); err != nil {
			return "", err
		}
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	})
	fmt.Println(body, err)
	// Output:
	// attempt 1 failed (retry: HTTP status 503 Service Unavailable (retry after 0s)); retrying in 0s
	// apple: 52 kcal per 100 g <nil>
}

func ExampleExecute_breakerOpen() {
	calls := 0
	_, err := retry.Execute(context.Background(), nil, func(ctx context.Context) (string, error) {
		calls++
		return "", fmt.Errorf("openai: %w", dbreaker.ErrOpen)
	})
	fmt.Println(calls, errors.Is(err, dbreaker.ErrOpen))
	// Output: 1 true
}

func ExamplePolicy_Do() {
	policy, _ := retry.New("usda", retry.Config{MaxRetries: retry.NoRetries}, retry.WithLogger(slog.New(slog.DiscardHandler)))
	err := policy.Do(context.Background(), func(ctx context.Context) error {
		return io.ErrUnexpectedEOF
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, retry.ErrExhausted), errors.Is(err, io.ErrUnexpectedEOF))
	// Output:
	// retry: gave up after 1 attempt: unexpected EOF
	// true true
}

func ExamplePermanent() {
	calls := 0
	var policy *retry.Policy // nil: the defaults
	err := policy.Do(context.Background(), func(ctx context.Context) error {
		calls++
		return retry.Permanent(&retry.HTTPError{Code: 503, Status: "503 Service Unavailable"})
	})
	fmt.Println(calls, err)
	// Output: 1 retry: HTTP status 503 Service Unavailable
}

func ExampleParseRetryAfter() {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, v := range []string{"120", "Fri, 01 May 2026 12:00:45 GMT", "Thu, 30 Apr 2026 12:00:00 GMT", "-1", "soon"} {
		d, ok := retry.ParseRetryAfter(v, now)
		fmt.Println(d, ok)
	}
	// Output:
	// 2m0s true
	// 45s true
	// 0s true
	// 0s false
	// 0s false
}

// sdkError stands for an API SDK's error type, which knows its status code
// but not the StatusCoder interface.
type sdkError struct {
	Code   int
	Header http.Header
}

func (e *sdkError) Error() string { return fmt.Sprintf("sdk: status %d", e.Code) }

// sdkStatus adapts sdkError to retry.StatusCoder and retry.RetryAfterer.
type sdkStatus struct{ err *sdkError }

func (a sdkStatus) Error() string   { return a.err.Error() }
func (a sdkStatus) Unwrap() error   { return a.err }
func (a sdkStatus) StatusCode() int { return a.err.Code }
func (a sdkStatus) RetryAfter() (time.Duration, bool) {
	return retry.RetryAfterFromHeader(a.err.Header)
}

func ExampleStatusCoder() {
	overloaded := &sdkError{Code: 529, Header: http.Header{"Retry-After": {"2"}}}
	fmt.Println(retry.DefaultRetryable(overloaded))            // unknown error: not retried
	fmt.Println(retry.DefaultRetryable(sdkStatus{overloaded})) // 529: retried
	fmt.Println(sdkStatus{overloaded}.RetryAfter())
	// Output:
	// false
	// true
	// 2s true
}

func ExampleBudget() {
	budget, err := retry.NewBudget(retry.BudgetConfig{Ratio: 0.1, MinRetriesPerSecond: retry.NoMinRetries})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 20 { // twenty first attempts pay for two retries
		budget.Deposit()
	}
	fmt.Println(budget.Withdraw(), budget.Withdraw(), budget.Withdraw())
	// Output: true true false
}
