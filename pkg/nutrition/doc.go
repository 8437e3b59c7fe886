// Package nutrition answers "how many calories in 150 g of chicken breast"
// from a chain of sources, so the bot still answers when one fails: USDA
// FoodData Central, the PostgreSQL cache, the embedded USDA SR24 data, a
// web search, a model's estimate, and at last an average dish.
//
// Usage:
//
//	lookup, _ := nutrition.NewChain("nutrition", []nutrition.Step{
//		{Name: "usda", From: nutrition.FromUSDA, Guard: usdaGuard, Find: usdaClient.SearchFor, WriteThrough: true},
//		{Name: "postgres", From: nutrition.FromCache, Guard: cacheGuard, Find: nutrition.ByText(store.Lookup)},
//		nutrition.EmbeddedStep(data),
//	}, nutrition.ChainConfig{Cache: store, CacheGuard: cacheGuard}, nutrition.WithLogger(logger))
//	ans, err := lookup.Find(ctx, "chicken breast")
//	kcal := ans.Per100g.Scale(150).EnergyKcal // ans.Degraded: not a live USDA answer
//
// The package holds what every source shares (Result, Query, ErrNotFound,
// Classify) and the lookup chain; each source is a package of its own:
//
//	usda      the USDA FoodData Central client
//	postgres  the PostgreSQL cache, with its migrations and the SR24 seed
//	web       the web nutrition search client
//	refresh   the background refresh of cached answers
//	sr24      the embedded USDA SR24 data
//	meal      the meal-text parser (quantities, units, dishes)
//
// # The lookup chain
//
// NewChain builds the chain once from a list of Steps, each a source with
// its Guard (package chain: retry, breaker, timeout), and ends it with an
// average dish, so that it always answers. Lookup runs it for a Query: a
// name, and the SR24 food the meal parser matched it to, so that every
// source answers for the same food; an answer is written through to the
// cache only when the match was sure, and a Strict query gets no estimate.
// Each step that asks an upstream has a share of the time left before the
// caller's deadline (half, unless its Step.Share says otherwise) and each
// cache step a timeout (ChainConfig.CacheTimeout, 300 ms unless set), so
// one deadline per request leaves the fallbacks time to answer even when
// a source hangs. A source that does not know the food (ErrNotFound)
// lets the chain look further without failing: the metrics count no
// failure and no fallback for it. Adding a source is one more Step.
//
// Input that a database or an upstream should never see (control
// characters, invalid UTF-8) is refused with a *config.Error before any
// call (CheckText), and Classify, the breakers' classifier for lookups,
// counts neither it nor a PostgreSQL data error (SQLSTATE classes 22 and
// 23) as a failure of the source, and a food not found as an answer.
package nutrition
