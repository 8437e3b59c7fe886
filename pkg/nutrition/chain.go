package nutrition

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// Where an Answer of the lookup chain came from.
const (
	FromUSDA     = "usda"        // USDA FoodData Central, live
	FromCache    = "local_cache" // the PostgreSQL cache, or the embedded data
	FromWeb      = "web"         // the web nutrition search
	FromEstimate = "estimate"    // a model's estimate, or an average dish
)

// DefaultCacheTimeout bounds a cache step, so a PostgreSQL outage costs a
// request that much at most before the chain moves on.
const DefaultCacheTimeout = 300 * time.Millisecond

// DefaultRemoteShare is ChainConfig.RemoteShare's default: a remote step
// may use half the time left.
const DefaultRemoteShare = 0.5

// Answer is what the lookup chain found for a food.
type Answer struct {
	Result
	// From is where it came from: FromUSDA, FromCache, FromWeb or
	// FromEstimate.
	From string
	// Step is the chain step that served (e.g. "postgres" or "embedded"
	// for FromCache).
	Step string
	// Degraded: not a live USDA answer; the bot should say so.
	Degraded bool
}

// ChainConfig assembles the lookup chain: USDA → PostgreSQL cache → the
// embedded data → web search → estimate. Every part is optional but the
// last: an average dish is always an answer.
type ChainConfig struct {
	// USDA is searched first, through USDAGuard (retry, breaker, timeout).
	USDA      *USDAClient
	USDAGuard *chain.Guard
	// Cache is consulted next, through CacheGuard (typically a breaker
	// without retries, so that a PostgreSQL outage is skipped at once), each
	// lookup bounded by CacheTimeout (default DefaultCacheTimeout). A USDA
	// or web answer is written through to it.
	Cache        *Store
	CacheGuard   *chain.Guard
	CacheTimeout time.Duration
	// Embedded answers from the embedded SR24 data in memory when the cache
	// does not (no PostgreSQL, or PostgreSQL down).
	Embedded *sr24.Dataset
	// Web is a web nutrition search, through WebGuard.
	Web      func(ctx context.Context, name string) (Result, error)
	WebGuard *chain.Guard
	// Estimate asks a model for an estimate, through EstimateGuard; when it
	// fails too, the answer is an average dish.
	Estimate      func(ctx context.Context, name string) (Result, error)
	EstimateGuard *chain.Guard
	// RemoteShare is the part of the time left before the caller's deadline
	// that each remote step (USDA, the web search, the model estimate) may
	// use, so that the steps after it keep time to answer: from 0 to 1, 0
	// meaning DefaultRemoteShare.
	RemoteShare float64
	// Options are the chain's (logger, observer, timeout).
	Options []chain.Option
	// Logger logs failed write-throughs (default: discard).
	Logger *slog.Logger
}

// Chain is the nutrition lookup chain. Safe for concurrent use.
type Chain struct {
	cfg ChainConfig
}

