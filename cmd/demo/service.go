package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/fakeupstream"
	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/metrics"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
	"github.com/healthagent/resilience/pkg/retry"
)

// upstreams are the services the bot calls, one breaker and one Guard each
// ("postgres" is the nutrition cache: its breaker skips it while it is down).
var upstreams = []string{"openai", "anthropic", "usda", "web", "postgres"}

// attemptTimeout bounds one call to an upstream: the plan's 5 s for USDA
// and the web search, longer for the language models, short for the cache.
func attemptTimeout(upstream string) time.Duration {
	switch upstream {
	case "openai", "anthropic":
		return 20 * time.Second
	case "postgres":
		return nutrition.DefaultCacheTimeout
	default:
		return 5 * time.Second
	}
}

// classify tells failures of an upstream from its answers, for the
// breakers and the metrics alike: a food not found is an answer.
func classify(err error) dbreaker.Outcome { return nutrition.Classify(err) }

// service is one replica of the health-agent: its breakers, guards,
// chains, clients and metrics.
type service struct {
	cfg      config
	log      *slog.Logger
	registry *prometheus.Registry
	metrics  *metrics.Metrics

	redis    *redis.Client // nil when breakers are in process
	store    dbreaker.Store
	rstore   *dbreaker.RedisStore // nil when breakers are in process
	breakers []*dbreaker.Breaker  // empty when breakers are disabled
	guards   map[string]*chain.Guard

	chainOptions []chain.Option
	providers    map[string]provider
	answers      *answerCache
	data         *sr24.Dataset
	facts        *facts

	fake *fakeupstream.Server // the in-process fake upstream, if any
	stop []func(ctx context.Context) error
}

