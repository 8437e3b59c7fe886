package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the PostgreSQL driver
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/meal"
	"github.com/healthagent/resilience/pkg/nutrition/postgres"
	"github.com/healthagent/resilience/pkg/nutrition/refresh"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
	"github.com/healthagent/resilience/pkg/nutrition/usda"
	"github.com/healthagent/resilience/pkg/nutrition/web"
	"github.com/healthagent/resilience/pkg/redact"
)

// Nutrition facts: USDA → PostgreSQL cache → the embedded data → web search
// → an estimate (a model's, else an average dish). See nutrition.Chain.
// Meals are read into foods by the meal parser (package meal), and each
// food is looked up as the SR24 food the parser matched.

// cacheTTL is the age from which a cached USDA answer is refreshed in the
// background, by one replica at a time.
const cacheTTL = 24 * time.Hour

// facts runs the nutrition chain and reads meals.
type facts struct {
	chain  *nutrition.Chain
	parser *meal.Parser
	data   *sr24.Dataset
	store  string // where the cache lives: "postgres" or "memory"

	// The clients the chain's steps call.
	usda  *usda.Client
	cache *postgres.Store // nil without PostgreSQL
	hc    *http.Client
}

// factsAnswer is what the API needs of an answer.
type factsAnswer struct {
	Description string
	Per100g     sr24.Nutrients
	Unknown     sr24.NutrientSet
	Source      string // nutrition.FromUSDA, FromCache, FromWeb or FromEstimate
	Step        string // the chain's step that served
	Degraded    bool
}

func (f *facts) lookup(ctx context.Context, q nutrition.Query) (factsAnswer, error) {
	ans, err := f.chain.Lookup(ctx, q)
	if err != nil {
		return factsAnswer{}, err
	}
	return factsAnswer{Description: ans.Description, Per100g: ans.Per100g, Unknown: ans.Unknown, Source: ans.From, Step: ans.Step, Degraded: ans.Degraded}, nil
}

// embedded answers for an SR24 food from the data in memory, for a lookup
// the request's deadline cut short: no I/O, so it always answers.
func (f *facts) embedded(ndb string) (factsAnswer, bool) {
	food, ok := f.data.Food(ndb)
	if !ok {
		return factsAnswer{}, false
	}
	return factsAnswer{Description: food.Description, Per100g: food.Per100g, Unknown: food.Unknown, Source: nutrition.FromCache, Step: "embedded", Degraded: true}, true
}

// newFacts connects the cache (PostgreSQL when it answers, migrated and
// seeded; else the embedded data alone, said in one log line) and builds
// the chain and the meal parser.
func (s *service) newFacts(ctx context.Context, hc *http.Client) (*facts, error) {
	client, err := usda.New(usda.Config{APIKey: s.cfg.USDAKey, BaseURL: s.cfg.USDABaseURL}, usda.WithHTTPClient(hc))
	if err != nil {
		return nil, err
	}
	parser, err := meal.New(s.data)
	if err != nil {
		return nil, err
	}
	f := &facts{store: "memory", parser: parser, data: s.data, usda: client, hc: hc}
	s.facts = f
	if store, err := s.openCache(ctx); err != nil {
		s.log.Warn("[NUTRITION] PostgreSQL not reachable: nutrition comes from the embedded USDA data in memory",
			"database", redactURL(s.cfg.DatabaseURL), "error", redact.ErrorText(err.Error()))
	} else {
		f.store, f.cache = "postgres", store
	}
	sources, err := s.factSources()
	if err != nil {
		return nil, err
	}
	var cfg nutrition.ChainConfig
	for _, src := range sources {
		if src.cache != nil {
			cfg = nutrition.ChainConfig{Cache: src.cache, CacheGuard: src.guard}
		}
		if src.refetch != nil && f.cache != nil && s.redis != nil {
			s.startRefresher(f.cache, src)
		}
	}
	if f.chain, err = nutrition.NewChain("nutrition", s.nutritionSteps(sources), cfg, nutrition.WithLogger(s.log), nutrition.WithObserver(s.metrics.Fallbacks)); err != nil {
		return nil, err
	}
	return f, nil
}

