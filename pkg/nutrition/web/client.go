package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/internal/text"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
	"github.com/healthagent/resilience/pkg/retry"
)

// Config says where the search is. BaseURL is required.
type Config struct {
	// BaseURL is the search's address, an http or https URL without query.
	BaseURL string
}

// Option gives a Client a collaborator.
type Option func(*options) error

type options struct {
	httpClient *http.Client

	given []string // the names of the options given, in order
}

// WithHTTPClient sets the client that sends the requests (default
// http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error { return config.Set("web", &o.given, "WithHTTPClient", &o.httpClient, hc) }
}

// Client reads a web nutrition search that answers
// GET {base}?q=… with {"results":[{"name","kcal_per_100g","protein_g",
// "carbohydrate_g","fat_g","source_url"}]}. Safe for concurrent use.
type Client struct {
	base string
	hc   *http.Client
}

// New returns a client of the search at cfg.BaseURL. It takes
// WithHTTPClient. Errors are *config.Error naming the field.
func New(cfg Config, opts ...Option) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, invalid("BaseURL", text.Short(cfg.BaseURL), "want an http or https URL without query")
	}
	o := options{httpClient: http.DefaultClient}
	if err := config.ApplyOptions("web", "New", &o, &o.given, opts, "WithHTTPClient"); err != nil {
		return nil, err
	}
	return &Client{base: cfg.BaseURL, hc: o.httpClient}, nil
}

// invalid returns the *config.Error of this package for field.
func invalid(field string, value any, reason string) error {
	return &config.Error{Package: "web", Field: field, Value: value, Reason: reason}
}

// Search returns the search's first result for name, as a Result of
// nutrition.SourceWeb (fiber and sodium unknown). No result wraps
// nutrition.ErrNotFound; an answer outside 2xx is a *retry.HTTPError; a
// body that is not a search answer is an error that says so, whose
// BadResponse method reports true (package chain labels it
// "bad_response").
func (c *Client) Search(ctx context.Context, name string) (nutrition.Result, error) {
	if strings.TrimSpace(name) == "" || len(name) > sr24.MaxNameBytes {
		return nutrition.Result{}, invalid("name", text.Short(name), fmt.Sprintf("want a food name of 1 to %d bytes", sr24.MaxNameBytes))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"?q="+url.QueryEscape(name), nil)
	if err != nil {
		return nutrition.Result{}, fmt.Errorf("web: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nutrition.Result{}, fmt.Errorf("web: %w", err)
	}
	defer resp.Body.Close()
	if err := retry.FromResponse(resp); err != nil {
		return nutrition.Result{}, fmt.Errorf("web: %w", err)
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
	// The body is read whole first: a connection cut short is a connection
	// error (io.ErrUnexpectedEOF, retried), a complete body that is not a
	// search answer a bad response.
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nutrition.Result{}, fmt.Errorf("web: read search response: %w", err)
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nutrition.Result{}, &badBodyError{err: err}
	}
	for _, r := range body.Results {
		if r.KcalPer100g == nil || !(*r.KcalPer100g >= 0) || r.Name == "" {
			continue
		}
		return nutrition.Result{Query: name, Source: nutrition.SourceWeb, ID: r.SourceURL, Description: r.Name,
			Per100g: sr24.Nutrients{EnergyKcal: *r.KcalPer100g, ProteinG: r.ProteinG, CarbohydrateG: r.CarbohydrateG, FatG: r.FatG},
			Unknown: sr24.NutrientSet(0).With(sr24.Fiber).With(sr24.Sodium)}, nil
	}
	return nutrition.Result{}, nutrition.NotFound(name, "the web search found nothing")
}

// maxBody bounds the body of a search answer read; a longer one is cut
// and so not valid JSON.
const maxBody = 1 << 20

// badBodyError is a 2xx answer whose body is not a search answer.
type badBodyError struct{ err error }

func (e *badBodyError) Error() string { return "web: decode search response: " + e.err.Error() }

func (e *badBodyError) Unwrap() error { return e.err }

// BadResponse reports true: the search answered with a success status but
// not with what was asked for (see chain.BadResponse).
func (e *badBodyError) BadResponse() bool { return true }
