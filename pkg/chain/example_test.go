package chain_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/metrics"
	"github.com/healthagent/resilience/pkg/retry"
)

// Example wraps a new upstream, USDA FoodData Central, from start to end:
// metrics, breaker, retry policy and budget, Guard, and a fallback chain.
// The upstream is down for the first calls: the breaker opens after five
// failed attempts, and the chain keeps answering from its cache.
func Example() {
	var down atomic.Bool
	down.Store(true)
	var requests atomic.Int32
	usdaServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if down.Load() {
			w.Header().Set("Retry-After", "0") // retry at once: keeps the example fast
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"description":"apple","kcal":52}`)
	}))
	defer usdaServer.Close()

	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler) // use the service's logger in real code

	// 1. Metrics, on the service's registry.
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		panic(err)
	}

	// 2. The breaker. Every replica uses the same name and Config; the store
	// is a dbreaker.RedisStore in production, shared by every replica.
	store, err := dbreaker.NewMemoryStore() // NewRedisStore, to share the breaker among replicas
	if err != nil {
		panic(err)
	}
	breaker, err := dbreaker.New("usda", store, dbreaker.Config{
		FailureThreshold: 5,
		OpenTimeout:      time.Minute,
		ProbeLease:       15 * time.Second, // outlasts AttemptTimeout below
	}, dbreaker.WithObserver(m.Breakers), dbreaker.WithLogger(quiet))
	if err != nil {
		panic(err)
	}
	if err := m.Breakers.Track(breaker); err != nil {
		panic(err)
	}

	// 3. The retry policy, with a budget shared by every call to USDA.
	budget, err := retry.NewBudget(retry.BudgetConfig{})
	if err != nil {
		panic(err)
	}
	policy, err := retry.New("usda", retry.Config{MaxRetries: 3, BaseDelay: time.Second},
		retry.WithBudget(budget), retry.WithLogger(quiet))
	if err != nil {
		panic(err)
	}

	// 4. The Guard: retry → breaker → attempt timeout → call.
	usda, err := chain.NewGuard("usda", chain.GuardConfig{
		Breaker:        breaker,
		Retry:          policy,
		AttemptTimeout: 10 * time.Second,
	}, chain.WithObserver(m.APIs))
	if err != nil {
		panic(err)
	}

	// 5. The chain: USDA first, the cache when it fails.
	nutrition, err := chain.New("nutrition", []chain.Step[string]{
		chain.GuardedStep(usda, func(ctx context.Context) (string, error) {
			return searchFood(ctx, usdaServer.URL, "DEMO_KEY", "apple")
		}),
		{Name: "cache", Degraded: true, Fn: func(ctx context.Context) (string, error) {
			return "apple: 52 kcal (cached)", nil
		}},
	}, chain.WithTimeout(30*time.Second), chain.WithObserver(m.Fallbacks), chain.WithLogger(quiet))
	if err != nil {
		panic(err)
	}

	for range 3 {
		res, err := nutrition.Execute(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s (from %s, degraded %v)\n", res.Value, res.Step, res.Degraded)
	}
	s, _ := breaker.State(ctx)
	fmt.Println("requests to USDA:", requests.Load(), "- breaker", s.State)
	fmt.Println("fallbacks served:", testutil.ToFloat64(m.Fallbacks.ExecutionsCounter("usda", "cache", "success")))
	// Output:
	// apple: 52 kcal (cached) (from cache, degraded true)
	// apple: 52 kcal (cached) (from cache, degraded true)
	// apple: 52 kcal (cached) (from cache, degraded true)
	// requests to USDA: 5 - breaker open
	// fallbacks served: 3
}

// searchFood asks a FoodData Central-like server for a food. The API key
// travels in the query string: errors carry the URL, so the Guard redacts
// their text before anything logs it.
func searchFood(ctx context.Context, base, apiKey, query string) (string, error) {
	q := url.Values{"api_key": {apiKey}, "query": {query}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/fdc/v1/foods/search?"+q.Encode(), nil)
	if err != nil {
		return "", retry.Permanent(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if err := retry.FromResponse(resp); err != nil {
		return "", err
	}
	var food struct {
		Description string `json:"description"`
		Kcal        int    `json:"kcal"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&food); err != nil {
		return "", retry.Permanent(fmt.Errorf("usda: malformed answer: %w", err))
	}
	return fmt.Sprintf("%s: %d kcal", food.Description, food.Kcal), nil
}