// factSource is an upstream's part of the nutrition chain; each of its
// calls goes through guard, the upstream's Guard.
type factSource struct {
	guard *chain.Guard
	// steps are its steps of the chain; none when this replica runs
	// without it.
	steps []nutrition.Step
	// cache, for the cache: the chain writes the answers of the steps
	// marked WriteThrough to it.
	cache nutrition.Cache
	// refetch, for a source whose answers the cache keeps (with Source
	// refreshes): asks it again for a query, so that answers older than
	// cacheTTL are refreshed in the background.
	refetch   refresh.FetchFunc
	refreshes nutrition.Source
}

// factSources are the parts of the nutrition chain of the upstreams, in
// the order of the table, each given its upstream's Guard.
func (s *service) factSources() ([]factSource, error) {
	var sources []factSource
	for _, u := range upstreams {
		if u.facts == nil {
			continue
		}
		g := s.guards[u.name] // makeGuards built one for every entry
		src, err := u.facts(s, g)
		if err != nil {
			return nil, err
		}
		src.guard = g
		sources = append(sources, src)
	}
	return sources, nil
}

// nutritionSteps are the steps of the nutrition chain: the steps of the
// sources, then the first language model's estimate (nutrition.NewChain
// adds the average dish). Each step takes the chain's default bounds.
func (s *service) nutritionSteps(sources []factSource) []nutrition.Step {
	var steps []nutrition.Step
	for _, src := range sources {
		steps = append(steps, src.steps...)
	}
	return append(steps, s.estimateStep())
}

// usdaFacts is USDA FoodData Central's step, whose answers are written
// through to the cache and refreshed there.
func (s *service) usdaFacts(g *chain.Guard) (factSource, error) {
	client := s.facts.usda
	return factSource{
		steps: []nutrition.Step{{Name: "usda", From: nutrition.FromUSDA, Guard: g, Find: client.SearchFor, WriteThrough: true}},
		refetch: func(ctx context.Context, query string) (nutrition.Result, error) {
			return chain.Execute(ctx, g, func(ctx context.Context) (nutrition.Result, error) { return client.Search(ctx, query) })
		},
		refreshes: nutrition.SourceUSDA,
	}, nil
}

// cacheFacts is the cache's part: PostgreSQL when it answered at start-up
// (which the chain writes answers through to), then the embedded USDA data
// in memory, which needs no I/O.
func (s *service) cacheFacts(g *chain.Guard) (factSource, error) {
	var src factSource
	if s.facts.store == "postgres" {
		src.steps = append(src.steps, nutrition.Step{Name: "postgres", From: nutrition.FromCache, Guard: g,
			Find: nutrition.ByText(s.facts.cache.Lookup)})
		src.cache = s.facts.cache
	}
	src.steps = append(src.steps, nutrition.EmbeddedStep(s.data))
	return src, nil
}

// webFacts is the web search's step, when WEB_SEARCH_URL is set; its
// answers are written through to the cache.
func (s *service) webFacts(g *chain.Guard) (factSource, error) {
	if s.cfg.WebSearchURL == "" {
		return factSource{}, nil
	}
	var opts []web.Option
	if s.facts.hc != nil {
		opts = append(opts, web.WithHTTPClient(s.facts.hc))
	}
	search, err := web.New(web.Config{BaseURL: s.cfg.WebSearchURL}, opts...)
	if err != nil {
		return factSource{}, err
	}
	return factSource{steps: []nutrition.Step{{Name: "web", From: nutrition.FromWeb, Guard: g,
		Find: nutrition.ByName(search.Search), WriteThrough: true}}}, nil
}

