// Package dbreaker is a circuit breaker whose state is shared by every
// replica of a service.
//
// Counters and state transitions live in a Store. RedisStore keeps them in
// Redis and changes them only inside Lua scripts, using Redis' own clock, so
// when the configured number of calls has failed in total across all
// replicas, every replica stops calling and only one probes for recovery.
// MemoryStore implements the same contract in process: the embedded default
// when no Redis is configured.
//
// Usage:
//
//	store, _ := dbreaker.NewRedisStore(redisClient) // options with ContextTimeoutEnabled: true
//	b, _ := dbreaker.New("openai", store, dbreaker.Config{})
//	answer, err := dbreaker.Execute(ctx, b, func(ctx context.Context) (string, error) {
//		return callOpenAI(ctx, prompt)
//	})
//	if errors.Is(err, dbreaker.ErrOpen) { /* serve the fallback */ }
package dbreaker
