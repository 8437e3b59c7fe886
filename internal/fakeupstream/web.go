package fakeupstream

import (
	"math"
	"net/http"
	"strings"
)

// webSourceURL is where the web search says its figures come from; the
// host is reserved and never resolves.
const webSourceURL = "https://nutrition-search.invalid/food/"

type webResult struct {
	Name          string  `json:"name"`
	KcalPer100g   float64 `json:"kcal_per_100g"`
	ProteinG      float64 `json:"protein_g"`
	CarbohydrateG float64 `json:"carbohydrate_g"`
	FatG          float64 `json:"fat_g"`
	SourceURL     string  `json:"source_url"`
}

// webSearch answers GET /web/nutrition?q=…&limit=…: up to limit (1 to 25,
// default 5) foods per 100 g, with values rounded as on a US nutrition
// label, so they differ a little from USDA's.
func (s *Server) webSearch(r *http.Request, c *call) reply {
	q := r.URL.Query()
	query := strings.TrimSpace(q.Get("q"))
	if query == "" {
		return webError(http.StatusBadRequest, "q: a search term is required")
	}
	limit, err := intParam(q.Get("limit"), 5, 1, 25)
	if err != nil {
		return webError(http.StatusBadRequest, "limit: "+err.Error())
	}
	found := s.searches.search(query)
	out := struct {
		Query   string      `json:"query"`
		Results []webResult `json:"results"`
	}{Query: query, Results: []webResult{}}
	for _, m := range found[:min(limit, len(found))] {
		n := m.Food.Per100g
		out.Results = append(out.Results, webResult{
			Name:          m.Food.Description,
			KcalPer100g:   labelCalories(n.EnergyKcal),
			ProteinG:      labelGrams(n.ProteinG),
			CarbohydrateG: labelGrams(n.CarbohydrateG),
			FatG:          labelFat(n.FatG),
			SourceURL:     webSourceURL + m.Food.NDB,
		})
	}
	return jsonReply(http.StatusOK, out, nil)
}

// webError is the web search's error: {"error": message}; an empty
// message is the status text.
func webError(status int, message string) reply {
	if message == "" {
		message = http.StatusText(status)
	}
	return jsonReply(status, map[string]string{"error": message}, nil)
}

// labelCalories rounds energy as a US label does: below 5 to 0, up to 50
// to the nearest 5, above to the nearest 10.
func labelCalories(kcal float64) float64 {
	switch {
	case kcal < 5:
		return 0
	case kcal <= 50:
		return math.Round(kcal/5) * 5
	}
	return math.Round(kcal/10) * 10
}

// labelFat rounds fat as a US label does: below 0.5 g to 0, below 5 g to
// the nearest 0.5 g, above to the nearest gram.
func labelFat(g float64) float64 {
	switch {
	case g < 0.5:
		return 0
	case g < 5:
		return math.Round(g*2) / 2
	}
	return math.Round(g)
}

// labelGrams rounds protein and carbohydrate to the nearest gram, below
// 0.5 g to 0.
func labelGrams(g float64) float64 {
	if g < 0.5 {
		return 0
	}
	return math.Round(g)
}