// estimateStep is the first language model's estimate (see modelEstimate).
func (s *service) estimateStep() nutrition.Step {
	model := models()[0].name
	return nutrition.Step{Name: "ai_estimate", From: nutrition.FromEstimate, Guard: s.guards[model],
		Find: nutrition.ByName(func(ctx context.Context, name string) (nutrition.Result, error) {
			return s.modelEstimate(ctx, model, name)
		}), Estimate: true}
}

// openCache connects to PostgreSQL, migrates and seeds the cache (several
// replicas may do so at once: the store takes an advisory lock).
func (s *service) openCache(ctx context.Context) (*postgres.Store, error) {
	db, err := sqlx.Open("postgres", s.cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pingCtx, pingCancel := context.WithTimeout(ctx, 2*time.Second)
	err = db.PingContext(pingCtx)
	pingCancel()
	if err == nil {
		var store *postgres.Store
		if store, err = postgres.New(db, postgres.Config{Schema: s.cfg.Schema}); err == nil {
			if _, err = store.Migrate(ctx); err == nil {
				if _, err = store.Seed(ctx, s.data); err == nil {
					s.registry.MustRegister(collectors.NewDBStatsCollector(db.DB, "nutrition"))
					s.stop = append(s.stop, func(context.Context) error { store.Close(); return db.Close() })
					return store, nil
				}
			}
		}
	}
	db.Close()
	return nil, err
}

// startRefresher refreshes the answers of src older than cacheTTL in
// store, one replica at a time (a redsync mutex in Redis).
func (s *service) startRefresher(store *postgres.Store, src factSource) {
	r, err := refresh.New(store, redsync.New(goredis.NewPool(s.redis)), src.refetch,
		refresh.Config{Source: src.refreshes, TTL: cacheTTL}, refresh.WithLogger(s.log))
	if err != nil {
		s.log.Warn("[NUTRITION] no background refresh of cached answers", "error", err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	ticker := time.NewTicker(10 * time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx, ticker.C)
	}()
	s.stop = append(s.stop, func(context.Context) error { cancel(); ticker.Stop(); <-done; return nil })
}

// modelEstimate asks a language model for a food's nutrients per 100 g.
// An answer that is not the JSON asked for, or whose energy is not from 0
// to 900 kcal, is a bad answer (badAnswerError): a failure of the model,
// which its breaker counts, and the chain moves on to the average dish.
func (s *service) modelEstimate(ctx context.Context, model, name string) (nutrition.Result, error) {
	q := fmt.Sprintf(`Estimate the nutrients in 100 g of %q. Answer with JSON only: `+
		`{"kcal":0,"protein_g":0,"carbohydrate_g":0,"fat_g":0}`, name)
	answer, err := s.providers[model].ask(ctx, q, "")
	if err != nil {
		return nutrition.Result{}, err
	}
	start, end := strings.IndexByte(answer, '{'), strings.LastIndexByte(answer, '}')
	var est struct {
		Kcal          *float64 `json:"kcal"`
		ProteinG      float64  `json:"protein_g"`
		CarbohydrateG float64  `json:"carbohydrate_g"`
		FatG          float64  `json:"fat_g"`
	}
	if start < 0 || end < start || json.Unmarshal([]byte(answer[start:end+1]), &est) != nil || est.Kcal == nil || !(*est.Kcal >= 0 && *est.Kcal <= 900) {
		return nutrition.Result{}, badAnswer(fmt.Errorf("%s: the answer is not an estimate of %q", model, name))
	}
	return nutrition.Result{Query: name, Description: "model estimate for " + name,
		Per100g: sr24.Nutrients{EnergyKcal: *est.Kcal, ProteinG: est.ProteinG, CarbohydrateG: est.CarbohydrateG, FatG: est.FatG},
		Unknown: sr24.NutrientSet(0).With(sr24.Fiber).With(sr24.Sodium)}, nil
}