func ExampleChain_Execute() {
	text, err := chain.New("text", []chain.Step[string]{
		{Name: "anthropic", Fn: func(ctx context.Context) (string, error) {
			return "", &retry.HTTPError{Code: 529, Status: "529 Overloaded"}
		}},
		{Name: "openai", Fn: func(ctx context.Context) (string, error) {
			return "An apple has about 52 kcal per 100 g.", nil
		}},
	}, chain.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	res, err := text.Execute(context.Background())
	fmt.Println(res.Value)
	fmt.Println(res.Step, res.Index, res.Degraded, err)
	fmt.Println("failed before:", res.Failures[0])
	// Output:
	// An apple has about 52 kcal per 100 g.
	// openai 1 true <nil>
	// failed before: anthropic: retry: HTTP status 529 Overloaded
}

func ExampleStep_degraded() {
	vision, _ := chain.New("vision", []chain.Step[string]{
		{Name: "mock", Degraded: true, Fn: func(context.Context) (string, error) {
			return "a plate of pasta, about 600 kcal", nil
		}},
	})
	res, err := vision.Execute(context.Background())
	fmt.Println(res.Value, res.Degraded, err)
	// Output: a plate of pasta, about 600 kcal true <nil>
}

func ExampleError() {
	errQuota := errors.New("quota exceeded")
	text, _ := chain.New("text", []chain.Step[string]{
		{Name: "anthropic", Fn: func(context.Context) (string, error) { return "", errQuota }},
		{Name: "openai", Fn: func(context.Context) (string, error) {
			return "", &retry.HTTPError{Code: 503, Status: "503 Service Unavailable"}
		}},
	}, chain.WithLogger(slog.New(slog.DiscardHandler)))
	_, err := text.Execute(context.Background())
	fmt.Println(err)
	var he *retry.HTTPError
	fmt.Println(errors.Is(err, chain.ErrAllFailed), errors.Is(err, errQuota), errors.As(err, &he) && he.Code == 503)
	// Output:
	// chain: every step of "text" failed: anthropic: quota exceeded; openai: retry: HTTP status 503 Service Unavailable
	// true true true
}

func ExampleWithStopOn() {
	calls := 0
	ask := func(context.Context) (string, error) {
		calls++
		return "", &retry.HTTPError{Code: 400, Status: "400 Bad Request"}
	}
	quiet := chain.WithLogger(slog.New(slog.DiscardHandler))
	steps := []chain.Step[string]{{Name: "anthropic", Fn: ask}, {Name: "openai", Fn: ask}}
	text, _ := chain.New("text", steps, quiet)
	_, err := text.Execute(context.Background())
	fmt.Println("default, steps called:", calls, errors.Is(err, chain.ErrAllFailed))

	calls = 0
	text, _ = chain.New("text", steps, chain.WithStopOn(chain.IsBadRequest), quiet)
	_, err = text.Execute(context.Background())
	fmt.Println("WithStopOn, steps called:", calls, errors.Is(err, chain.ErrFinal))
	// Output:
	// default, steps called: 2 true
	// WithStopOn, steps called: 1 true
}

func ExampleNewGuard() {
	store, _ := dbreaker.NewMemoryStore()
	breaker, _ := dbreaker.New("openai", store, dbreaker.Config{ProbeLease: 30 * time.Second})
	_, err := chain.NewGuard("openai", chain.GuardConfig{Breaker: breaker, AttemptTimeout: 45 * time.Second})
	fmt.Println(err)

	g, err := chain.NewGuard("openai", chain.GuardConfig{Breaker: breaker, AttemptTimeout: 25 * time.Second})
	fmt.Println(g.Name(), err)
	// Output:
	// chain: invalid AttemptTimeout = 45s: NewGuard("openai"): breaker "openai" ProbeLease 30s does not outlast AttemptTimeout 45s plus 2 × StoreTimeout 50ms (45.1s): a probe could lose its lease while it still runs and let a second probe start; raise ProbeLease or lower AttemptTimeout
	// openai <nil>
}

func ExampleExecute() {
	policy, err := retry.New("anthropic", retry.Config{MaxRetries: 2}, retry.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	// Breakers switched off (CIRCUIT_BREAKER_ENABLED=false): a nil Breaker.
	g, err := chain.NewGuard("anthropic", chain.GuardConfig{Retry: policy})
	if err != nil {
		panic(err)
	}
	attempts := 0
	answer, err := chain.Execute(context.Background(), g, func(ctx context.Context) (string, error) {
		attempts++
		if attempts == 1 {
			return "", &retry.HTTPError{Code: 529, Status: "529 Overloaded", HasWait: true} // retry at once
		}
		return "Hello!", nil
	})
	fmt.Println(answer, attempts, err)
	// Output: Hello! 2 <nil>
}

func ExampleLabels() {
	for _, err := range []error{
		nil,
		&retry.HTTPError{Code: 503},
		fmt.Errorf("openai: %w", context.DeadlineExceeded),
		errors.New("malformed JSON"),
	} {
		status, errorType := chain.Labels(err)
		fmt.Printf("%q %q\n", status, errorType)
	}
	// Output:
	// "success" ""
	// "503" "http_5xx"
	// "timeout" "timeout"
	// "other" "other"
}
