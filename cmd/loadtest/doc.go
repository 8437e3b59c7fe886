// Command loadtest runs many replicas of a nutrition-lookup service under
// load and faults, and reports what the circuit breaker did: a table on
// standard output, and optionally a JSON document and a timeline plot.
//
// Usage:
//
//	go run ./cmd/loadtest -scenario outage -compare -json out.json -plot out.svg
//
// Each replica answers a request the way the health-agent bot looks up
// nutrition: the primary step searches the (fake) USDA FoodData Central
// through a chain.Guard — retry → breaker → per-attempt timeout → HTTP GET —
// and the fallback step answers from an in-memory cache, flagged degraded.
// Virtual users send requests to their replica, wait for the answer, pause
// for a think time and start again. The fake upstream (package
// fakeupstream) runs in process on a loopback port; the tool changes its
// faults on a timeline:
//
//	steady         healthy throughout
//	flaky          a share of requests fail (-error-rate) during the fault window
//	outage         every request fails during the fault window, then recovery
//	slow           every request is slow (-slow-latency) during the fault window
//	redis-down     healthy upstream; the tool's own redis-server is killed and restarted
//	replica-crash  an outage; after recovery, the replica that holds the half-open
//	               probe dies before reporting it (SIGKILL with -procs)
//
// Breaker modes (-breaker, or -compare for all in turn): none (no breaker),
// local (an in-memory breaker per replica), strict and fast (the shared
// breaker of package dbreaker in Redis, in its two consistency modes).
// Every run uses a key prefix of its own in Redis and deletes its keys at
// the end (SCAN and DEL).
//
// With -check the tool exits with status 1 when a criterion is missed;
// bad flags exit with status 2. docs/loadtest.md defines every figure of
// the report and every criterion.
package main
