// Package nutrition answers "how many calories in 150 g of chicken breast"
// from USDA FoodData Central and, when it is down or rate-limiting, from a
// PostgreSQL cache holding the USDA SR24 foods and the answers upstreams
// gave before.
//
// Usage:
//
//	store, _ := nutrition.NewStore(db, nutrition.Config{}) // db: *sqlx.DB (lib/pq)
//	_, err := store.Migrate(ctx)                          // every replica, at start-up
//	data, _ := sr24.Load()
//	_, err = store.Seed(ctx, data)                        // loads once per data version
//	r, err := store.Lookup(ctx, "chicken breast")
//	if errors.Is(err, nutrition.ErrNotFound) { /* try the next source */ }
//	kcal := r.Per100g.Scale(150).EnergyKcal
//
//	usda, _ := nutrition.NewUSDAClient(nutrition.USDAConfig{APIKey: key})
//	r, err = usda.Search(ctx, "chicken breast")
//	if err == nil { _ = store.SaveAnswer(ctx, r) } // write through for later outages
//
// The pieces are plain functions of (ctx, name) so that a fallback chain can
// wrap each in retry, circuit breaker and timeout: USDA → Postgres cache →
// web search → estimate. Chain runs them in that order for a Query: a name,
// and the SR24 food the meal parser matched it to (package meal), so that
// every source answers for the same food; an answer is written through to
// the cache only when the match was sure, and a Strict query gets no
// estimate. Each remote step has a share of the time left before the
// caller's deadline, so one deadline per request leaves the fallbacks time
// to answer.
//
// Input that a database or an upstream should never see (control
// characters, invalid UTF-8) is refused with a *ConfigError before any
// call, and Classify counts neither it nor a PostgreSQL data error
// (SQLSTATE classes 22 and 23) as a failure of the source.
//
// # The store
//
// A Store lives in one PostgreSQL schema (Config.Schema, default
// "nutrition"). Migrate creates it from the SQL files embedded from
// migrations/, under a transaction-scoped advisory lock so that replicas
// starting together apply each migration once; schema_migrations records
// them. Seed loads the SR24 foods, portions and aliases with COPY in one
// transaction, once per DataVersion.
//
// Lookup tries an exact alias, then the name normalised with sr24.Normalize
// (the same normalisation as the in-memory sr24.Lookup, so both agree), then
// cached upstream answers, then similar names: with pg_trgm when Migrate
// could create the extension, by shared words otherwise (see
// SimilarityInUse). SaveAnswer writes an upstream's answer through;
// StaleAnswers lists those to fetch again, which a Refresher does in the
// background, one replica at a time under a redsync mutex:
//
//	rs := redsync.New(goredis.NewPool(redisClient))
//	ref, _ := nutrition.NewRefresher(store, rs, usda.Search, nutrition.RefresherConfig{Source: nutrition.SourceUSDA, TTL: 30 * 24 * time.Hour})
//	go ref.Run(ctx, time.NewTicker(time.Hour).C)
//
// Every method takes a context and returns once it is done, even when
// PostgreSQL or the network stops answering: the driver alone would wait
// for a silent server (see the faults tests), so each database call runs in
// a goroutine of its own that the caller stops waiting for. Database
// failures are *DBError values, which unwrap to the driver's error and the
// context's.
//
// # The USDA client
//
// USDAClient searches foods and reads one food by FDC id, with a timeout
// of its own (5 s by default). It searches the generic data types
// (Foundation, SR Legacy, Survey (FNDDS)) unless asked for branded
// products, prefers the form a name means (sr24.AsEaten: cooked rice for
// "rice"), reads Foundation foods' carbohydrate by summation (205.2) and
// Atwater energies, and leaves a nutrient USDA does not give unknown, never
// 0. Errors carry the HTTP status and USDA's
// error code and work with package retry's classifier: 429
// OVER_RATE_LIMIT is retried, 403 API_KEY_INVALID is not. The API key never
// appears in an error.
package nutrition
