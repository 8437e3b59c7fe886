package fakeupstream

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/healthagent/resilience/pkg/nutrition/sr24"
)

// usdaSignupURL ends the API key errors of api.data.gov, as USDA's do.
const usdaSignupURL = "https://api.nal.usda.gov:443"

// usdaNutrient is how FoodData Central describes one nutrient.
type usdaNutrient struct {
	nutrient sr24.Nutrient
	id       int
	number   string
	name     string
	unit     string // as in food details; search results use upper case
	rank     int
}

// usdaNutrients are the nutrients the server reports, in FoodData
// Central's order of rank.
var usdaNutrients = [...]usdaNutrient{
	{sr24.Energy, 1008, "208", "Energy", "kcal", 300},
	{sr24.Protein, 1003, "203", "Protein", "g", 600},
	{sr24.Fat, 1004, "204", "Total lipid (fat)", "g", 800},
	{sr24.Carbohydrate, 1005, "205", "Carbohydrate, by difference", "g", 1110},
	{sr24.Fiber, 1079, "291", "Fiber, total dietary", "g", 1200},
	{sr24.Sodium, 1093, "307", "Sodium, Na", "mg", 5800},
}

// nutrientValue returns the amount of nutrient n in nutrients.
func nutrientValue(nutrients sr24.Nutrients, n sr24.Nutrient) float64 {
	switch n {
	case sr24.Energy:
		return nutrients.EnergyKcal
	case sr24.Protein:
		return nutrients.ProteinG
	case sr24.Carbohydrate:
		return nutrients.CarbohydrateG
	case sr24.Fat:
		return nutrients.FatG
	case sr24.Fiber:
		return nutrients.FiberG
	case sr24.Sodium:
		return nutrients.SodiumMg
	}
	return 0
}

// fdcID is the FoodData Central id the server gives a food: its NDB number
// as an integer ("05064" → 5064).
func fdcID(f sr24.Food) int {
	id, _ := strconv.Atoi(f.NDB)
	return id
}

type usdaSearchNutrient struct {
	NutrientID     int     `json:"nutrientId"`
	NutrientName   string  `json:"nutrientName"`
	NutrientNumber string  `json:"nutrientNumber"`
	UnitName       string  `json:"unitName"`
	Value          float64 `json:"value"`
	Rank           int     `json:"rank"`
	IndentLevel    int     `json:"indentLevel"`
}

type usdaSearchFood struct {
	FdcID         int                  `json:"fdcId"`
	Description   string               `json:"description"`
	DataType      string               `json:"dataType"`
	NdbNumber     int                  `json:"ndbNumber"`
	PublishedDate string               `json:"publishedDate"`
	Score         float64              `json:"score"`
	FoodNutrients []usdaSearchNutrient `json:"foodNutrients"`
}

type usdaSearchResult struct {
	TotalHits          int              `json:"totalHits"`
	CurrentPage        int              `json:"currentPage"`
	TotalPages         int              `json:"totalPages"`
	PageList           []int            `json:"pageList"`
	FoodSearchCriteria usdaCriteria     `json:"foodSearchCriteria"`
	Foods              []usdaSearchFood `json:"foods"`
}

type usdaCriteria struct {
	Query                  string   `json:"query"`
	GeneralSearchInput     string   `json:"generalSearchInput"`
	DataType               []string `json:"dataType,omitempty"`
	PageNumber             int      `json:"pageNumber"`
	NumberOfResultsPerPage int      `json:"numberOfResultsPerPage"`
	PageSize               int      `json:"pageSize"`
	RequireAllWords        bool     `json:"requireAllWords"`
}