// NewChain checks cfg and returns the chain.
func NewChain(cfg ChainConfig) (*Chain, error) {
	pairs := []struct {
		name  string
		fn    bool
		guard *chain.Guard
	}{
		{"USDA", cfg.USDA != nil, cfg.USDAGuard},
		{"Web", cfg.Web != nil, cfg.WebGuard},
		{"Estimate", cfg.Estimate != nil, cfg.EstimateGuard},
	}
	for _, p := range pairs {
		if p.fn && p.guard == nil {
			return nil, &ConfigError{Field: p.name + "Guard", Value: nil, Reason: "every upstream goes through a Guard (retry, breaker, timeout)"}
		}
	}
	if cfg.CacheTimeout < 0 {
		return nil, &ConfigError{Field: "CacheTimeout", Value: cfg.CacheTimeout, Reason: "must not be negative"}
	}
	if cfg.CacheTimeout == 0 {
		cfg.CacheTimeout = DefaultCacheTimeout
	}
	if !(cfg.RemoteShare >= 0 && cfg.RemoteShare <= 1) {
		return nil, &ConfigError{Field: "RemoteShare", Value: cfg.RemoteShare, Reason: "want a fraction from 0 to 1"}
	}
	if cfg.RemoteShare == 0 {
		cfg.RemoteShare = DefaultRemoteShare
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Chain{cfg: cfg}, nil
}

// AverageDish is the chain's last resort, for a food named name: the
// nutrients of an average mixed dish, so the bot always answers something
// honest.
func AverageDish(name string) Result {
	return Result{Query: name, Description: "estimate for an average mixed dish",
		Per100g: sr24.Nutrients{EnergyKcal: 150, ProteinG: 7, CarbohydrateG: 15, FatG: 7},
		Unknown: sr24.NutrientSet(0).With(sr24.Fiber).With(sr24.Sodium)}
}

// step is one source in the chain.
type step struct {
	name, from string
	guard      *chain.Guard
	timeout    time.Duration
	share      float64
	find       func(ctx context.Context, q Query) (Result, error)
	saveTo     bool // write a success through to the cache
	estimate   bool // no source that knows the food: skipped for a Strict query
}

// byName adapts a lookup of a name to a step's find, looking up what the
// query names (its SR24 description when it has one).
func byName(fn func(ctx context.Context, name string) (Result, error)) func(context.Context, Query) (Result, error) {
	return func(ctx context.Context, q Query) (Result, error) { return fn(ctx, q.text()) }
}

func (c *Chain) steps() []step {
	cfg := c.cfg
	var steps []step
	if cfg.USDA != nil {
		steps = append(steps, step{name: "usda", from: FromUSDA, guard: cfg.USDAGuard, share: cfg.RemoteShare, find: cfg.USDA.SearchFor, saveTo: true})
	}
	if cfg.Cache != nil {
		steps = append(steps, step{name: "postgres", from: FromCache, guard: cfg.CacheGuard, timeout: cfg.CacheTimeout, find: byName(cfg.Cache.Lookup)})
	}
	if cfg.Embedded != nil {
		steps = append(steps, step{name: "embedded", from: FromCache, find: func(_ context.Context, q Query) (Result, error) {
			if f, ok := cfg.Embedded.Food(q.NDB); ok && q.NDB != "" {
				return Result{Query: q.text(), Source: SourceSR24, ID: f.NDB, NDB: f.NDB, Description: f.Description,
					Per100g: f.Per100g, Unknown: f.Unknown, How: MatchNormalized, Score: 1, Matched: f.Description}, nil
			}
			m, err := cfg.Embedded.Lookup(q.Name)
			if err != nil {
				return Result{}, fmt.Errorf("%w: %w", ErrNotFound, err)
			}
			return Result{Query: q.Name, Source: SourceSR24, ID: m.Food.NDB, NDB: m.Food.NDB, Description: m.Food.Description,
				Per100g: m.Food.Per100g, Unknown: m.Food.Unknown, How: MatchKind(m.How), Score: m.Score, Matched: m.Matched}, nil
		}})
	}
	if cfg.Web != nil {
		steps = append(steps, step{name: "web", from: FromWeb, guard: cfg.WebGuard, share: cfg.RemoteShare, find: func(ctx context.Context, q Query) (Result, error) {
			return cfg.Web(ctx, q.Name)
		}, saveTo: true})
	}
	if cfg.Estimate != nil {
		steps = append(steps, step{name: "ai_estimate", from: FromEstimate, guard: cfg.EstimateGuard, share: cfg.RemoteShare, estimate: true, find: func(ctx context.Context, q Query) (Result, error) {
			return cfg.Estimate(ctx, q.Name)
		}})
	}
	return append(steps, step{name: "average_dish", from: FromEstimate, estimate: true, find: func(_ context.Context, q Query) (Result, error) {
		return AverageDish(q.Name), nil
	}})
}

// Find looks a food up by name along the chain (Lookup of a Query that is
// sure of its name). It fails only when ctx ends: the last step always
// answers.
func (c *Chain) Find(ctx context.Context, name string) (Answer, error) {
	return c.Lookup(ctx, Query{Name: name, Sure: true})
}

// Lookup looks a Query up along the chain: USDA, the cache, the embedded
// data, the web search, then (unless q.Strict) a model's estimate and the
// average dish. A Strict query takes only an answer that is the food it
// names: no similar name, and a description holding every word of the
// name. An answer from USDA or the web is written through to the
// cache only when q.Sure. It fails when ctx ends, and for a Strict query
// that no source knows (the error wraps ErrNotFound); a query holding
// control characters or invalid UTF-8 is a *ConfigError, and no source
// sees it.
func (c *Chain) Lookup(ctx context.Context, q Query) (Answer, error) {
	if err := checkText(q.Name + q.Description); err != nil {
		return Answer{}, err
	}
	var defs []step
	for _, d := range c.steps() {
		if !(q.Strict && d.estimate) {
			defs = append(defs, d)
		}
	}
	steps := make([]chain.Step[Answer], len(defs))
	for i, d := range defs {
		find := func(ctx context.Context) (Answer, error) {
			r, err := d.find(ctx, q)
			if err != nil {
				return Answer{}, err
			}
			if q.Strict && !knows(q, r) {
				return Answer{}, notFound(q.Name, fmt.Sprintf("%s answered %q, which is not the food named", d.name, r.Description))
			}
			if r.Query == "" {
				r.Query = q.text()
			}
			return Answer{Result: r, From: d.from, Step: d.name}, nil
		}
		if d.guard != nil {
			steps[i] = chain.GuardedStep(d.guard, find)
		} else {
			steps[i] = chain.Step[Answer]{Name: d.name, Fn: find}
		}
		steps[i].Timeout, steps[i].Share = d.timeout, d.share
		steps[i].Degraded = d.from != FromUSDA
	}
	ch, err := chain.New("nutrition", steps, c.cfg.Options...)
	if err != nil {
		return Answer{}, err
	}
	res, err := ch.Execute(ctx)
	if err != nil {
		if q.Strict && errors.Is(err, chain.ErrAllFailed) {
			return Answer{}, fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return Answer{}, err
	}
	ans := res.Value
	ans.Degraded = res.Degraded
	if defs[res.Index].saveTo && c.cfg.Cache != nil && q.Sure {
		c.writeThrough(ctx, ans)
	}
	return ans, nil
}

// knows reports whether an answer to a Strict query is the food it names,
// not a guess: not a similar name, and a description holding every word of
// the name (as FoodData Central's requireAllWords does).
func knows(q Query, r Result) bool {
	if r.How == MatchSimilar {
		return false
	}
	if q.NDB != "" && r.NDB == q.NDB {
		return true
	}
	desc := " " + sr24.Normalize(r.Description) + " "
	for _, w := range strings.Fields(sr24.Normalize(q.Name)) {
		if !strings.Contains(desc, " "+w+" ") {
			return false
		}
	}
	return true
}

// writeThrough saves an upstream's answer in the cache, bounded by the
// cache timeout and skipped while the cache's breaker rejects calls.
func (c *Chain) writeThrough(ctx context.Context, ans Answer) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.CacheTimeout)
	defer cancel()
	save := func(ctx context.Context) error { return c.cfg.Cache.SaveAnswer(ctx, ans.Result) }
	var err error
	if c.cfg.CacheGuard != nil {
		err = c.cfg.CacheGuard.Do(ctx, save)
	} else {
		err = save(ctx)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		c.cfg.Logger.Warn("[NUTRITION] could not cache an upstream answer", "query", ans.Query, "source", string(ans.Source), "error", err)
	}
}

// Classify is the breaker classifier for the guards of lookups (USDA, the
// cache, the web search): a food not found is an answer, not a failure of
// the source; an error the request's own data caused (a *ConfigError, or a
// PostgreSQL data exception or integrity violation, SQLSTATE classes 22 and
// 23, such as a NUL byte in a name) is no failure of the source either and
// counts for nothing; other errors are as dbreaker.DefaultClassify says.
func Classify(err error) dbreaker.Outcome {
	var ce *ConfigError
	var pe *pq.Error
	switch {
	case errors.Is(err, ErrNotFound):
		return dbreaker.Success
	case errors.As(err, &ce):
		return dbreaker.Ignored
	case errors.As(err, &pe) && (pe.Code.Class() == "22" || pe.Code.Class() == "23"):
		return dbreaker.Ignored
	}
	return dbreaker.DefaultClassify(err)
}
