package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
	"github.com/healthagent/resilience/pkg/retry"
)

// Nutrition facts: the lookup chain USDA → cache → web search → estimate.
// Every answer says where it came from and whether it is degraded.

// Sources of an answer, as the API reports them.
const (
	sourceUSDA     = "usda"
	sourceCache    = "local_cache"
	sourceWeb      = "web"
	sourceEstimate = "estimate"
)

// factsAnswer is what the bot knows of one food.
type factsAnswer struct {
	Description string
	Per100g     sr24.Nutrients
	Source      string
	Degraded    bool
}

// factsLookup runs the nutrition chain.
type factsLookup struct {
	s     *service
	web   *webClient
	cache func(ctx context.Context, name string) (factsAnswer, error)
	store string // where the cache step reads: "postgres" or "memory"
}

func (s *service) newFactsLookup(_ context.Context, hc *http.Client) (*factsLookup, error) {
	f := &factsLookup{s: s, web: &webClient{base: s.cfg.WebSearchURL, hc: hc}, store: "memory"}
	f.cache = func(_ context.Context, name string) (factsAnswer, error) {
		m, err := s.data.Lookup(name)
		if err != nil {
			return factsAnswer{}, err
		}
		return factsAnswer{Description: m.Food.Description, Per100g: m.Food.Per100g, Source: sourceCache}, nil
	}
	return f, nil
}

func (f *factsLookup) storeName() string { return f.store }

// lookup runs the chain for one food.
func (f *factsLookup) lookup(ctx context.Context, name string) (factsAnswer, error) {
	steps := []chain.Step[factsAnswer]{
		{Name: sourceCache, Degraded: true, Timeout: 500 * time.Millisecond, Fn: func(ctx context.Context) (factsAnswer, error) { return f.cache(ctx, name) }},
		chain.GuardedStep(f.s.guards["web"], func(ctx context.Context) (factsAnswer, error) { return f.web.search(ctx, name) }),
		{Name: sourceEstimate, Degraded: true, Fn: func(context.Context) (factsAnswer, error) { return estimate(), nil }},
	}
	c, err := chain.New("nutrition", steps, f.s.chainOptions...)
	if err != nil {
		return factsAnswer{}, err
	}
	res, err := c.Run(ctx)
	if err != nil {
		return factsAnswer{}, err
	}
	res.Value.Degraded = res.Degraded
	return res.Value, nil
}

// estimate is the last resort: an average dish's nutrients per 100 g,
// flagged as an estimate, so the bot always answers something honest.
func estimate() factsAnswer {
	return factsAnswer{Description: "estimate for an average mixed dish", Source: sourceEstimate, Degraded: true,
		Per100g: sr24.Nutrients{EnergyKcal: 150, ProteinG: 7, CarbohydrateG: 15, FatG: 7}}
}

// webClient reads the web nutrition search:
// GET {base}?q=… → {"results":[{"name","kcal_per_100g","protein_g","carbohydrate_g","fat_g"}]}.
type webClient struct {
	base string
	hc   *http.Client
}

func (w *webClient) search(ctx context.Context, name string) (factsAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+"?q="+url.QueryEscape(name), nil)
	if err != nil {
		return factsAnswer{}, err
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		return factsAnswer{}, err
	}
	defer resp.Body.Close()
	if herr := retry.FromResponse(resp); herr != nil {
		return factsAnswer{}, fmt.Errorf("web search: %w", herr)
	}
	var body struct {
		Results []struct {
			Name          string  `json:"name"`
			KcalPer100g   float64 `json:"kcal_per_100g"`
			ProteinG      float64 `json:"protein_g"`
			CarbohydrateG float64 `json:"carbohydrate_g"`
			FatG          float64 `json:"fat_g"`
		} `json:"results"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return factsAnswer{}, fmt.Errorf("web search: decode: %w", err)
	}
	if len(body.Results) == 0 || !(body.Results[0].KcalPer100g > 0) {
		return factsAnswer{}, fmt.Errorf("web search: nothing found for %q", name)
	}
	r := body.Results[0]
	return factsAnswer{Description: r.Name, Source: sourceWeb, Per100g: sr24.Nutrients{
		EnergyKcal: r.KcalPer100g, ProteinG: r.ProteinG, CarbohydrateG: r.CarbohydrateG, FatG: r.FatG,
	}}, nil
}
