// Package metrics exports what the breakers, Guards and fallback chains do as
// Prometheus metrics. Every constructor takes a prometheus.Registerer:
// nothing is registered in init and the global registry is never touched.
//
// Usage:
//
//	reg := prometheus.NewRegistry()
//	m, _ := metrics.New(reg)
//	b, _ := dbreaker.New("openai", store, dbreaker.Config{}, dbreaker.WithObserver(m.Breakers))
//	_ = m.Breakers.Track(b) // circuit_breaker_state, read from the shared store at scrape time
//	g, _ := chain.NewGuard(chain.GuardConfig{Name: "openai", Breaker: b, AttemptTimeout: 20 * time.Second, Recorder: m.APIs})
//	_ = m.APIs.Track("openai") // every api_* series of openai, at zero
//	text, _ := chain.New("text", steps, chain.WithObserver(m.Fallbacks))
//	_ = m.Fallbacks.Track("anthropic", "openai", "cached_answer") // the chain's fallback series, at zero
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The metrics:
//
//	circuit_breaker_state{breaker,state}             gauge: 1 for the current state, 0 for the others
//	circuit_breaker_transitions_total{breaker,from,to}
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
// store_unavailable). fallback_executions_total counts, with status
// success, each answer a fallback step served, and with status failure,
// each fallback step that failed too.
//
// circuit_breaker_state is read from each tracked breaker's shared state at
// scrape time, because other replicas commit transitions too: every replica
// reports the state all of them share. When the read fails, the last state
// known is reported.
package metrics
