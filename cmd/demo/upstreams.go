package main

import (
	"net/http"
	"time"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/nutrition"
)

// upstream is one service the bot calls. Each gets one breaker and one
// Guard (retry → breaker → attempt timeout) built from its entry in
// upstreams, its api_* series at zero, and a place in the chains its fields
// name: adding an upstream is one entry (and its client).
type upstream struct {
	// name names its breaker, its Guard and its metrics ("api" label).
	name string
	// attemptTimeout bounds one call to it; its breaker's probe lease
	// outlasts it.
	attemptTimeout time.Duration
	// retries: a failed call is retried as API_RETRY_MAX and
	// API_RETRY_BASE_DELAY say; without it, one attempt.
	retries bool

	// provider, for a language model: its client of a model, and model the
	// model it answers questions with. The models answer questions in the
	// order of the table (the text chain), read meals as
	// VISION_MODEL_PRIMARY and VISION_MODEL_FALLBACK say (the vision
	// chain), and the first of them estimates nutrients (the nutrition
	// chain's ai_estimate).
	provider func(c config, model string, hc *http.Client) provider
	model    func(c config) string

	// facts, for a source of nutrition facts: its part of the nutrition
	// chain, in the order of the table, every call of it through g, this
	// upstream's Guard.
	facts func(s *service, g *chain.Guard) (factSource, error)
}

// upstreams are the services the bot calls ("postgres" is the nutrition
// cache: its breaker skips it while it is down).
var upstreams = []upstream{
	{name: "anthropic", attemptTimeout: 20 * time.Second, retries: true,
		provider: func(c config, model string, hc *http.Client) provider {
			return newAnthropic(c.AnthropicBaseURL, c.AnthropicKey, model, hc)
		},
		model: func(c config) string { return c.AnthropicModel }},
	{name: "openai", attemptTimeout: 20 * time.Second, retries: true,
		provider: func(c config, model string, hc *http.Client) provider {
			return newOpenAI(c.OpenAIBaseURL, c.OpenAIKey, model, hc)
		},
		model: func(c config) string { return c.OpenAIModel }},
	{name: "usda", attemptTimeout: 5 * time.Second, retries: true, facts: (*service).usdaFacts},
	{name: "postgres", attemptTimeout: nutrition.DefaultCacheTimeout, facts: (*service).cacheFacts},
	{name: "web", attemptTimeout: 5 * time.Second, retries: true, facts: (*service).webFacts},
}

// upstreamNames lists the names of the upstreams, in order.
func upstreamNames() []string {
	names := make([]string, len(upstreams))
	for i, u := range upstreams {
		names[i] = u.name
	}
	return names
}

// models lists the language models, in order.
func models() []upstream {
	var out []upstream
	for _, u := range upstreams {
		if u.provider != nil {
			out = append(out, u)
		}
	}
	return out
}

// modelNames lists the names of the language models, in order.
func modelNames() []string {
	var names []string
	for _, m := range models() {
		names = append(names, m.name)
	}
	return names
}