// foodsSearch answers GET /fdc/v1/foods/search.
func (s *Server) foodsSearch(r *http.Request, c *call) reply {
	if rep, ok := s.checkUSDAKey(r, c); !ok {
		return rep
	}
	q := r.URL.Query()
	query := strings.TrimSpace(q.Get("query"))
	if query == "" {
		return usdaError(http.StatusBadRequest, "query: a search term is required", r, c)
	}
	pageSize, err := intParam(q.Get("pageSize"), 50, 1, searchLimit)
	if err != nil {
		return usdaError(http.StatusBadRequest, "pageSize: "+err.Error(), r, c)
	}
	pageNumber, err := intParam(q.Get("pageNumber"), 1, 1, 1<<20)
	if err != nil {
		return usdaError(http.StatusBadRequest, "pageNumber: "+err.Error(), r, c)
	}
	var dataTypes []string
	srLegacy := true
	if dt := q.Get("dataType"); dt != "" {
		srLegacy = false
		for t := range strings.SplitSeq(dt, ",") {
			t = strings.TrimSpace(t)
			dataTypes = append(dataTypes, t)
			srLegacy = srLegacy || t == "SR Legacy"
		}
	}
	requireAll := false
	switch ra := strings.ToLower(q.Get("requireAllWords")); ra {
	case "", "false":
	case "true":
		requireAll = true
	default:
		return usdaError(http.StatusBadRequest, fmt.Sprintf("requireAllWords: %q is not true or false", ra), r, c)
	}
	var found []sr24.Match
	if srLegacy {
		found = s.searches.search(query)
		if requireAll {
			found = withAllWords(found, query)
		}
	}
	out := usdaSearchResult{
		TotalHits:   len(found),
		CurrentPage: pageNumber,
		TotalPages:  (len(found) + pageSize - 1) / pageSize,
		FoodSearchCriteria: usdaCriteria{
			Query: query, GeneralSearchInput: query, DataType: dataTypes,
			PageNumber: pageNumber, NumberOfResultsPerPage: 50, PageSize: pageSize, RequireAllWords: requireAll,
		},
		Foods: []usdaSearchFood{},
	}
	for p := max(1, pageNumber-5); p <= out.TotalPages && len(out.PageList) < 10; p++ {
		out.PageList = append(out.PageList, p)
	}
	if start := (pageNumber - 1) * pageSize; start < len(found) {
		for _, m := range found[start:min(start+pageSize, len(found))] {
			out.Foods = append(out.Foods, usdaSearchItem(m))
		}
	}
	return jsonReply(http.StatusOK, out, nil)
}

// withAllWords keeps the foods whose description holds every word of the
// query, as FoodData Central's requireAllWords does (words compared once
// normalised, so "eggs" finds "Egg, whole").
func withAllWords(found []sr24.Match, query string) []sr24.Match {
	words := strings.Fields(sr24.Normalize(query))
	var out []sr24.Match
	for _, m := range found {
		desc := " " + sr24.Normalize(m.Food.Description) + " "
		all := true
		for _, w := range words {
			all = all && strings.Contains(desc, " "+w+" ")
		}
		if all {
			out = append(out, m)
		}
	}
	return out
}

func usdaSearchItem(m sr24.Match) usdaSearchFood {
	id := fdcID(m.Food)
	item := usdaSearchFood{
		FdcID:         id,
		Description:   m.Food.Description,
		DataType:      "SR Legacy",
		NdbNumber:     id,
		PublishedDate: "2019-04-01",
		Score:         float64(int(m.Score*10000+0.5)) / 100,
	}
	for _, n := range usdaNutrients {
		if m.Food.Unknown.Has(n.nutrient) {
			continue
		}
		item.FoodNutrients = append(item.FoodNutrients, usdaSearchNutrient{
			NutrientID: n.id, NutrientName: n.name, NutrientNumber: n.number,
			UnitName: strings.ToUpper(n.unit), Value: nutrientValue(m.Food.Per100g, n.nutrient),
			Rank: n.rank, IndentLevel: 1,
		})
	}
	return item
}

type usdaFoodNutrient struct {
	Type     string `json:"type"`
	ID       int    `json:"id"`
	Nutrient struct {
		ID       int    `json:"id"`
		Number   string `json:"number"`
		Name     string `json:"name"`
		Rank     int    `json:"rank"`
		UnitName string `json:"unitName"`
	} `json:"nutrient"`
	Amount float64 `json:"amount"`
}

