package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/metrics"
	"github.com/healthagent/resilience/pkg/retry"
)

func ExampleNew() {
	reg := prometheus.NewRegistry() // the service's registry, served on /metrics
	m, err := metrics.New(reg)
	if err != nil {
		panic(err)
	}
	quiet := slog.New(slog.DiscardHandler)

	// A breaker reports to m.Breakers, and is tracked for circuit_breaker_state.
	store, _ := dbreaker.NewMemoryStore()
	b, _ := dbreaker.New("openai", store, dbreaker.Config{},
		dbreaker.WithObserver(m.Breakers), dbreaker.WithLogger(quiet))
	_ = m.Breakers.Track(b)
	// A Guard reports to m.APIs.
	g, _ := chain.NewGuard("openai", chain.GuardConfig{Breaker: b, AttemptTimeout: 20 * time.Second}, chain.WithObserver(m.APIs))

	for range 5 {
		_ = g.Do(context.Background(), func(context.Context) error {
			return &retry.HTTPError{Code: 503, Status: "503 Service Unavailable"}
		})
	}
	err = g.Do(context.Background(), func(context.Context) error { return nil })
	fmt.Println(errors.Is(err, dbreaker.ErrOpen))
	fmt.Println("503s:", testutil.ToFloat64(m.APIs.CallsCounter("openai", "503")))
	fmt.Println("rejected:", testutil.ToFloat64(m.APIs.FailuresCounter("openai", "rejected")))
	fmt.Println("trips:", testutil.ToFloat64(m.Breakers.TransitionsCounter("openai", "closed", "open", metrics.SourceShared, metrics.CausePolicy)))
	// Output:
	// true
	// 503s: 5
	// rejected: 1
	// trips: 1
}

func ExampleBreakers_Track() {
	reg := prometheus.NewRegistry()
	m, _ := metrics.NewBreakers(reg)
	store, _ := dbreaker.NewMemoryStore()
	quiet := dbreaker.WithLogger(slog.New(slog.DiscardHandler))
	here, _ := dbreaker.New("usda", store, dbreaker.Config{}, dbreaker.WithObserver(m), quiet)
	_ = m.Track(here)

	// Another replica forces the breaker open; this one learns it from the
	// store's events, and a scrape reads what it applies, without a store
	// call.
	there, _ := dbreaker.New("usda", store, dbreaker.Config{}, quiet)
	_, _ = there.ForceOpen(context.Background())

	got, _ := reg.Gather() // what a scrape of /metrics does
	for _, f := range got {
		if f.GetName() != "circuit_breaker_state" {
			continue
		}
		for _, s := range f.GetMetric() {
			if s.GetGauge().GetValue() == 1 {
				for _, l := range s.GetLabel() {
					fmt.Printf("%s=%s ", l.GetName(), l.GetValue())
				}
				fmt.Println()
			}
		}
	}
	// Output: breaker=usda source=shared state=forced_open
}

func ExampleBreakers_TrackStore() {
	m, _ := metrics.NewBreakers(prometheus.NewRegistry())
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store, _ := dbreaker.NewRedisStore(client)
	_ = m.TrackStore(store) // 1 while Redis is unreachable and breakers decide locally
	fmt.Println(testutil.ToFloat64(m.StoreDegradedGauge()))
	// Output: 0
}

func ExampleFallbacks() {
	m, _ := metrics.NewFallbacks(prometheus.NewRegistry())
	text, _ := chain.New("text", []chain.Step[string]{
		{Name: "anthropic", Fn: func(context.Context) (string, error) { return "", errors.New("overloaded") }},
		{Name: "openai", Fn: func(context.Context) (string, error) { return "hi", nil }},
	}, chain.WithObserver(m), chain.WithLogger(slog.New(slog.DiscardHandler)))
	_, _ = text.Execute(context.Background())
	fmt.Println(testutil.ToFloat64(m.ExecutionsCounter("anthropic", "openai", "success")))
	// Output: 1
}
