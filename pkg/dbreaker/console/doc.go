// Package console is an embeddable breaker console: one page and a JSON API
// showing every breaker of a fleet that shares a dbreaker.RedisStore's key
// prefix — its state, counters, open-until, last error and history (the
// breakers' log) — and every replica that keeps a heartbeat
// (dbreaker.WithPresence), flagged when it decides locally or disagrees with
// Redis. A replica whose heartbeat stops (down, or cut off from Redis and
// deciding by its StoreFailure policy) stays listed, flagged silent, for
// KeepSilent after the console last heard it. Live updates reach the
// browser by Server-Sent Events, fed by one subscription per Console,
// whatever the number of viewers. With a token,
// operators force breakers open or closed, disable or reset them; each
// action is recorded in the breaker's log with the name the operator gives.
//
// Usage:
//
//	c, err := console.New(store, console.Config{Token: os.Getenv("CONSOLE_TOKEN")})
//	mux.Handle("/console/", http.StripPrefix("/console", c))
//	defer c.Close(ctx) // ends the live streams (before http.Server.Shutdown)
//
// The page, its script and style are embedded: it needs no network access
// beyond the service that mounts it.
package console