type usdaAbridgedNutrient struct {
	Number   string  `json:"number"`
	Name     string  `json:"name"`
	Amount   float64 `json:"amount"`
	UnitName string  `json:"unitName"`
}

type usdaPortion struct {
	ID                 int     `json:"id"`
	Amount             float64 `json:"amount"`
	Modifier           string  `json:"modifier"`
	PortionDescription string  `json:"portionDescription"`
	GramWeight         float64 `json:"gramWeight"`
	SequenceNumber     int     `json:"sequenceNumber"`
	MeasureUnit        struct {
		ID           int    `json:"id"`
		Name         string `json:"name"`
		Abbreviation string `json:"abbreviation"`
	} `json:"measureUnit"`
}

type usdaFood struct {
	FdcID                 int           `json:"fdcId"`
	Description           string        `json:"description"`
	DataType              string        `json:"dataType"`
	NdbNumber             int           `json:"ndbNumber"`
	PublicationDate       string        `json:"publicationDate"`
	FoodClass             string        `json:"foodClass,omitempty"`
	IsHistoricalReference bool          `json:"isHistoricalReference,omitempty"`
	FoodNutrients         any           `json:"foodNutrients"`
	FoodPortions          []usdaPortion `json:"foodPortions,omitempty"`
}

// food answers GET /fdc/v1/food/{fdcId}, in the full format or, with
// format=abridged, the abridged one; nutrients=203,204 keeps only those.
func (s *Server) food(r *http.Request, c *call) reply {
	if rep, ok := s.checkUSDAKey(r, c); !ok {
		return rep
	}
	q := r.URL.Query()
	id, err := strconv.Atoi(r.PathValue("fdcId"))
	if err != nil {
		return usdaError(http.StatusBadRequest, fmt.Sprintf("fdcId: %q is not an integer", r.PathValue("fdcId")), r, c)
	}
	format := q.Get("format")
	if format != "" && format != "full" && format != "abridged" {
		return usdaError(http.StatusBadRequest, fmt.Sprintf("format: %q is not abridged or full", format), r, c)
	}
	wanted, err := nutrientFilter(q.Get("nutrients"))
	if err != nil {
		return usdaError(http.StatusBadRequest, "nutrients: "+err.Error(), r, c)
	}
	f, ok := sr24.Food{}, false
	if id > 0 && id <= 99999 {
		f, ok = s.data.Food(fmt.Sprintf("%05d", id))
	}
	if !ok {
		return usdaError(http.StatusNotFound, fmt.Sprintf("No food with fdcId %d", id), r, c)
	}
	out := usdaFood{
		FdcID:           id,
		Description:     f.Description,
		DataType:        "SR Legacy",
		NdbNumber:       id,
		PublicationDate: "4/1/2019",
	}
	var full []usdaFoodNutrient
	var abridged []usdaAbridgedNutrient
	for k, n := range usdaNutrients {
		if f.Unknown.Has(n.nutrient) || (wanted != nil && !wanted[n.number]) {
			continue
		}
		value := nutrientValue(f.Per100g, n.nutrient)
		if format == "abridged" {
			abridged = append(abridged, usdaAbridgedNutrient{Number: n.number, Name: n.name, Amount: value, UnitName: strings.ToUpper(n.unit)})
			continue
		}
		fn := usdaFoodNutrient{Type: "FoodNutrient", ID: id*10 + k, Amount: value}
		fn.Nutrient.ID, fn.Nutrient.Number, fn.Nutrient.Name = n.id, n.number, n.name
		fn.Nutrient.Rank, fn.Nutrient.UnitName = n.rank, n.unit
		full = append(full, fn)
	}
	if format == "abridged" {
		out.FoodNutrients = orEmpty(abridged)
		return jsonReply(http.StatusOK, out, nil)
	}
	out.FoodClass, out.IsHistoricalReference = "FinalFood", true
	out.FoodNutrients = orEmpty(full)
	for i, p := range f.Portions {
		out.FoodPortions = append(out.FoodPortions, usdaPortionOf(id, i, p))
	}
	return jsonReply(http.StatusOK, out, nil)
}

