// Package refresh fetches cached upstream answers anew once they are older
// than a TTL, so that the nutrition cache (package postgres) is fresh for
// the next outage.
//
// Usage:
//
//	rs := redsync.New(goredis.NewPool(redisClient))
//	ref, _ := refresh.New(store, rs, usdaClient.Search, refresh.Config{Source: nutrition.SourceUSDA, TTL: 30 * 24 * time.Hour},
//		refresh.WithLogger(logger))
//	go ref.Run(ctx, time.NewTicker(time.Hour).C)
//
// Every replica may run a Refresher: a redsync mutex in Redis lets one
// replica at a time refresh, and the others skip their turn. Failed fetches
// are counted and logged ("[NUTRITION]"), not returned: the errors of
// RefreshOnce are failures of Redis or PostgreSQL, and the context's.
// Invalid configuration is a *config.Error.
package refresh
