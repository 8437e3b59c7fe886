package nutrition

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/config"
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

// DefaultCacheTimeout is ChainConfig.CacheTimeout's default: it bounds a
// cache step that sets no Timeout, and a write-through, so a PostgreSQL
// outage costs a request that much at most before the chain moves on.
const DefaultCacheTimeout = 300 * time.Millisecond

// DefaultRemoteShare is the Share of a step that asks an upstream and sets
// none: it may use half the time left before the lookup's deadline.
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

// Step is one source of the lookup chain.
type Step struct {
	// Name names the step in answers, logs and metrics ("usda",
	// "postgres"); unique within a chain.
	Name string
	// From says where its answers come from: FromUSDA, FromCache, FromWeb
	// or FromEstimate. A step that is not FromCache asks an upstream, so it
	// must have a Guard.
	From string
	// Guard wraps each lookup in the upstream's retry, breaker and attempt
	// timeout; nil for a step without I/O.
	Guard *chain.Guard
	// Timeout and Share bound the step, retries included, as chain.Step's
	// do: the shorter bound applies. A zero field takes a default, so that
	// a hanging step leaves the steps after it time to answer: a step that
	// asks an upstream (any From but FromCache) gets Share
	// DefaultRemoteShare, half the time left before the lookup's deadline
	// (Share 1 gives it all of it); a FromCache step gets Timeout
	// ChainConfig.CacheTimeout (DefaultCacheTimeout). A negative value, or
	// a Share above 1, is invalid.
	Timeout time.Duration
	Share   float64
	// Find looks a Query up (see ByText and ByName for a lookup of a name).
	Find func(ctx context.Context, q Query) (Result, error)
	// WriteThrough: an answer is written through to the chain's cache,
	// when the query is Sure.
	WriteThrough bool
	// Estimate: the step knows no food, it estimates; a Strict query skips
	// it.
	Estimate bool
}

// ByText adapts a lookup of a name to Step.Find: it looks up what the
// query names, its SR24 description when the name was matched (Query.Text).
func ByText(fn func(ctx context.Context, name string) (Result, error)) func(context.Context, Query) (Result, error) {
	return func(ctx context.Context, q Query) (Result, error) { return fn(ctx, q.Text()) }
}

// ByName adapts a lookup of a name to Step.Find: it looks up the name as
// written (Query.Name).
func ByName(fn func(ctx context.Context, name string) (Result, error)) func(context.Context, Query) (Result, error) {
	return func(ctx context.Context, q Query) (Result, error) { return fn(ctx, q.Name) }
}

// Cache is where the chain writes answers through (postgres.Store is one).
type Cache interface {
	SaveAnswer(ctx context.Context, r Result) error
}

// ChainConfig says where the lookup chain writes answers through. Its zero
// value works: no write-through.
type ChainConfig struct {
	// Cache receives the answers of the steps marked WriteThrough, through
	// CacheGuard (typically a breaker without retries, so that a PostgreSQL
	// outage is skipped at once). CacheTimeout bounds each write, and each
	// FromCache step that sets no Timeout (0: DefaultCacheTimeout).
	Cache        Cache
	CacheGuard   *chain.Guard
	CacheTimeout time.Duration
}

// Chain is the nutrition lookup chain. Safe for concurrent use.
type Chain struct {
	steps  []Step
	full   *chain.Chain[Answer] // every step
	strict *chain.Chain[Answer] // the steps that know foods, for a Strict query; nil: none
	cfg    ChainConfig
	logger *slog.Logger
}

// Option configures the lookup chain: its collaborators, given to the
// chain.Chain beneath it.
type Option func(*options) error

type options struct {
	logger    *slog.Logger
	observers []chain.Observer
	clock     clock.Clock

	given []string // the names of the options given, in order
}

// WithLogger sets the logger (default slog.Default()): the chain's
// "[FALLBACK]" messages, and failed write-throughs ("[NUTRITION]").
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return config.Set("nutrition", &o.given, "WithLogger", &o.logger, l) }
}

// WithObserver adds an observer of the chain's steps (metrics, tests); it
// may be given several times. A step that does not know the food
// (ErrNotFound) is reported with chain.StepEvent.NotFound: it is no
// failure, and the steps after it are no fallbacks unless one failed.
func WithObserver(obs chain.Observer) Option {
	return func(o *options) error { return config.Add("nutrition", &o.given, "WithObserver", &o.observers, obs) }
}

// WithClock sets the clock the chain tells the time left with, for the
// steps' Share (default clock.Real()).
func WithClock(c clock.Clock) Option {
	return func(o *options) error { return config.Set("nutrition", &o.given, "WithClock", &o.clock, c) }
}

