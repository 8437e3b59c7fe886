package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/fakeupstream"
	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/dbreaker/console"
	"github.com/healthagent/resilience/pkg/metrics"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
	"github.com/healthagent/resilience/pkg/redact"
	"github.com/healthagent/resilience/pkg/retry"
)

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
	console  *console.Console     // the breaker console; nil when breakers are in process
	guards   map[string]*chain.Guard

	providers map[string]provider
	answers   *answerCache
	data      *sr24.Dataset
	facts     *facts

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
	if s.data, err = sr24.Load(); err != nil {
		return nil, err
	}
	if cfg.Simulated {
		if err := s.startFakeUpstream(ctx); err != nil {
			return nil, err
		}
	} else {
		log.Info("[UPSTREAMS] calling the real upstreams", "upstreams", cfg.Upstreams)
	}
	if err := s.connectBreakers(ctx); err != nil {
		return nil, err
	}
	if err := s.makeConsole(); err != nil {
		return nil, err
	}
	if err := s.makeGuards(); err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	s.providers = s.newProviders(hc)
	if s.facts, err = s.newFacts(ctx, hc); err != nil {
		return nil, err
	}
	if err := s.trackSeries(); err != nil {
		return nil, err
	}
	if err := s.registerReplicaMetrics(); err != nil {
		return nil, err
	}
	return s, nil
}

// newProviders makes the language model clients: each model answers
// questions with its own model (OPENAI_MODEL, ANTHROPIC_MODEL); a model
// named in VISION_MODEL_PRIMARY or VISION_MODEL_FALLBACK reads meals.
func (s *service) newProviders(hc *http.Client) map[string]provider {
	c := s.cfg
	vision := map[string]string{c.VisionPrimary: c.VisionPrimaryModel, c.VisionFallback: c.VisionFallbackModel}
	out := make(map[string]provider)
	for _, m := range models() {
		model := m.model(c)
		p := m.provider(c, model, hc)
		if vm := vision[m.name]; vm != "" && vm != model {
			p = visionAndText{vision: m.provider(c, vm, hc), text: p}
		}
		out[m.name] = p
	}
	return out
}

// visionAndText is one provider with a model for meals and another for
// questions.
type visionAndText struct{ vision, text provider }

func (p visionAndText) describe(ctx context.Context, photo []byte, mediaType, caption string) (string, error) {
	return p.vision.describe(ctx, photo, mediaType, caption)
}

func (p visionAndText) ask(ctx context.Context, question, facts string) (string, error) {
	return p.text.ask(ctx, question, facts)
}

