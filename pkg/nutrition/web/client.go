package nutrition

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
	"github.com/healthagent/resilience/pkg/retry"
)

// WebClient reads a web nutrition search that answers
// GET {base}?q=… with {"results":[{"name","kcal_per_100g","protein_g",
// "carbohydrate_g","fat_g","source_url"}]}. Safe for concurrent use.
type WebClient struct {
	base string
	hc   *http.Client
}

// NewWebClient returns a client of the search at base (an http or https
// URL without query); hc nil means http.DefaultClient.
func NewWebClient(base string, hc *http.Client) (*WebClient, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, &ConfigError{Field: "base", Value: quoteShort(base), Reason: "want an http or https URL without query"}
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &WebClient{base: base, hc: hc}, nil
}

// Search returns the search's first result for name, as a Result of
// SourceWeb (fiber and sodium unknown). No result wraps ErrNotFound; an
// answer outside 2xx is a *retry.HTTPError; a body that is not a search
// answer is an error that says so.
func (c *WebClient) Search(ctx context.Context, name string) (Result, error) {
	if strings.TrimSpace(name) == "" || len(name) > sr24.MaxNameBytes {
		return Result{}, &ConfigError{Field: "name", Value: quoteShort(name), Reason: fmt.Sprintf("want a food name of 1 to %d bytes", sr24.MaxNameBytes)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"?q="+url.QueryEscape(name), nil)
	if err != nil {
		return Result{}, fmt.Errorf("nutrition: web: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("nutrition: web: %w", err)
	}
	defer resp.Body.Close()
	if err := retry.FromResponse(resp); err != nil {
		return Result{}, fmt.Errorf("nutrition: web: %w", err)
	}
	var body struct {
		Results []struct {
			Name          string   `json:"name"`
			KcalPer100g   *float64 `json:"kcal_per_100g"`
			ProteinG      float64  `json:"protein_g"`
			CarbohydrateG float64  `json:"carbohydrate_g"`
			FatG          float64  `json:"fat_g"`
			SourceURL     string   `json:"source_url"`
		} `json:"results"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return Result{}, fmt.Errorf("nutrition: web: decode search response: %w", err)
	}
	for _, r := range body.Results {
		if r.KcalPer100g == nil || !(*r.KcalPer100g >= 0) || r.Name == "" {
			continue
		}
		return Result{Query: name, Source: SourceWeb, ID: r.SourceURL, Description: r.Name,
			Per100g: sr24.Nutrients{EnergyKcal: *r.KcalPer100g, ProteinG: r.ProteinG, CarbohydrateG: r.CarbohydrateG, FatG: r.FatG},
			Unknown: sr24.NutrientSet(0).With(sr24.Fiber).With(sr24.Sodium)}, nil
	}
	return Result{}, notFound(name, "the web search found nothing")
}
