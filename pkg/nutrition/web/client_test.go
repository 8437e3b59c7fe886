package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/retry"
)

func TestNewRefusesABadURL(t *testing.T) {
	for _, base := range []string{"", "search.example", "ftp://search.example", "https://search.example?q=x"} {
		var ce *config.Error
		if _, err := New(Config{BaseURL: base}); !errors.As(err, &ce) || ce.Field != "BaseURL" {
			t.Errorf("New(%q) = %v, want a *config.Error for BaseURL", base, err)
		}
	}
	if _, err := New(Config{BaseURL: "https://search.example"}, WithHTTPClient(nil)); err == nil {
		t.Error("New accepted a nil HTTP client")
	}
}

func TestSearch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("q") {
		case "banana":
			fmt.Fprint(w, `{"results":[{"name":"no energy"},{"name":"Banana","kcal_per_100g":89,"protein_g":1.1,"source_url":"https://x/banana"}]}`)
		case "down":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "garbage":
			fmt.Fprint(w, `{"results":`)
		default:
			fmt.Fprint(w, `{"results":[]}`)
		}
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL}, WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := c.Search(ctx, "banana")
	if err != nil || r.Description != "Banana" || r.Per100g.EnergyKcal != 89 || r.Source != nutrition.SourceWeb || r.ID != "https://x/banana" {
		t.Fatalf("Search(banana) = %+v, %v", r, err)
	}
	if _, err := c.Search(ctx, "qqqq"); !errors.Is(err, nutrition.ErrNotFound) {
		t.Errorf("nothing found: %v, want ErrNotFound", err)
	}
	var he *retry.HTTPError
	if _, err := c.Search(ctx, "down"); !errors.As(err, &he) || he.Code != 503 {
		t.Errorf("a 503: %v, want a *retry.HTTPError", err)
	}
	var br interface{ BadResponse() bool }
	if _, err := c.Search(ctx, "garbage"); err == nil || !errors.As(err, &br) || !br.BadResponse() {
		t.Errorf("a body that is not a search answer: %v, want a bad response (chain.BadResponse)", err)
	}
	var ce *config.Error
	if _, err := c.Search(ctx, " "); !errors.As(err, &ce) {
		t.Errorf("a blank name: %v, want a *config.Error", err)
	}
}