// newService builds a replica. It starts the fake upstream when no real one
// is configured, and falls back to in-process parts, saying so in one log
// line each, when Redis or PostgreSQL does not answer.
func newService(ctx context.Context, cfg config, log *slog.Logger) (_ *service, err error) {
	s := &service{cfg: cfg, log: log, registry: prometheus.NewRegistry(), answers: newAnswerCache(1000)}
	defer func() {
		if err != nil {
			s.close(context.Background())
		}
	}()
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s.metrics, err = metrics.New(s.registry); err != nil {
		return nil, err
	}
	s.chainOptions = []chain.Option{chain.WithLogger(log), chain.WithObserver(s.metrics.Fallbacks)}
	if s.data, err = sr24.Load(); err != nil {
		return nil, err
	}
	if cfg.fakeUpstreams() {
		if err := s.startFakeUpstream(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.connectBreakers(ctx); err != nil {
		return nil, err
	}
	if err := s.makeGuards(); err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	s.providers = map[string]provider{
		"openai":    newOpenAI(s.cfg.OpenAIBaseURL, s.cfg.OpenAIKey, s.cfg.OpenAIModel, hc),
		"anthropic": newAnthropic(s.cfg.AnthropicBaseURL, s.cfg.AnthropicKey, s.cfg.AnthropicModel, hc),
	}
	if s.facts, err = s.newFacts(ctx, hc); err != nil {
		return nil, err
	}
	return s, nil
}

// startFakeUpstream serves the fake upstream on a loopback port and points
// every client at it.
func (s *service) startFakeUpstream(ctx context.Context) error {
	fake, err := fakeupstream.New(fakeupstream.Config{Data: s.data})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = fake.Serve(ctx, ln)
	}()
	s.stop = append(s.stop, func(context.Context) error { cancel(); <-done; return nil })
	s.fake = fake
	root := "http://" + ln.Addr().String()
	ep := fakeupstream.EndpointsAt(root)
	s.cfg.OpenAIBaseURL, s.cfg.AnthropicBaseURL, s.cfg.USDABaseURL, s.cfg.WebSearchURL = ep.OpenAI, ep.Anthropic, root, ep.Web
	s.cfg.OpenAIKey, s.cfg.AnthropicKey, s.cfg.USDAKey = "fake", "fake", "fake"
	s.log.Info("no upstream configured: serving the fake upstream in-process", "addr", ln.Addr().String())
	return nil
}

// connectBreakers opens the shared store: Redis when it answers, else an
// in-process MemoryStore (breakers per replica).
func (s *service) connectBreakers(ctx context.Context) error {
	opts, err := redis.ParseURL(s.cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("demo: REDIS_URL=%q: %w", redactURL(s.cfg.RedisURL), err)
	}
	if err = redisReachable(ctx, opts); err != nil {
		s.store = dbreaker.NewMemoryStore(nil)
		s.log.Warn("[CIRCUIT_BREAKER] Redis not reachable: breakers are per replica (in-process MemoryStore)",
			"redis", redactURL(s.cfg.RedisURL), "error", dbreaker.RedactErrorText(err.Error()))
	} else {
		client := redis.NewClient(opts)
		s.redis = client
		if s.rstore, err = dbreaker.NewRedisStore(client, dbreaker.WithStoreLogger(s.log), dbreaker.WithKeyPrefix(s.cfg.KeyPrefix)); err != nil {
			return err
		}
		s.store = s.rstore
		if err := s.metrics.Breakers.TrackStore(s.rstore); err != nil {
			return err
		}
		s.stop = append(s.stop, func(ctx context.Context) error {
			err := s.rstore.Close(ctx) // flushes queued reports
			client.Close()
			return err
		})
		s.log.Info("[CIRCUIT_BREAKER] breakers share state in Redis", "redis", redactURL(s.cfg.RedisURL))
	}
	if !s.cfg.BreakersEnabled {
		s.log.Warn("[CIRCUIT_BREAKER] CIRCUIT_BREAKER_ENABLED=false: every breaker is pass-through")
		return nil
	}
	consistency := dbreaker.Strict
	if s.cfg.Consistency == "fast" {
		consistency = dbreaker.Fast
	}
	for _, name := range upstreams {
		b, err := dbreaker.New(name, s.store, dbreaker.Config{
			FailureThreshold: s.cfg.FailureThreshold,
			OpenTimeout:      s.cfg.OpenTimeout,
			Consistency:      consistency,
			ProbeLease:       attemptTimeout(name) + 10*time.Second,
			Classify:         classify,
		}, dbreaker.WithLogger(s.log), dbreaker.WithObserver(s.metrics.Breakers))
		if err != nil {
			return err
		}
		if err := s.metrics.Breakers.Track(b); err != nil {
			return err
		}
		s.breakers = append(s.breakers, b)
		s.stop = append(s.stop, b.Close)
	}
	return nil
}

// redisReachable pings Redis once, without the client's dial retries.
func redisReachable(ctx context.Context, opts *redis.Options) error {
	probe := *opts
	probe.MaxRetries, probe.DialerRetries, probe.DialTimeout = -1, 1, time.Second
	client := redis.NewClient(&probe)
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return client.Ping(ctx).Err()
}

// breaker returns the breaker of an upstream, nil when breakers are off.
func (s *service) breaker(name string) *dbreaker.Breaker {
	for _, b := range s.breakers {
		if b.Name() == name {
			return b
		}
	}
	return nil
}

// makeGuards wraps each upstream the same way: retry → breaker → timeout.
func (s *service) makeGuards() error {
	s.guards = make(map[string]*chain.Guard)
	for _, name := range upstreams {
		budget, err := retry.NewBudget(retry.BudgetConfig{})
		if err != nil {
			return err
		}
		policy := &retry.Policy{
			MaxRetries: s.cfg.RetryMax,
			BaseDelay:  s.cfg.RetryBaseDelay,
			MaxDelay:   max(30*time.Second, s.cfg.RetryBaseDelay),
			Budget:     budget,
			Logger:     s.log,
		}
		if s.cfg.RetryMax == 0 || name == "postgres" { // the cache is local: no retries
			policy.MaxRetries = retry.NoRetries
		}
		cfg := chain.GuardConfig{
			Name:           name,
			Breaker:        s.breaker(name),
			Retry:          policy,
			AttemptTimeout: attemptTimeout(name),
			Recorder:       s.metrics.APIs,
		}
		if cfg.Breaker == nil { // else the breaker's classifier counts, the same
			cfg.Classify = classify
		}
		g, err := chain.NewGuard(cfg)
		if err != nil {
			return err
		}
		s.guards[name] = g
	}
	return nil
}

// close stops what the service started, in reverse order: breakers first
// (their queued reports are flushed), then the store, the fake upstream.
func (s *service) close(ctx context.Context) error {
	var errs []error
	for i := len(s.stop) - 1; i >= 0; i-- {
		errs = append(errs, s.stop[i](ctx))
	}
	s.stop = nil
	return errors.Join(errs...)
}