// NewChain checks the steps and cfg and builds, once, the lookup chain
// named name (such as "nutrition", the chain's name in its logs, errors and
// observers' events): the steps in order, then the last resort, an
// average dish (AverageDish), so that the chain always answers. It takes
// WithLogger, WithObserver and WithClock. Invalid configuration is a
// *config.Error naming the field.
func NewChain(name string, steps []Step, cfg ChainConfig, opts ...Option) (*Chain, error) {
	if name == "" {
		return nil, invalid("name", name, "NewChain: empty chain name")
	}
	o := options{logger: slog.Default(), clock: clock.Real()}
	if err := config.ApplyOptions("nutrition", "NewChain", &o, &o.given, opts, "WithLogger", "WithObserver", "WithClock"); err != nil {
		return nil, err
	}
	for i, s := range steps {
		field := fmt.Sprintf("steps[%d]", i)
		switch {
		case s.Find == nil:
			return nil, invalid(field+".Find", nil, fmt.Sprintf("step %q has nothing to find with", s.Name))
		case s.From != FromUSDA && s.From != FromCache && s.From != FromWeb && s.From != FromEstimate:
			return nil, invalid(field+".From", s.From, "want FromUSDA, FromCache, FromWeb or FromEstimate")
		case s.From != FromCache && s.Guard == nil:
			return nil, invalid(field+".Guard", nil, fmt.Sprintf("step %q asks an upstream: it goes through a Guard (retry, breaker, timeout)", s.Name))
		case s.Timeout < 0:
			return nil, invalid(field+".Timeout", s.Timeout, fmt.Sprintf("step %q: must not be negative", s.Name))
		case !(s.Share >= 0 && s.Share <= 1):
			return nil, invalid(field+".Share", s.Share, fmt.Sprintf("step %q: want a fraction from 0 to 1 of the time left", s.Name))
		}
	}
	if cfg.CacheTimeout < 0 {
		return nil, invalid("CacheTimeout", cfg.CacheTimeout, "must not be negative")
	}
	if cfg.CacheTimeout == 0 {
		cfg.CacheTimeout = DefaultCacheTimeout
	}
	c := &Chain{steps: make([]Step, 0, len(steps)+1), cfg: cfg, logger: o.logger}
	for _, s := range steps {
		c.steps = append(c.steps, s.bounded(cfg.CacheTimeout))
	}
	c.steps = append(c.steps, averageDishStep)
	// A step that does not know the food has nothing for the query: the
	// chain looks further, but that is no failure and no fallback.
	notFound := func(err error) bool { return errors.Is(err, ErrNotFound) }
	chainOpts := []chain.Option{chain.WithLogger(o.logger), chain.WithClock(o.clock), chain.WithNotFound(notFound)}
	for _, obs := range o.observers {
		chainOpts = append(chainOpts, chain.WithObserver(obs))
	}
	var err error
	if c.full, err = c.build(name, false, chainOpts); err != nil {
		return nil, err
	}
	if slices.ContainsFunc(steps, func(s Step) bool { return !s.Estimate }) {
		if c.strict, err = c.build(name, true, chainOpts); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// bounded returns s with the defaults of its zero bounds (see Step.Timeout
// and Step.Share).
func (s Step) bounded(cacheTimeout time.Duration) Step {
	if s.Share == 0 && s.From != FromCache {
		s.Share = DefaultRemoteShare
	}
	if s.Timeout == 0 && s.From == FromCache {
		s.Timeout = cacheTimeout
	}
	return s
}

// averageDishStep is the chain's last resort, which asks no upstream and
// answers at once: it takes no bound.
var averageDishStep = Step{Name: "average_dish", From: FromEstimate, Estimate: true, Find: func(_ context.Context, q Query) (Result, error) {
	return AverageDish(q.Name), nil
}}

// queryKey carries the Query of one lookup to the steps of the chain,
// which is built once for all lookups.
type queryKey struct{}

// build makes the chain.Chain named name of the steps, without the
// estimates for a Strict query.
func (c *Chain) build(name string, strict bool, opts []chain.Option) (*chain.Chain[Answer], error) {
	var steps []chain.Step[Answer]
	for _, s := range c.steps {
		if strict && s.Estimate {
			continue
		}
		find := func(ctx context.Context) (Answer, error) {
			q, _ := ctx.Value(queryKey{}).(Query)
			r, err := s.Find(ctx, q)
			if err != nil {
				return Answer{}, err
			}
			if q.Strict && !knows(q, r) {
				return Answer{}, NotFound(q.Name, fmt.Sprintf("%s answered %q, which is not the food named", s.Name, r.Description))
			}
			if r.Query == "" {
				r.Query = q.Text()
			}
			return Answer{Result: r, From: s.From, Step: s.Name}, nil
		}
		step := chain.Step[Answer]{Name: s.Name, Fn: find}
		if s.Guard != nil {
			step = chain.GuardedStep(s.Guard, find)
			step.Name = s.Name
		}
		step.Timeout, step.Share = s.Timeout, s.Share
		step.Degraded = s.From != FromUSDA
		steps = append(steps, step)
	}
	return chain.New(name, steps, opts...)
}

// AverageDish is the chain's last resort, for a food named name: the
// nutrients of an average mixed dish, so the bot always answers something
// honest.
func AverageDish(name string) Result {
	return Result{Query: name, Description: "estimate for an average mixed dish",
		Per100g: sr24.Nutrients{EnergyKcal: 150, ProteinG: 7, CarbohydrateG: 15, FatG: 7},
		Unknown: sr24.NutrientSet(0).With(sr24.Fiber).With(sr24.Sodium)}
}

// EmbeddedStep is a step that answers from the SR24 data in memory, for
// when the cache does not (no PostgreSQL, or PostgreSQL down): the food
// the query was matched to, else the name looked up in data.
func EmbeddedStep(data *sr24.Dataset) Step {
	return Step{Name: "embedded", From: FromCache, Find: func(_ context.Context, q Query) (Result, error) {
		if f, ok := data.Food(q.NDB); ok && q.NDB != "" {
			return Result{Query: q.Text(), Source: SourceSR24, ID: f.NDB, NDB: f.NDB, Description: f.Description,
				Per100g: f.Per100g, Unknown: f.Unknown, How: MatchNormalized, Score: 1, Matched: f.Description}, nil
		}
		m, err := data.Lookup(q.Name)
		if err != nil {
			return Result{}, fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return Result{Query: q.Name, Source: SourceSR24, ID: m.Food.NDB, NDB: m.Food.NDB, Description: m.Food.Description,
			Per100g: m.Food.Per100g, Unknown: m.Food.Unknown, How: MatchKind(m.How), Score: m.Score, Matched: m.Matched}, nil
	}}
}

// Find looks a food up by name along the chain (Lookup of a Query that is
// sure of its name). It fails only when ctx ends: the last step always
// answers.
func (c *Chain) Find(ctx context.Context, name string) (Answer, error) {
	return c.Lookup(ctx, Query{Name: name, Sure: true})
}

// Lookup looks a Query up along the chain's steps, then the average dish;
// a Strict query skips the steps marked Estimate and the average dish, and
// takes only an answer that is the food it names: no similar name, and a
// description holding every word of the name. An answer of a step marked
// WriteThrough is written through to the cache only when q.Sure. It fails
// when ctx ends, and for a Strict query that no source knows (the error
// wraps ErrNotFound); a query holding control characters or invalid UTF-8
// is a *config.Error, and no source sees it.
func (c *Chain) Lookup(ctx context.Context, q Query) (Answer, error) {
	if err := CheckText(q.Name + q.Description); err != nil {
		return Answer{}, err
	}
	ch := c.full
	if q.Strict {
		if c.strict == nil {
			return Answer{}, NotFound(q.Name, "no step of the chain knows foods")
		}
		ch = c.strict
	}
	res, err := ch.Execute(context.WithValue(ctx, queryKey{}, q))
	if err != nil {
		if q.Strict && errors.Is(err, chain.ErrAllFailed) {
			return Answer{}, fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return Answer{}, err
	}
	ans := res.Value
	ans.Degraded = res.Degraded
	if c.writesThrough(ans.Step) && c.cfg.Cache != nil && q.Sure {
		c.writeThrough(ctx, ans)
	}
	return ans, nil
}

// writesThrough reports whether the step named name writes its answers
// through.
func (c *Chain) writesThrough(name string) bool {
	for _, s := range c.steps {
		if s.Name == name {
			return s.WriteThrough
		}
	}
	return false
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
		c.logger.Warn("[NUTRITION] could not cache an upstream answer", "query", ans.Query, "source", string(ans.Source), "error", err)
	}
}

// Classify is the breaker classifier for the guards of lookups (USDA, the
// cache, the web search): a food not found is an answer, not a failure of
// the source; an error the request's own data caused (a *config.Error, or
// a PostgreSQL data exception or integrity violation, SQLSTATE classes 22
// and 23, such as a NUL byte in a name) is no failure of the source either
// and counts for nothing; other errors are as dbreaker.DefaultClassify
// says.
func Classify(err error) dbreaker.Outcome {
	var ce *config.Error
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