// trackSeries creates the api_* series of every upstream and the fallback
// series of every chain at zero, so that the first failure or fallback of
// each shows in rate() and increase().
func (s *service) trackSeries() error {
	for _, u := range upstreams {
		if err := s.metrics.APIs.Track(u.name); err != nil {
			return err
		}
	}
	for _, steps := range s.chainSteps() {
		if err := s.metrics.Fallbacks.Track(steps[0], steps[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// chainSteps lists the steps of every chain the service runs, primary
// first: vision (see), text (ask) and nutrition (nutrition.Chain).
func (s *service) chainSteps() [][]string {
	vision := []string{s.cfg.VisionPrimary}
	if s.cfg.VisionFallback != "none" {
		vision = append(vision, s.cfg.VisionFallback)
	}
	vision = append(vision, "estimate")
	text := append(modelNames(), "cached_answer", "friendly_error")
	var facts []string
	sources, _ := s.factSources() // the service was built with them: no error
	for _, st := range s.nutritionSteps(sources) {
		facts = append(facts, st.Name)
	}
	return [][]string{vision, text, append(facts, "average_dish")}
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
	why := "UPSTREAMS=fake"
	if s.cfg.Upstreams == "auto" {
		why = "no API key configured (UPSTREAMS=auto)"
	}
	s.log.Warn("[UPSTREAMS] SIMULATED ANSWERS: "+why+": every answer comes from the fake upstream in-process, "+
		"marked \"simulated\": true; set UPSTREAMS=real and the API keys for real ones", "addr", ln.Addr().String())
	return nil
}

// connectBreakers opens the breaker store: Redis, shared by the replicas,
// unless CIRCUIT_BREAKER_STORE=memory chose breakers per replica. A Redis
// that does not answer at start-up leaves the store degraded (breakers
// decide locally, as during an outage) until its health check reaches
// Redis; then this replica joins the shared state.
func (s *service) connectBreakers(ctx context.Context) error {
	if s.cfg.BreakerStore == "memory" {
		store, err := dbreaker.NewMemoryStore()
		if err != nil {
			return err
		}
		s.store = store
		s.log.Warn("[CIRCUIT_BREAKER] CIRCUIT_BREAKER_STORE=memory: breakers are per replica (in-process MemoryStore)")
	} else if err := s.connectRedis(ctx); err != nil {
		return err
	}
	if !s.cfg.BreakersEnabled {
		s.log.Warn("[CIRCUIT_BREAKER] CIRCUIT_BREAKER_ENABLED=false: every breaker is pass-through")
		return nil
	}
	consistency := dbreaker.Strict
	if s.cfg.Consistency == "fast" {
		consistency = dbreaker.Fast
	}
	for _, u := range upstreams {
		name := u.name
		b, err := dbreaker.New(name, s.store, dbreaker.Config{
			FailureThreshold: s.cfg.FailureThreshold,
			OpenTimeout:      s.cfg.OpenTimeout,
			Consistency:      consistency,
			ProbeLease:       u.attemptTimeout + 10*time.Second,
			Classify:         classify,
		}, dbreaker.WithLogger(s.log), dbreaker.WithObserver(s.metrics.Breakers))
		if err != nil {
			return err
		}
		s.breakers = append(s.breakers, b)
		s.stop = append(s.stop, b.Close)
		if err := s.metrics.Breakers.Track(b); err != nil {
			return err
		}
		// Learn the state now, so that circuit_breaker_state has it from
		// the first scrape (scrapes read the breaker's view, never Redis).
		if _, err := b.State(ctx); err != nil {
			s.log.Warn("[CIRCUIT_BREAKER] could not read the shared state at start-up", "breaker", name,
				"error", redact.ErrorText(err.Error()))
		}
	}
	return nil
}

// connectRedis makes the Redis store. The client bounds every call by its
// context (ContextTimeoutEnabled), so the store's own timeout holds.
func (s *service) connectRedis(ctx context.Context) error {
	opts, err := redisOptions(s.cfg.RedisURL)
	if err != nil {
		return err
	}
	client := redis.NewClient(opts)
	s.redis = client
	if s.rstore, err = dbreaker.NewRedisStore(client, dbreaker.WithLogger(s.log), dbreaker.WithKeyPrefix(s.cfg.KeyPrefix),
		dbreaker.WithPresence(s.cfg.ReplicaName)); err != nil {
		client.Close()
		return err
	}
	s.store = s.rstore
	s.stop = append(s.stop, func(ctx context.Context) error {
		err := s.rstore.Close(ctx) // flushes queued reports
		client.Close()
		return err
	})
	if err := s.metrics.Breakers.TrackStore(s.rstore); err != nil {
		return err
	}
	if s.rstore.Check(ctx) != nil {
		// The store logged it, and decides locally until its health check
		// reaches Redis; then this replica joins the shared state.
		return nil
	}
	s.log.Info("[CIRCUIT_BREAKER] breakers share state in Redis", "redis", redactURL(s.cfg.RedisURL))
	return nil
}

// makeConsole makes the breaker console of the fleet, served on the
// metrics port at /console/ (with breakers shared through Redis only).
func (s *service) makeConsole() error {
	if s.rstore == nil {
		return nil
	}
	c, err := console.New(s.rstore, console.Config{Token: s.cfg.ConsoleToken}, console.WithLogger(s.log))
	if err != nil {
		return err
	}
	s.console = c
	s.stop = append(s.stop, c.Close)
	mode := "read-only: set CONSOLE_TOKEN for actions"
	if s.cfg.ConsoleToken != "" {
		mode = "actions need CONSOLE_TOKEN"
	}
	s.log.Info("[CONSOLE] breaker console on the metrics port at /console/", "mode", mode, "replica", s.cfg.ReplicaName)
	return nil
}

// redisOptions parses REDIS_URL for a client whose calls end with their
// context.
func redisOptions(redisURL string) (*redis.Options, error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("demo: REDIS_URL=%q: %w", redactURL(redisURL), err)
	}
	opts.ContextTimeoutEnabled = true
	return opts, nil
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

// Components of a replica that can be degraded (it still serves, less
// well): the label values of health_agent_degraded.
const (
	// Redis does not answer; breakers decide per replica.
	degradedBreakerStore = "breaker_store"
	// PostgreSQL did not answer at start-up; nutrition comes from USDA and
	// the embedded data, with no cache.
	degradedNutritionCache = "nutrition_cache"
)

// degraded lists the degraded components of the replica, never nil.
func (s *service) degraded() []string {
	out := []string{}
	if s.rstore != nil && s.rstore.Degraded() {
		out = append(out, degradedBreakerStore)
	}
	if s.facts.store != "postgres" {
		out = append(out, degradedNutritionCache)
	}
	return out
}

// registerReplicaMetrics exports what /readyz says:
// health_agent_degraded{component}, health_agent_simulated_upstreams and
// health_agent_breakers_enabled.
func (s *service) registerReplicaMetrics() error {
	for _, component := range []string{degradedBreakerStore, degradedNutritionCache} {
		g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "health_agent_degraded",
			Help:        "1 while a component of this replica is degraded: breaker_store (Redis unreachable, breakers decide per replica) or nutrition_cache (no PostgreSQL cache); the replica still serves.",
			ConstLabels: prometheus.Labels{"component": component},
		}, func() float64 {
			if slices.Contains(s.degraded(), component) {
				return 1
			}
			return 0
		})
		if err := s.registry.Register(g); err != nil {
			return err
		}
	}
	for _, g := range []struct {
		name, help string
		on         bool
	}{
		{"health_agent_simulated_upstreams", "1 when this replica answers from its in-process fake upstreams (UPSTREAMS=fake, or auto without keys): every answer is invented.", s.cfg.Simulated},
		// Without breakers no circuit_breaker_state series exists, so no
		// alert on the breakers' state can tell: this gauge does.
		{"health_agent_breakers_enabled", "1 when this replica's circuit breakers guard its upstreams; 0 when CIRCUIT_BREAKER_ENABLED=false switched them off: every call passes straight through, and no circuit_breaker_state series exists.", s.cfg.BreakersEnabled},
	} {
		value := 0.0
		if g.on {
			value = 1
		}
		if err := s.registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: g.name, Help: g.help},
			func() float64 { return value })); err != nil {
			return err
		}
	}
	return nil
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
	for _, u := range upstreams {
		rc := retry.Config{MaxRetries: retry.NoRetries}
		if u.retries {
			maxRetries, err := retry.Retries(s.cfg.RetryMax)
			if err != nil {
				return err
			}
			rc = retry.Config{
				MaxRetries: maxRetries,
				BaseDelay:  s.cfg.RetryBaseDelay,
				MaxDelay:   max(30*time.Second, s.cfg.RetryBaseDelay),
			}
		}
		budget, err := retry.NewBudget(retry.BudgetConfig{})
		if err != nil {
			return err
		}
		policy, err := retry.New(u.name, rc, retry.WithBudget(budget), retry.WithLogger(s.log))
		if err != nil {
			return err
		}
		cfg := chain.GuardConfig{Breaker: s.breaker(u.name), Retry: policy, AttemptTimeout: u.attemptTimeout}
		if cfg.Breaker == nil { // else the breaker's classifier counts, the same
			cfg.Classify = classify
		}
		g, err := chain.NewGuard(u.name, cfg, chain.WithObserver(s.metrics.APIs))
		if err != nil {
			return err
		}
		s.guards[u.name] = g
	}
	return nil
}

// chainOptions are the options of every chain: the service's logger and
// the fallback metrics.
func (s *service) chainOptions() []chain.Option {
	return []chain.Option{chain.WithLogger(s.log), chain.WithObserver(s.metrics.Fallbacks)}
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
