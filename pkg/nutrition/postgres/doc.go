// Package postgres is the nutrition cache in PostgreSQL: the USDA SR24
// foods, portions and aliases, and the answers upstreams gave before, so
// the bot still answers when USDA FoodData Central is down or
// rate-limiting.
//
// Usage:
//
//	store, _ := postgres.New(db, postgres.Config{}) // db: *sqlx.DB (lib/pq)
//	_, err := store.Migrate(ctx)                   // every replica, at start-up
//	data, _ := sr24.Load()
//	_, err = store.Seed(ctx, data)                 // loads once per data version
//	r, err := store.Lookup(ctx, "chicken breast")  // a nutrition.Result
//	if errors.Is(err, nutrition.ErrNotFound) { /* try the next source */ }
//	_ = store.SaveAnswer(ctx, usdaAnswer)          // written through for later outages
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
// StaleAnswers lists those to fetch again, which package refresh does in
// the background.
//
// A Store works on a sqlx.ExtContext, so a *sqlx.DB and a *sqlx.Tx both
// serve (With). Every method takes a context and returns once it is done,
// even when PostgreSQL or the network stops answering: the driver alone
// would wait for a silent server (see the faults tests), so on a pool each
// database call runs in a goroutine of its own that the caller stops
// waiting for; on a transaction, which is not safe for concurrent use, the
// call runs on the caller's goroutine and is over when it returns.
// Database failures are *DBError values, which unwrap to the driver's error
// and the context's; a schema not migrated is ErrNotMigrated; invalid input
// and configuration are *config.Error.
package postgres
