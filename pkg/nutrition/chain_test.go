package nutrition_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/healthagent/resilience/internal/clocktest"
	"github.com/healthagent/resilience/internal/fakeupstream"
	"github.com/healthagent/resilience/internal/testpg"
	"github.com/healthagent/resilience/internal/testproxy"
	"github.com/healthagent/resilience/internal/testsr24"
	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/metrics"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/postgres"
	"github.com/healthagent/resilience/pkg/nutrition/usda"
	"github.com/healthagent/resilience/pkg/nutrition/web"
)

// chainFixture: the fake USDA and web search, a cache on the real
// PostgreSQL, breakers on a MemoryStore with a manual clock.
type chainFixture struct {
	fake  *fakeupstream.Server
	clock *clocktest.Clock
	chain *nutrition.Chain
	store *postgres.Store
	usda  *dbreaker.Breaker
	cache *dbreaker.Breaker
}

func guardFor(t *testing.T, name string, b *dbreaker.Breaker, timeout time.Duration) *chain.Guard {
	t.Helper()
	g, err := chain.NewGuard(name, chain.GuardConfig{Breaker: b, AttemptTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// newChainFixture builds the lookup chain: USDA, the cache (when not nil),
// the embedded data, the web search, the average dish.
func newChainFixture(t *testing.T, cache *postgres.Store, opts ...nutrition.Option) *chainFixture {
	t.Helper()
	data := testsr24.Dataset(t)
	fake, err := fakeupstream.New(fakeupstream.Config{Data: data, USDAKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	f := &chainFixture{fake: fake, clock: clocktest.New(testStart), store: cache}
	breakers, err := dbreaker.NewMemoryStore(dbreaker.WithClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	newBreaker := func(name string) *dbreaker.Breaker {
		b, err := dbreaker.New(name, breakers, dbreaker.Config{Classify: nutrition.Classify, OpenTimeout: time.Minute},
			dbreaker.WithClock(f.clock), dbreaker.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	f.usda, f.cache = newBreaker("usda"), newBreaker("postgres")
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	client, err := usda.New(usda.Config{APIKey: "k", BaseURL: srv.URL, Timeout: 2 * time.Second}, usda.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	search, err := web.New(web.Config{BaseURL: fakeupstream.EndpointsAt(srv.URL).Web}, web.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	// The bounds are the defaults: USDA and the web search get half the
	// time left, the cache CacheTimeout.
	steps := []nutrition.Step{{Name: "usda", From: nutrition.FromUSDA, Guard: guardFor(t, "usda", f.usda, 2*time.Second),
		Find: client.SearchFor, WriteThrough: true}}
	var cfg nutrition.ChainConfig
	if cache != nil {
		cacheGuard := guardFor(t, "postgres", f.cache, time.Second)
		steps = append(steps, nutrition.Step{Name: "postgres", From: nutrition.FromCache, Guard: cacheGuard,
			Find: nutrition.ByText(cache.Lookup)})
		cfg = nutrition.ChainConfig{Cache: cache, CacheGuard: cacheGuard, CacheTimeout: 200 * time.Millisecond}
	}
	steps = append(steps, nutrition.EmbeddedStep(data),
		nutrition.Step{Name: "web", From: nutrition.FromWeb, Guard: guardFor(t, "web", nil, 2*time.Second),
			Find: nutrition.ByName(search.Search), WriteThrough: true})
	opts = append([]nutrition.Option{nutrition.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	if f.chain, err = nutrition.NewChain("nutrition", steps, cfg, opts...); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLookupChainServesAndCachesUSDA(t *testing.T) {
	store := seededStore(t)
	f := newChainFixture(t, store)
	ctx := testContext(t)
	ans, err := f.chain.Find(ctx, "chicken breast")
	if err != nil {
		t.Fatal(err)
	}
	if ans.From != nutrition.FromUSDA || ans.Degraded || ans.Source != nutrition.SourceUSDA || ans.Per100g.EnergyKcal != 165 {
		t.Fatalf("healthy: %+v", ans)
	}
	// USDA goes down: five failed attempts open its breaker; meanwhile and
	// after, the answer comes from the cache, where the USDA answer was
	// written through.
	if err := f.fake.SetFault(fakeupstream.USDA, fakeupstream.Fault{Outage: fakeupstream.OutageError}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		ans, err = f.chain.Find(ctx, "chicken breast")
		if err != nil || ans.From != nutrition.FromCache || !ans.Degraded || ans.Step != "postgres" {
			t.Fatalf("USDA down, call %d: %+v, %v", i, ans, err)
		}
	}
	saved, err := store.StaleAnswers(ctx, nutrition.SourceUSDA, time.Now().Add(time.Hour), 10)
	if err != nil || len(saved) != 1 || saved[0].Query != "chicken breast" || saved[0].Per100g.EnergyKcal != 165 {
		t.Fatalf("the USDA answer was not written through to the cache: %+v, %v", saved, err)
	}
	if got := f.fake.Stats()[fakeupstream.USDA].Requests; got != 1+5 {
		t.Fatalf("USDA got %d requests, want 1 healthy + 5 failed before the breaker opened", got)
	}
	// Recovery: after the open timeout a probe succeeds and USDA serves.
	f.fake.ResetFaults()
	f.clock.Advance(time.Minute)
	if ans, err = f.chain.Find(ctx, "banana"); err != nil || ans.From != nutrition.FromUSDA {
		t.Fatalf("after recovery: %+v, %v", ans, err)
	}
}

func TestLookupChainWithoutPostgres(t *testing.T) {
	// A store on a port where nothing listens: the cache step fails, its
	// breaker opens, and the embedded data answers.
	down := testpg.OpenAt(t, "127.0.0.1:1")
	store, err := postgres.New(down, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := newChainFixture(t, store)
	if err := f.fake.SetFault(fakeupstream.USDA, fakeupstream.Fault{Outage: fakeupstream.OutageError}); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	for i := 0; i < 10; i++ {
		ans, err := f.chain.Find(ctx, "rice")
		if err != nil || ans.From != nutrition.FromCache || ans.Step != "embedded" || ans.Per100g.EnergyKcal != 130 {
			t.Fatalf("call %d with PostgreSQL down: %+v, %v", i, ans, err)
		}
	}
	if s, _ := f.cache.State(ctx); s.State != dbreaker.Open {
		t.Fatalf("the cache's breaker: %+v; want open after 5 failures, so the step is skipped", s)
	}
	// A name nobody knows goes to the web search, then the estimate.
	ans, err := f.chain.Find(ctx, "zorblax stew")
	if err != nil || (ans.From != nutrition.FromWeb && ans.From != nutrition.FromEstimate) || !ans.Degraded {
		t.Fatalf("unknown name: %+v, %v", ans, err)
	}
	if err := f.fake.SetFault(fakeupstream.Web, fakeupstream.Fault{Outage: fakeupstream.OutageError}); err != nil {
		t.Fatal(err)
	}
	if ans, err = f.chain.Find(ctx, "zorblax stew"); err != nil || ans.From != nutrition.FromEstimate || ans.Step != "average_dish" {
		t.Fatalf("everything down: %+v, %v", ans, err)
	}
}

// NewChain refuses a step without what it needs and a bound that cannot
// work, naming the field, instead of replacing it by a default.
func TestNewChainRefusesInvalidConfiguration(t *testing.T) {
	client, err := usda.New(usda.Config{APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	guard := guardFor(t, "usda", nil, time.Second)
	for _, tt := range []struct {
		steps []nutrition.Step
		cfg   nutrition.ChainConfig
		field string
	}{
		{[]nutrition.Step{{Name: "usda", From: nutrition.FromUSDA, Find: client.SearchFor}}, nutrition.ChainConfig{}, "steps[0].Guard"},
		{[]nutrition.Step{{Name: "usda", From: nutrition.FromUSDA, Guard: guard}}, nutrition.ChainConfig{}, "steps[0].Find"},
		{[]nutrition.Step{{Name: "usda", From: "fdc", Guard: guard, Find: client.SearchFor}}, nutrition.ChainConfig{}, "steps[0].From"},
		{[]nutrition.Step{{Name: "usda", From: nutrition.FromUSDA, Guard: guard, Find: client.SearchFor, Timeout: -time.Second}}, nutrition.ChainConfig{}, "steps[0].Timeout"},
		{[]nutrition.Step{{Name: "usda", From: nutrition.FromUSDA, Guard: guard, Find: client.SearchFor, Share: 1.5}}, nutrition.ChainConfig{}, "steps[0].Share"},
		{[]nutrition.Step{{Name: "usda", From: nutrition.FromUSDA, Guard: guard, Find: client.SearchFor, Share: -0.5}}, nutrition.ChainConfig{}, "steps[0].Share"},
		{nil, nutrition.ChainConfig{CacheTimeout: -time.Second}, "CacheTimeout"},
	} {
		t.Run(tt.field, func(t *testing.T) {
			var ce *config.Error
			if _, err := nutrition.NewChain("nutrition", tt.steps, tt.cfg); !errors.As(err, &ce) || ce.Package != "nutrition" || ce.Field != tt.field {
				t.Fatalf("err = %v; want a *config.Error of nutrition naming %s", err, tt.field)
			}
		})
	}
	var ce *config.Error
	if _, err := nutrition.NewChain("", nil, nutrition.ChainConfig{}); !errors.As(err, &ce) || ce.Package != "nutrition" || ce.Field != "name" {
		t.Fatalf("no name: err = %v; want a *config.Error of nutrition naming name", err)
	}
}

func TestClassifyTreatsNotFoundAsAnAnswer(t *testing.T) {
	if nutrition.Classify(nutrition.NotFound("x", "none")) != dbreaker.Success || nutrition.Classify(errors.New("503")) != dbreaker.Failure ||
		nutrition.Classify(context.Canceled) != dbreaker.Ignored {
		t.Fatal("Classify")
	}
}

// Errors the request's own data causes are no failure of the database: a
// data exception (SQLSTATE class 22) or an integrity violation (23), and
// input refused before it reaches the database. Connection failures are.
func TestClassifyClientDataIsNoFailure(t *testing.T) {
	tests := []struct {
		err  error
		want dbreaker.Outcome
	}{
		{&postgres.DBError{Op: "lookup", Err: &pq.Error{Code: "22021", Message: `invalid byte sequence for encoding "UTF8": 0x00`}}, dbreaker.Ignored},
		{&postgres.DBError{Op: "save answer", Err: &pq.Error{Code: "23505", Message: "duplicate key value"}}, dbreaker.Ignored},
		{&config.Error{Package: "nutrition", Field: "name", Value: "rice\x00", Reason: "control character"}, dbreaker.Ignored},
		{&postgres.DBError{Op: "lookup", Err: &pq.Error{Code: "08006", Message: "connection failure"}}, dbreaker.Failure},
		{&postgres.DBError{Op: "lookup", Err: &pq.Error{Code: "57P01", Message: "terminating connection due to administrator command"}}, dbreaker.Failure},
	}
	for _, tt := range tests {
		if got := nutrition.Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	// A data exception from the real server.
	db := testpg.Connect(t)
	_, err := db.ExecContext(testContext(t), "SELECT 1/0")
	if got := nutrition.Classify(&postgres.DBError{Op: "x", Err: err}); got != dbreaker.Ignored {
		t.Errorf("Classify(%v) = %v, want ignored", err, got)
	}
}

// A caption with a NUL byte never reaches PostgreSQL, and however often it
// comes, the cache's breaker stays closed: the input is at fault, not the
// database.
func TestNULNeverReachesTheCacheNorOpensItsBreaker(t *testing.T) {
	store := seededStore(t)
	f := newChainFixture(t, store)
	ctx := testContext(t)
	guard := guardFor(t, "postgres", f.cache, time.Second)
	for i := 0; i < 7; i++ {
		_, err := chain.Execute(ctx, guard, func(ctx context.Context) (nutrition.Result, error) { return store.Lookup(ctx, "rice\x00") })
		var ce *config.Error
		if !errors.As(err, &ce) {
			t.Fatalf("lookup %d: err = %v, want a *config.Error naming the control character", i, err)
		}
		if err := store.SaveAnswer(ctx, nutrition.Result{Query: "rice\x00", Source: nutrition.SourceUSDA, Description: "Rice"}); !errors.As(err, &ce) {
			t.Fatalf("save %d: err = %v, want a *config.Error", i, err)
		}
		if _, err := f.chain.Lookup(ctx, nutrition.Query{Name: "rice\x00"}); !errors.As(err, &ce) {
			t.Fatalf("chain lookup %d: err = %v, want a *config.Error", i, err)
		}
	}
	if s, err := f.cache.State(ctx); err != nil || s.State != dbreaker.Closed || s.Failures != 0 {
		t.Fatalf("the cache's breaker after 7 NUL names: %+v, %v; want closed, no failure", s, err)
	}
	if got := f.fake.Stats()[fakeupstream.USDA].Requests; got != 0 {
		t.Fatalf("USDA saw %d requests for a name with a NUL", got)
	}
}

// A Strict query that no source knows is ErrNotFound: no estimate, no
// average dish, no invented number.
func TestStrictLookupOfAnUnknownFood(t *testing.T) {
	f := newChainFixture(t, nil)
	ctx := testContext(t)
	_, err := f.chain.Lookup(ctx, nutrition.Query{Name: "zorblax", Strict: true})
	if !errors.Is(err, nutrition.ErrNotFound) {
		t.Fatalf("strict lookup of zorblax: %v, want nutrition.ErrNotFound", err)
	}
	ans, err := f.chain.Lookup(ctx, nutrition.Query{Name: "zorblax"})
	if err != nil || ans.From != nutrition.FromEstimate {
		t.Fatalf("lookup of zorblax: %+v, %v; want the average dish", ans, err)
	}
	// A misspelt name the embedded data would match by similarity is no
	// answer to a strict query: it is a guess.
	if ans, err := f.chain.Lookup(ctx, nutrition.Query{Name: "chiken brest"}); err != nil || ans.Step != "embedded" || ans.How != nutrition.MatchSimilar {
		t.Fatalf("lookup of chiken brest: %+v, %v; want the embedded data's similar match", ans, err)
	}
	if _, err := f.chain.Lookup(ctx, nutrition.Query{Name: "chiken brest", Strict: true}); !errors.Is(err, nutrition.ErrNotFound) {
		t.Fatalf("strict lookup of chiken brest: %v, want nutrition.ErrNotFound", err)
	}
	if ans, err := f.chain.Lookup(ctx, nutrition.Query{Name: "chicken breast", Strict: true}); err != nil || ans.From != nutrition.FromUSDA {
		t.Fatalf("strict lookup of chicken breast: %+v, %v", ans, err)
	}
}

// An answer for a query the parser was not sure of is never written to
// the cache as the food the name means; a sure one is.
func TestOnlySureAnswersAreCached(t *testing.T) {
	store := seededStore(t)
	f := newChainFixture(t, store)
	ctx := testContext(t)
	if ans, err := f.chain.Lookup(ctx, nutrition.Query{Name: "chicken breast"}); err != nil || ans.From != nutrition.FromUSDA {
		t.Fatalf("unsure lookup: %+v, %v", ans, err)
	}
	saved, err := store.StaleAnswers(ctx, nutrition.SourceUSDA, time.Now().Add(time.Hour), 10)
	if err != nil || len(saved) != 0 {
		t.Fatalf("an unsure answer was cached: %+v, %v", saved, err)
	}
	q := nutrition.Query{Name: "chicken breast", NDB: "05064", Description: "Chicken, broilers or fryers, breast, meat only, cooked, roasted", Sure: true}
	ans, err := f.chain.Lookup(ctx, q)
	if err != nil || ans.From != nutrition.FromUSDA || ans.NDB != "05064" || ans.Per100g.EnergyKcal != 165 {
		t.Fatalf("sure lookup: %+v, %v", ans, err)
	}
	saved, err = store.StaleAnswers(ctx, nutrition.SourceUSDA, time.Now().Add(time.Hour), 10)
	if err != nil || len(saved) != 1 || saved[0].Query != q.Description {
		t.Fatalf("a sure answer was not cached under its food: %+v, %v", saved, err)
	}
}

// USDA hangs: the USDA step gets its share of the time left (half of a
// 2 s budget, less than its 2 s attempt timeout), and the cache answers
// with the rest of the budget still unspent.
func TestHangingUSDAAnswersWithinTheBudget(t *testing.T) {
	store := seededStore(t)
	var usdaErr error
	f := newChainFixture(t, store, nutrition.WithObserver(chain.ObserverFunc(func(_ context.Context, e chain.StepEvent) {
		if e.Step == "usda" {
			usdaErr = e.Err
		}
	})))
	if err := f.fake.SetFault(fakeupstream.USDA, fakeupstream.Fault{HangRate: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(testContext(t), 2*time.Second)
	defer cancel()
	ans, err := f.chain.Lookup(ctx, nutrition.Query{Name: "rice", NDB: "20045", Description: "Rice, white, long-grain, regular, cooked", Sure: true})
	if err != nil || ans.From != nutrition.FromCache || ans.Per100g.EnergyKcal != 130 {
		t.Fatalf("USDA hanging: %+v, %v; want the cache's answer", ans, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the request's budget ran out (%v): the USDA step took more than its share", ctx.Err())
	}
	if usdaErr == nil || !errors.Is(usdaErr, context.DeadlineExceeded) || !strings.Contains(usdaErr.Error(), "step timed out after") {
		t.Fatalf("USDA step ended with %v; want its share of the budget to end it", usdaErr)
	}
}

// PostgreSQL goes away and comes back: the chain skips the cache (its
// breaker opens after five failed lookups, and the embedded data answers),
// and after the open timeout one probe brings the cache step back.
func TestLookupChainCacheComesBackWithPostgres(t *testing.T) {
	seeded := seededStore(t)
	target, err := url.Parse(testpg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	proxy := testproxy.New(t, "postgres", target.Host)
	f := newChainFixture(t, seeded.With(testpg.OpenAt(t, proxy.Listen)))
	if err := f.fake.SetFault(fakeupstream.USDA, fakeupstream.Fault{Outage: fakeupstream.OutageError}); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	find := func() nutrition.Answer {
		t.Helper()
		ans, err := f.chain.Find(ctx, "rice")
		if err != nil || ans.From != nutrition.FromCache || ans.Per100g.EnergyKcal != 130 {
			t.Fatalf("rice: %+v, %v", ans, err)
		}
		return ans
	}
	if ans := find(); ans.Step != "postgres" {
		t.Fatalf("with PostgreSQL: served by %s", ans.Step)
	}
	proxy.Stop()
	for i := 0; i < 8; i++ {
		if ans := find(); ans.Step != "embedded" {
			t.Fatalf("PostgreSQL away, call %d: served by %s", i, ans.Step)
		}
	}
	if s, _ := f.cache.State(ctx); s.State != dbreaker.Open || s.Failures != 5 {
		t.Fatalf("the cache's breaker: %+v; want open after 5 failed lookups", s)
	}
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute) // the breaker's open timeout
	if ans := find(); ans.Step != "postgres" {
		t.Fatalf("PostgreSQL back: served by %s", ans.Step)
	}
	if s, _ := f.cache.State(ctx); s.State != dbreaker.Closed {
		t.Fatalf("the cache's breaker after the probe: %+v", s)
	}
}

// A step is known by its own name in answers, logs and metrics, also when
// its Guard is named after another upstream (the model estimate goes
// through the language model's Guard), and the chain by the name given.
func TestStepsAreNamedByTheirName(t *testing.T) {
	var seen []string
	obs := chain.ObserverFunc(func(_ context.Context, e chain.StepEvent) { seen = append(seen, e.Chain+"/"+e.Step) })
	estimate := func(_ context.Context, name string) (nutrition.Result, error) {
		return nutrition.Result{Description: "model estimate for " + name}, nil
	}
	lookup, err := nutrition.NewChain("facts", []nutrition.Step{
		{Name: "ai_estimate", From: nutrition.FromEstimate, Guard: guardFor(t, "anthropic", nil, time.Second), Find: nutrition.ByName(estimate), Estimate: true},
	}, nutrition.ChainConfig{}, nutrition.WithObserver(obs), nutrition.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ans, err := lookup.Find(testContext(t), "zorblax")
	if err != nil || ans.Step != "ai_estimate" || ans.From != nutrition.FromEstimate {
		t.Fatalf("Find = %+v, %v", ans, err)
	}
	if len(seen) != 1 || seen[0] != "facts/ai_estimate" {
		t.Errorf("the observer saw steps %v, want [facts/ai_estimate]: the chain's name and the step's", seen)
	}
}

// A step that sets no bound gets the default one: a step that asks an
// upstream half the time left before the deadline (DefaultRemoteShare), a
// cache step ChainConfig.CacheTimeout (DefaultCacheTimeout when zero). So
// a hanging step never eats the whole deadline, and the average dish
// answers after it; a bound given is kept.
func TestStepsWithoutBoundsTakeTheDefaults(t *testing.T) {
	hang := func(ctx context.Context, _ nutrition.Query) (nutrition.Result, error) {
		<-ctx.Done()
		return nutrition.Result{}, ctx.Err()
	}
	for _, tt := range []struct {
		name     string
		step     nutrition.Step
		cfg      nutrition.ChainConfig
		deadline time.Duration
		want     string // what the hanging step's error says; "" for the lookup's own deadline
	}{
		{"upstream without a Share", nutrition.Step{Name: "usda", From: nutrition.FromUSDA}, nutrition.ChainConfig{}, 2 * time.Second,
			"step timed out after"},
		{"web search without a Share", nutrition.Step{Name: "web", From: nutrition.FromWeb}, nutrition.ChainConfig{}, 2 * time.Second,
			"step timed out after"},
		{"cache without a Timeout", nutrition.Step{Name: "postgres", From: nutrition.FromCache}, nutrition.ChainConfig{CacheTimeout: 50 * time.Millisecond}, 10 * time.Second,
			"step timed out after 50ms"},
		{"cache without a Timeout, default CacheTimeout", nutrition.Step{Name: "postgres", From: nutrition.FromCache}, nutrition.ChainConfig{}, 10 * time.Second,
			"step timed out after " + nutrition.DefaultCacheTimeout.String()},
		{"cache with its own Timeout", nutrition.Step{Name: "postgres", From: nutrition.FromCache, Timeout: 20 * time.Millisecond}, nutrition.ChainConfig{}, 10 * time.Second,
			"step timed out after 20ms"},
		{"upstream given all the time left", nutrition.Step{Name: "usda", From: nutrition.FromUSDA, Share: 1}, nutrition.ChainConfig{}, 300 * time.Millisecond,
			""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stepErr error
			obs := chain.ObserverFunc(func(_ context.Context, e chain.StepEvent) {
				if e.Step == tt.step.Name {
					stepErr = e.Err
				}
			})
			step := tt.step
			step.Guard, step.Find = guardFor(t, step.Name, nil, time.Minute), hang
			lookup, err := nutrition.NewChain("nutrition", []nutrition.Step{step}, tt.cfg, nutrition.WithObserver(obs), nutrition.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(testContext(t), tt.deadline)
			defer cancel()
			ans, err := lookup.Find(ctx, "rice")
			if tt.want == "" {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Find = %+v, %v (step: %v); want the step to take the whole deadline, and no answer", ans, err, stepErr)
				}
				return
			}
			if err != nil || ans.Step != "average_dish" {
				t.Fatalf("Find = %+v, %v; want the average dish after the hanging step's bound", ans, err)
			}
			if !errors.Is(stepErr, context.DeadlineExceeded) || !strings.Contains(stepErr.Error(), tt.want) {
				t.Fatalf("the hanging step ended with %v; want %q", stepErr, tt.want)
			}
		})
	}
}

// A food a source does not know is no failure of it, and the steps the
// chain tries after it are no fallbacks: with healthy sources, unknown
// foods count nothing in fallback_executions_total. With USDA down, the
// steps after it are fallbacks, and one that does not know the food
// either is not_found, not a failure.
func TestUnknownFoodsAreNoFallbacks(t *testing.T) {
	m, err := metrics.NewFallbacks(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	f := newChainFixture(t, seededStore(t), nutrition.WithObserver(m))
	steps := []string{"postgres", "embedded", "web", "average_dish"}
	if err := m.Track("usda", steps...); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	for _, q := range []nutrition.Query{{Name: "zorblax"}, {Name: "wobblefruit", Strict: true}, {Name: "chiken brest"}} {
		if _, err := f.chain.Lookup(ctx, q); err != nil && !errors.Is(err, nutrition.ErrNotFound) {
			t.Fatalf("lookup of %+v: %v", q, err)
		}
	}
	counts := func() map[string]float64 {
		out := map[string]float64{}
		for _, step := range steps {
			for _, status := range []string{metrics.FallbackSuccess, metrics.FallbackFailure, metrics.FallbackNotFound} {
				if v := testutil.ToFloat64(m.ExecutionsCounter("usda", step, status)); v != 0 {
					out[step+"/"+status] = v
				}
			}
		}
		return out
	}
	if got := counts(); len(got) != 0 {
		t.Fatalf("healthy sources, unknown foods: fallback_executions_total %v, want none", got)
	}
	if err := f.fake.SetFault(fakeupstream.USDA, fakeupstream.Fault{Outage: fakeupstream.OutageError}); err != nil {
		t.Fatal(err)
	}
	if ans, err := f.chain.Lookup(ctx, nutrition.Query{Name: "zorblax"}); err != nil || ans.Step != "average_dish" {
		t.Fatalf("zorblax with USDA down: %+v, %v", ans, err)
	}
	want := map[string]float64{"postgres/not_found": 1, "embedded/not_found": 1, "web/not_found": 1, "average_dish/success": 1}
	if got := counts(); !maps.Equal(got, want) {
		t.Fatalf("USDA down, an unknown food: fallback_executions_total %v, want %v", got, want)
	}
}