// usdaPortionOf splits an SR24 portion ("0.5 breast, bone and skin
// removed") into FoodData Central's amount and modifier.
func usdaPortionOf(id, i int, p sr24.Portion) usdaPortion {
	amount, modifier := 1.0, p.Description
	if head, rest, ok := strings.Cut(p.Description, " "); ok {
		if v, err := strconv.ParseFloat(head, 64); err == nil {
			amount, modifier = v, rest
		}
	}
	out := usdaPortion{ID: id*100 + i, Amount: amount, Modifier: modifier, PortionDescription: p.Description, GramWeight: p.Grams, SequenceNumber: i + 1}
	out.MeasureUnit.ID, out.MeasureUnit.Name, out.MeasureUnit.Abbreviation = 9999, "undetermined", "undetermined"
	return out
}

// nutrientFilter parses nutrients=203,204 into a set of nutrient numbers;
// nil means all.
func nutrientFilter(list string) (map[string]bool, error) {
	if list == "" {
		return nil, nil
	}
	out := make(map[string]bool)
	for n := range strings.SplitSeq(list, ",") {
		n = strings.TrimSpace(n)
		if _, err := strconv.Atoi(n); err != nil {
			return nil, fmt.Errorf("%q is not a nutrient number such as 208", n)
		}
		out[n] = true
	}
	return out, nil
}

// orEmpty makes a nil slice marshal as [].
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// intParam parses an optional integer query parameter.
func intParam(text string, usual, lo, hi int) (int, error) {
	if text == "" {
		return usual, nil
	}
	v, err := strconv.Atoi(text)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("%q is not an integer from %d to %d", text, lo, hi)
	}
	return v, nil
}

// checkUSDAKey answers api.data.gov's 403 when a key is configured and the
// request does not carry it.
func (s *Server) checkUSDAKey(r *http.Request, c *call) (reply, bool) {
	if s.keys.USDAKey == "" {
		return reply{}, true
	}
	key := r.URL.Query().Get("api_key")
	if key == "" {
		key = r.Header.Get("X-Api-Key")
	}
	if key == "" {
		return usdaGatewayError(http.StatusForbidden, "API_KEY_MISSING", "No api_key was supplied. Get one at "+usdaSignupURL, nil), false
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(s.keys.USDAKey)) != 1 {
		return usdaInvalidKey(), false
	}
	return reply{}, true
}

func usdaInvalidKey() reply {
	return usdaGatewayError(http.StatusForbidden, "API_KEY_INVALID", "An invalid api_key was supplied. Get one at "+usdaSignupURL, nil)
}

// usdaGatewayError is an error of api.data.gov, the gateway in front of
// FoodData Central: {"error":{"code":…,"message":…}}.
func usdaGatewayError(status int, code, message string, header http.Header) reply {
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	return jsonReply(status, map[string]detail{"error": {code, message}}, header)
}

// usdaError is FoodData Central's error with status: the gateway's body
// for 403 and 429, the API's own ({"timestamp","status","error","message",
// "path"}) otherwise. An empty message is the status text.
func usdaError(status int, message string, r *http.Request, c *call) reply {
	switch status {
	case http.StatusForbidden:
		return usdaInvalidKey()
	case http.StatusTooManyRequests:
		return usdaGatewayError(status, "OVER_RATE_LIMIT",
			"You have exceeded your rate limit. Try again later or contact us at "+usdaSignupURL+"/contact/ for assistance",
			http.Header{"X-Ratelimit-Limit": {"1000"}, "X-Ratelimit-Remaining": {"0"}})
	}
	if message == "" {
		message = http.StatusText(status)
	}
	body := struct {
		Timestamp string `json:"timestamp"`
		Status    int    `json:"status"`
		Error     string `json:"error"`
		Message   string `json:"message"`
		Path      string `json:"path"`
	}{c.now.UTC().Format("2006-01-02T15:04:05.000-07:00"), status, http.StatusText(status), message, r.URL.Path}
	return jsonReply(status, body, nil)
}
