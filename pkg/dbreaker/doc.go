// Package dbreaker is a circuit breaker whose state is shared by every
// replica of a service.
//
// Counters and state transitions live in a Store. RedisStore keeps them in
// Redis and changes them only inside Lua scripts, using Redis' own clock, so
// when the configured number of calls has failed in total across all
// replicas, every replica stops calling and only one probes for recovery.
// MemoryStore implements the same contract in process: the embedded default
// when no Redis is configured, and the engine of a replica's local breaker
// while Redis is down.
//
// Usage:
//
//	store, _ := dbreaker.NewRedisStore(redisClient) // options with ContextTimeoutEnabled: true
//	b, _ := dbreaker.New("openai", store, dbreaker.Config{}, dbreaker.WithLogger(logger))
//	answer, err := dbreaker.Execute(ctx, b, func(ctx context.Context) (string, error) {
//		return callOpenAI(ctx, prompt)
//	})
//	if errors.Is(err, dbreaker.ErrOpen) { /* serve the fallback */ }
//
// Do runs a function without a result; Execute one with a result; Allow and
// Permit.Done are the two-step form, for wrapping an http.RoundTripper. A
// Config's zero value is the default policy (5 consecutive failures trip
// it, 60 s open, one probe); options give the collaborators: WithClock,
// WithLogger, WithObserver. Invalid configuration is a *config.Error.
//
// # States and rejections
//
// closed → (a trip policy is met) → open → (OpenTimeout passes) →
// half_open → (SuccessThreshold probes succeed) → closed, or (a probe
// fails) → open again. The trip policies are FailureThreshold consecutive
// failures, a FailureRate or a SlowCallRate over a sliding Window; the
// open timeout may grow on repeated trips (OpenTimeoutGrowth). Half-open
// admits HalfOpenMaxProbes probes cluster-wide, each holding a lease
// (ProbeLease) so that a replica that dies mid-probe cannot wedge the
// breaker. Config.Classify decides which errors are failures (by default
// every error but context.Canceled).
//
// A refused call returns a *RejectedError that matches the sentinel of its
// reason: ErrOpen, ErrForcedOpen, ErrTooManyProbes or ErrStoreUnavailable,
// and no other but ErrOpen for a forced-open rejection (a breaker forced
// open is open). IsRejected tells any of them, and package retry never
// retries one.
//
// # Modes
//
// Strict (the default) asks the store to admit every call and reports
// every outcome before Done returns: exact thresholds, no call admitted
// after the trip is committed, two round trips per call. Fast admits
// closed-state calls from the replica's view of the shared state (kept
// fresh by script replies and the store's events) and reports outcomes in
// batches every few milliseconds: about zero round trips per call, at the
// price of an overshoot after a trip that is bounded in calls (a replica
// stops admitting once it holds FailureThreshold consecutive failures that
// the store has not seen, so at most that many plus the calls already in
// flight fail on each replica). In both modes a replica that knows the breaker is open
// rejects locally, without a round trip, until the open period ends; probes
// always ask the store.
//
// # Group commit
//
// In Strict mode a RedisStore batches like a database's group commit: per
// replica and breaker, one acquire script and one report script are in
// flight at a time; callers that arrive meanwhile join the next batch, which
// one script run decides as soon as the previous one returns. A lone caller
// waits for nothing.
//
// # The data model
//
// All keys of a breaker share the hash tag of its name, so the scripts work
// on Redis Cluster, and read as plain hashes with redis-cli:
//
//	dbreaker:{openai}          HASH  state inc gen failures successes trips opened_at_ms open_until_ms forced last_error updated_at_ms
//	dbreaker:{openai}:window   HASH  sliding-window buckets (calls, failures, slow calls)
//	dbreaker:{openai}:probes   ZSET  probe token → lease end (ms)
//	channel dbreaker:events    every transition, as JSON
//
// gen increases at every transition and inc (the incarnation) changes when
// the hash is lost and written anew (a flush, an eviction, a failover);
// every permit carries both, and a report from an older generation or
// another incarnation is stale and changes nothing. Time inside the
// scripts is Redis' TIME, never a replica's, so clock skew cannot matter.
// WithKeyPrefix changes "dbreaker"; MinimumACL lists what a Redis user
// needs.
//
// # When the store fails
//
// Each store call is bounded by Config.StoreTimeout, which the store
// enforces itself (NewRedisStore refuses a client without
// ContextTimeoutEnabled). A caller's own cancelled context is never a store
// error; a timeout, a lost connection and every error Redis answers with
// (OOM, READONLY, LOADING, MASTERDOWN, BUSY, a script error) are. After
// repeated failures or a failed health check the store degrades: its calls
// fail at once without I/O, RedisStore.Degraded is true, and each breaker
// follows Config.OnStoreFailure: FallbackLocal (the default) decides with a
// local in-memory breaker of the same policy, FailOpen admits every call,
// FailClosed rejects every call with ErrStoreUnavailable. The first health
// check that passes (every WithHealthCheckInterval) ends it. State in Redis
// is soft: lost state means closed, in a new incarnation.
//
// # Overrides
//
// ForceOpen, ForceClosed, Disable and Reset store an operator's decision in
// the shared state, so every replica obeys it: forced open rejects every
// call (ErrForcedOpen), forced closed admits every call and never trips,
// disabled passes every call through without recording it, and Reset
// clears every counter, lease and override. Every replica learns of them at
// once from the events, confirmed with a snapshot.
//
// # Observability
//
// An Observer (WithObserver; package metrics implements one) is told of
// every call's result, transition, stale report and store error, outside
// every lock. A transition of the breaker's own reaches the observers of
// the replica that made it; an operator's override reaches those of every
// replica (Transition.Operator), so that each replica's count of
// overrides is the fleet's. Logs start with "[CIRCUIT_BREAKER]"; the last_error kept in
// Redis has its URLs' queries and user info removed (package redact).
// Breaker.View reads what the replica knows without a store call;
// Breaker.State asks the store.
package dbreaker
