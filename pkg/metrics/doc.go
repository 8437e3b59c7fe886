// Package metrics exports what the breakers, Guards and fallback chains do as
// Prometheus metrics. Every constructor takes a prometheus.Registerer:
// nothing is registered in init and the global registry is never touched.
//
// Usage:
//
//	reg := prometheus.NewRegistry()
//	m, _ := metrics.New(reg)
//	b, _ := dbreaker.New("openai", store, dbreaker.Config{}, dbreaker.WithObserver(m.Breakers))
//	_ = m.Breakers.Track(b) // circuit_breaker_state, from the breaker's view at scrape time
//	g, _ := chain.NewGuard("openai", chain.GuardConfig{Breaker: b, AttemptTimeout: 20 * time.Second}, chain.WithObserver(m.APIs))
//	_ = m.APIs.Track("openai") // every api_* series of openai, at zero
//	text, _ := chain.New("text", steps, chain.WithObserver(m.Fallbacks))
//	_ = m.Fallbacks.Track("anthropic", "openai", "cached_answer") // the chain's fallback series, at zero
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The metrics:
//
//	circuit_breaker_state{breaker,state,source}      gauge: 1 for the state applied, 0 for the others
//	circuit_breaker_transitions_total{breaker,from,to,source,cause}
//	circuit_breaker_calls_total{breaker,result}
//	circuit_breaker_stale_reports_total{breaker}     outcomes the store discarded as stale
//	circuit_breaker_store_errors_total{op}
//	circuit_breaker_store_degraded                   gauge: 1 while the store is bypassed
//	api_calls_total{api,status}
//	api_call_duration_seconds{api}                   histogram
//	api_failures_total{api,error_type}
//	api_retries_total{api}
//	fallback_executions_total{primary_api,fallback_strategy,status}
//
// Track creates the series of known breakers, upstreams and chains at
// zero, so that rate() and increase() see their first increment.
// api_failures_total counts what the breaker counts as a failure (an answer
// such as "no such food" is none, nor is the caller's cancellation), plus
// the attempts the breaker refused (error_type rejected and
// store_unavailable); an answer with a success status that is not what
// was asked for is a failure of error_type bad_response
// (chain.BadResponse). fallback_executions_total counts the steps that ran
// as fallbacks, because a step before them failed: with status success
// each answer one served, with failure each that failed too, with
// not_found each that had nothing for the request (chain.WithNotFound). A
// step that ran only because the steps before it found nothing (a food
// USDA does not know) is no fallback and counts nowhere.
//
// circuit_breaker_state is the state each replica applies, read from the
// breaker's view (Breaker.View) at scrape time: a scrape never calls the
// store. With source="shared" it is the state all replicas share, as this
// replica last learned it (from store replies and events, operator
// overrides included); with source="local" the store is unavailable and
// the replica's local breaker decides. A breaker that has learned nothing
// yet has no series: learn its state at start-up (Breaker.State). The
// transitions carry the same source (local trips while the store is down,
// shared transitions otherwise) and a cause: policy for the breaker's own
// transitions, counted only by the replica that made each (sum the
// replicas), operator for an override, counted once by every replica that
// applies it, whoever made it (take the max over the replicas).
package metrics
