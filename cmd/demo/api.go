package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/healthagent/resilience/pkg/chain"
	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/metrics"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
	"github.com/healthagent/resilience/pkg/redact"
)

// maxBody bounds request bodies (a photo in base64 included).
const maxBody = 10 << 20

// apiHandler serves the public API. Breaker administration is not here: it
// acts on the shared state with `demo breakers …`, and /metrics is served on
// its own address.
func (s *service) apiHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/meals", s.handleMeal)
	mux.HandleFunc("POST /v1/chat", s.handleChat)
	mux.HandleFunc("GET /v1/breakers", s.handleBreakers)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	return jsonErrors(mux)
}

// jsonErrors answers the mux's own errors (404 for an unknown path, 405
// for a method the path does not take) in JSON like every other error,
// keeping their status and Allow header.
func jsonErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		rec := &statusOnly{header: http.Header{}}
		mux.ServeHTTP(rec, r)
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		switch rec.status {
		case http.StatusMethodNotAllowed:
			writeJSON(w, rec.status, map[string]string{"error": fmt.Sprintf("method %s not allowed on %s; allowed: %s", r.Method, r.URL.Path, rec.header.Get("Allow"))})
		default:
			writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no such path: %s %s", r.Method, r.URL.Path)})
		}
	})
}

// statusOnly records what the mux answers a request it has no handler
// for: its status and headers (the body is replaced).
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.status = code }

// metricsHandler serves /metrics (and the probes, for the metrics port),
// and the breaker console at /console/.
func (s *service) metricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	if s.console != nil {
		mux.Handle("/console/", http.StripPrefix("/console", s.console)) // the mux redirects /console here
	}
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// badRequest answers 400 with a message that says what was wrong.
func badRequest(w http.ResponseWriter, format string, args ...any) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// decodeBody reads one JSON object into v, refusing unknown fields,
// trailing data and oversized bodies.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("body larger than %d bytes", maxBody)
		}
		return fmt.Errorf("body is not the expected JSON: %v", err)
	}
	if dec.More() {
		return errors.New("body has data after the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("body has data after the JSON object")
	}
	return nil
}

// mealRequest is POST /v1/meals' body: a photo (base64, optionally as a
// data: URL) and/or a caption.
type mealRequest struct {
	PhotoBase64 string `json:"photo_base64"`
	MediaType   string `json:"media_type"`
	Caption     string `json:"caption"`
}

// maxCaption and maxMessage bound the texts of a meal and a chat request.
const (
	maxCaption = 2000
	maxMessage = 4000
)

// nutrientsJSON is a food's nutrients in the answer; a nutrient the
// source does not give is null, never 0.
type nutrientsJSON struct {
	EnergyKcal    *float64 `json:"energy_kcal"`
	ProteinG      *float64 `json:"protein_g"`
	CarbohydrateG *float64 `json:"carbohydrate_g"`
	FatG          *float64 `json:"fat_g"`
	FiberG        *float64 `json:"fiber_g"`
	SodiumMg      *float64 `json:"sodium_mg"`
}

// nutrientsOf writes nutrients for the answer, rounded to one decimal,
// with null for those unknown.
func nutrientsOf(n sr24.Nutrients, unknown sr24.NutrientSet) nutrientsJSON {
	v := func(x float64, which sr24.Nutrient) *float64 {
		if unknown.Has(which) {
			return nil
		}
		r := math.Round(x*10) / 10
		return &r
	}
	return nutrientsJSON{
		EnergyKcal: v(n.EnergyKcal, sr24.Energy), ProteinG: v(n.ProteinG, sr24.Protein),
		CarbohydrateG: v(n.CarbohydrateG, sr24.Carbohydrate), FatG: v(n.FatG, sr24.Fat),
		FiberG: v(n.FiberG, sr24.Fiber), SodiumMg: v(n.SodiumMg, sr24.Sodium),
	}
}

// componentAnswer is one food of an item: the item itself, or one food of
// a dish's recipe.
type componentAnswer struct {
	Food      string        `json:"food"`
	Grams     float64       `json:"grams"`
	Nutrients nutrientsJSON `json:"nutrients"`
	// Source says where the figures came from: "usda", "local_cache",
	// "web" or "estimate"; SourceStep the chain's step ("postgres",
	// "embedded"…).
	Source     string `json:"source"`
	SourceStep string `json:"source_step"`
	Degraded   bool   `json:"degraded"`
}

// mealItemAnswer is one food of the answer.
type mealItemAnswer struct {
	// Text is the part of the caption (or the model's listing) the item was
	// read from; Name the food's name in it.
	Text string `json:"text"`
	Name string `json:"name"`
	// Status is "known", "uncertain" (matched, but not surely: say so) or
	// "unknown" (no food known by that name: no figures at all).
	Status string `json:"status"`
	// Food is what the name was taken to be: a USDA description or a dish.
	Food      string         `json:"food,omitempty"`
	Dish      bool           `json:"dish,omitempty"`
	Grams     *float64       `json:"grams"`
	Portion   string         `json:"portion,omitempty"`
	Nutrients *nutrientsJSON `json:"nutrients"`
	// Match says how the name was matched, Confidence how surely (0 to 1).
	Match      string  `json:"match,omitempty"`
	Confidence float64 `json:"confidence"`
	// Source and SourceStep: where the figures came from (for a dish, the
	// least live of its components'); Components: the foods of a dish.
	Source     string            `json:"source,omitempty"`
	SourceStep string            `json:"source_step,omitempty"`
	Degraded   bool              `json:"degraded"`
	Components []componentAnswer `json:"components,omitempty"`
}

// visionAnswer says who read the meal.
type visionAnswer struct {
	ServedBy  string `json:"served_by"`
	Degraded  bool   `json:"degraded"`
	Estimated bool   `json:"estimated"`
	// NoFood: the reader saw all it was given and found no food in it
	// ("hello there"); an answer, not a failure.
	NoFood bool `json:"no_food"`
}

// mealAnswer is what POST /v1/meals returns.
type mealAnswer struct {
	Items []mealItemAnswer `json:"items"`
	// Unknown lists the names of the items no source knows ("the meal in
	// the photo" when no model could read it); Complete is false when
	// there is one, so Totals leave it out, and when the meal has no food
	// at all (Vision.NoFood).
	Unknown  []string      `json:"unknown"`
	Complete bool          `json:"complete"`
	Totals   nutrientsJSON `json:"totals"`
	// TotalsPartial lists the nutrients some known food gives no figure
	// for: their totals count only the foods that do.
	TotalsPartial []string     `json:"totals_partial"`
	Vision        visionAnswer `json:"vision"`
	// Degraded: some part of the answer came from a fallback.
	Degraded bool `json:"degraded"`
	// Simulated: invented by the fake upstreams (UPSTREAMS).
	Simulated bool `json:"simulated"`
}

var mediaTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// readPhoto decodes a request's photo and checks its bytes against its
// media type: the type sniffed from the bytes (http.DetectContentType) must
// be an image type the models take and, when the request names a type
// (media_type, or a data: URL), that one.
func readPhoto(req mealRequest) ([]byte, string, error) {
	data, claimed := req.PhotoBase64, strings.TrimSpace(req.MediaType)
	if rest, ok := strings.CutPrefix(data, "data:"); ok {
		meta, payload, found := strings.Cut(rest, ",")
		mt, isBase64 := strings.CutSuffix(meta, ";base64")
		if !found || !isBase64 || !strings.HasPrefix(mt, "image/") {
			return nil, "", errors.New(`photo_base64 is a data: URL, but not data:image/<type>;base64,<data>`)
		}
		if claimed != "" && claimed != mt {
			return nil, "", fmt.Errorf("photo_base64 says %s, media_type says %s", mt, claimed)
		}
		data, claimed = payload, mt
	}
	photo, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(photo) == 0 {
		return nil, "", errors.New("photo_base64 is not standard base64 (or a data:image/<type>;base64, URL)")
	}
	sniffed := http.DetectContentType(photo)
	if !mediaTypes[sniffed] {
		return nil, "", fmt.Errorf("the photo's bytes are not a JPEG, PNG, GIF or WebP image (they look like %s)", sniffed)
	}
	if claimed != "" && !mediaTypes[claimed] {
		return nil, "", fmt.Errorf("media_type %q: want image/jpeg, image/png, image/gif or image/webp", claimed)
	}
	if claimed != "" && claimed != sniffed {
		return nil, "", fmt.Errorf("media_type says %s, but the photo's bytes are %s", claimed, sniffed)
	}
	return photo, sniffed, nil
}

func (s *service) handleMeal(w http.ResponseWriter, r *http.Request) {
	var req mealRequest
	if err := decodeBody(w, r, &req); err != nil {
		badRequest(w, "%v", err)
		return
	}
	req.Caption = strings.TrimSpace(req.Caption)
	if req.PhotoBase64 == "" && req.Caption == "" {
		badRequest(w, "give photo_base64 or caption (or both)")
		return
	}
	if len(req.Caption) > maxCaption {
		badRequest(w, "caption has %d bytes, want at most %d", len(req.Caption), maxCaption)
		return
	}
	// The caption is read locally first, whoever reads the meal: bad
	// input (a control character, an amount that is not positive, not a
	// number or absurd) gets its 400 before any upstream sees it.
	items, err := s.facts.parser.Parse(req.Caption)
	if err != nil {
		badRequest(w, "caption: %s", strings.TrimPrefix(err.Error(), "meal: "))
		return
	}
	var photo []byte
	mediaType := ""
	if req.PhotoBase64 != "" {
		if photo, mediaType, err = readPhoto(req); err != nil {
			badRequest(w, "%v", err)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	vision, err := s.see(ctx, photo, mediaType, req.Caption, items)
	if err != nil {
		// The deadline passed while the models were reading: the local
		// parser still answers.
		if r.Context().Err() != nil {
			return
		}
		vision = chain.Result[mealVision]{Value: mealVision{Items: fromParser(items), Estimated: true}, Step: "estimate", Degraded: true}
	}
	ans := mealAnswer{Items: []mealItemAnswer{}, Unknown: []string{}, TotalsPartial: []string{}, Complete: true, Simulated: s.cfg.Simulated}
	ans.Vision = visionAnswer{ServedBy: vision.Step, Degraded: vision.Degraded, Estimated: vision.Value.Estimated}
	ans.Degraded = vision.Degraded
	if len(vision.Value.Items) == 0 {
		ans.Complete = false
		if len(photo) > 0 && vision.Value.Estimated {
			// No model could read the photo; the parser read the caption
			// alone.
			ans.Unknown = append(ans.Unknown, "the meal in the photo")
		} else {
			// The reader saw everything and found no food.
			ans.Vision.NoFood = true
		}
	}
	for _, it := range s.weigh(ctx, vision.Value.Items) {
		ans.Items = append(ans.Items, it)
		ans.Degraded = ans.Degraded || it.Degraded
		if it.Status == "unknown" {
			ans.Unknown, ans.Complete = append(ans.Unknown, it.Name), false
		}
	}
	ans.Totals, ans.TotalsPartial = totalsOf(ans.Items)
	writeJSON(w, http.StatusOK, ans)
}

// maxLookups bounds the nutrition lookups of one request run at once.
const maxLookups = 4

// weigh looks up the nutrients of every food of the meal, at most
// maxLookups at once, and writes the answer's items. A lookup the
// request's deadline cuts short answers from the embedded data.
func (s *service) weigh(ctx context.Context, items []seen) []mealItemAnswer {
	out := make([]mealItemAnswer, len(items))
	sem := make(chan struct{}, maxLookups)
	var wg sync.WaitGroup
	for i, it := range items {
		out[i] = mealItemAnswer{Text: it.Text, Name: it.Name, Status: "unknown", Degraded: false}
		if it.Known {
			out[i].Status, out[i].Food, out[i].Dish = "known", it.Food, it.Dish != ""
			out[i].Portion, out[i].Match, out[i].Confidence = it.Portion, string(it.How), math.Round(it.Confidence*100)/100
			if it.Uncertain() {
				out[i].Status = "uncertain"
			}
			out[i].Components = make([]componentAnswer, len(it.Components))
		} else if it.modelGrams > 0 {
			out[i].Components = make([]componentAnswer, 1) // a model's food: looked up by name
		}
		for j := range out[i].Components {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				out[i].Components[j] = s.component(ctx, it, j)
			}()
		}
	}
	wg.Wait()
	for i, it := range items {
		s.finishItem(&out[i], it)
	}
	return out
}

// component looks up the nutrients of food j of an item.
func (s *service) component(ctx context.Context, it seen, j int) componentAnswer {
	if !it.Known { // a model's food the parser does not know: by name, strictly
		ans, err := s.facts.lookup(ctx, nutrition.Query{Name: it.Name, Strict: true, Branded: true})
		if err != nil || ans.Source == nutrition.FromEstimate {
			return componentAnswer{}
		}
		return componentAnswer{Food: ans.Description, Grams: it.modelGrams, Nutrients: nutrientsOf(ans.Per100g.Scale(it.modelGrams), ans.Unknown),
			Source: ans.Source, SourceStep: ans.Step, Degraded: ans.Degraded}
	}
	c := it.Components[j]
	food, _ := s.data.Food(c.NDB)
	q := nutrition.Query{Name: it.Name, NDB: c.NDB, Description: food.Description, Sure: !it.Uncertain()}
	if it.Dish != "" {
		q.Name = food.Description
	}
	ans, err := s.facts.lookup(ctx, q)
	if err != nil {
		var ok bool
		if ans, ok = s.facts.embedded(c.NDB); !ok {
			return componentAnswer{}
		}
	}
	return componentAnswer{Food: ans.Description, Grams: math.Round(c.Grams*10) / 10, Nutrients: nutrientsOf(ans.Per100g.Scale(c.Grams), ans.Unknown),
		Source: ans.Source, SourceStep: ans.Step, Degraded: ans.Degraded}
}

// finishItem sums an item's components into its figures and source; a
// food of a model nobody knows stays unknown, without figures.
func (s *service) finishItem(a *mealItemAnswer, it seen) {
	if !it.Known {
		if len(a.Components) == 0 || a.Components[0].Source == "" {
			a.Components = nil
			return
		}
		// A model's food found by name (USDA, the web): known, not surely.
		c := a.Components[0]
		a.Status, a.Food, a.Match, a.Confidence = "uncertain", c.Food, "source_name", 0.6
		a.Portion = fmt.Sprintf("%s g, as the model said", formatGrams(c.Grams))
	}
	grams, sum, unknown := 0.0, sr24.Nutrients{}, sr24.NutrientSet(0)
	for _, c := range a.Components {
		grams += c.Grams
		n, u := valuesOf(c.Nutrients)
		sum, unknown = sum.Add(n), unknown|u
		a.Degraded = a.Degraded || c.Degraded
		if a.Source == "" || sourceRank[c.Source] > sourceRank[a.Source] {
			a.Source, a.SourceStep = c.Source, c.SourceStep
		}
	}
	if it.Known {
		grams = it.Grams
	}
	g := math.Round(grams*10) / 10
	n := nutrientsOf(sum, unknown)
	a.Grams, a.Nutrients = &g, &n
	if !a.Dish {
		a.Components = nil // one food: its figures are the item's
	}
}

// sourceRank orders sources from the most live to the least, to name a
// dish's source by its least live component.
var sourceRank = map[string]int{nutrition.FromUSDA: 0, nutrition.FromWeb: 1, nutrition.FromCache: 2, nutrition.FromEstimate: 3}

// valuesOf reads answer nutrients back, with the set of those unknown.
func valuesOf(n nutrientsJSON) (sr24.Nutrients, sr24.NutrientSet) {
	var unknown sr24.NutrientSet
	v := func(p *float64, which sr24.Nutrient) float64 {
		if p == nil {
			unknown = unknown.With(which)
			return 0
		}
		return *p
	}
	return sr24.Nutrients{EnergyKcal: v(n.EnergyKcal, sr24.Energy), ProteinG: v(n.ProteinG, sr24.Protein),
		CarbohydrateG: v(n.CarbohydrateG, sr24.Carbohydrate), FatG: v(n.FatG, sr24.Fat),
		FiberG: v(n.FiberG, sr24.Fiber), SodiumMg: v(n.SodiumMg, sr24.Sodium)}, unknown
}

// totalsOf sums the known items. A nutrient that some item gives no
// figure for is totalled over the others and listed as partial; one no
// item gives is null.
func totalsOf(items []mealItemAnswer) (nutrientsJSON, []string) {
	var sum sr24.Nutrients
	var missing, present sr24.NutrientSet
	for _, it := range items {
		if it.Nutrients == nil {
			continue
		}
		n, u := valuesOf(*it.Nutrients)
		sum, missing = sum.Add(n), missing|u
		present |= ^u & sr24.NutrientSet(1<<6-1)
	}
	partial := []string{}
	for k := sr24.Energy; k <= sr24.Sodium; k++ {
		if missing.Has(k) && present.Has(k) {
			partial = append(partial, k.String())
		}
	}
	return nutrientsOf(sum, ^present), partial
}

// formatGrams writes a weight with at most one decimal.
func formatGrams(g float64) string {
	return strconv.FormatFloat(math.Round(g*10)/10, 'f', -1, 64)
}

// chatRequest is POST /v1/chat's body.
type chatRequest struct {
	Message string `json:"message"`
}

func (s *service) handleChat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if err := decodeBody(w, r, &req); err != nil {
		badRequest(w, "%v", err)
		return
	}
	req.Message = strings.TrimSpace(req.Message)
	if req.Message == "" || len(req.Message) > maxMessage {
		badRequest(w, "message must have 1 to %d bytes", maxMessage)
		return
	}
	// The foods the message mentions are read as /v1/meals reads a
	// caption: an amount a caption may not give ("0 g rice") gets the same
	// 400 before any model sees it.
	facts, err := s.chatFacts(req.Message)
	if err != nil {
		badRequest(w, "message: %s", strings.TrimPrefix(err.Error(), "meal: "))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	ans, err := s.ask(ctx, req.Message, facts)
	if err != nil {
		s.failed(w, r, "chat", err)
		return
	}
	ans.Simulated = s.cfg.Simulated
	writeJSON(w, http.StatusOK, ans)
}

// failed answers a request no step could serve: the caller gave up, or
// the chain ended with an error (the last steps never fail, so this is
// rare).
func (s *service) failed(w http.ResponseWriter, r *http.Request, what string, err error) {
	if r.Context().Err() != nil {
		return // the client is gone
	}
	s.log.Error("[FALLBACK] no step answered", "chain", what, "error", err)
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": what + ": no source could answer; try again shortly"})
}

// breakerView is one breaker in GET /v1/breakers.
type breakerView struct {
	Name       string `json:"name"`
	State      string `json:"state"`
	Generation int64  `json:"generation"`
	Failures   int64  `json:"failures"`
	Trips      int64  `json:"trips"`
	OpenForMs  int64  `json:"open_for_ms,omitempty"`
	LastError  string `json:"last_error,omitempty"`
	UpdatedAt  string `json:"updated_at,omitempty"`
	// Source: shared (the state every replica shares, from Redis), or
	// local (this replica's local breaker decides: Redis is unavailable).
	Source string `json:"source"`
	// Local: this replica's own view, for comparison.
	Local string `json:"local_view"`
	Error string `json:"error,omitempty"`
}

func (s *service) handleBreakers(w http.ResponseWriter, r *http.Request) {
	out := struct {
		Store    string        `json:"store"`
		Degraded bool          `json:"store_degraded"`
		Enabled  bool          `json:"enabled"`
		Breakers []breakerView `json:"breakers"`
	}{Store: "memory", Enabled: s.cfg.BreakersEnabled, Breakers: []breakerView{}}
	if s.rstore != nil {
		out.Store, out.Degraded = "redis", s.rstore.Degraded()
	}
	for _, b := range s.breakers {
		out.Breakers = append(out.Breakers, viewOf(r.Context(), b))
	}
	writeJSON(w, http.StatusOK, out)
}

func viewOf(ctx context.Context, b *dbreaker.Breaker) breakerView {
	view := b.View()
	v := breakerView{Name: b.Name(), Local: view.State.String(), Source: metrics.SourceOf(view.Local)}
	snap, err := b.State(ctx)
	if err != nil {
		v.Error = redact.ErrorText(err.Error())
		v.State = v.Local
		return v
	}
	v.State, v.Generation, v.Failures, v.Trips, v.LastError = snap.State.String(), snap.Generation, snap.Failures, snap.Trips, snap.LastError
	v.Source = metrics.SourceOf(snap.Local)
	if ra := snap.RetryAfter(); ra > 0 {
		v.OpenForMs = ra.Milliseconds()
	}
	if !snap.UpdatedAt.IsZero() {
		v.UpdatedAt = snap.UpdatedAt.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// handleReady answers 200 once the replica is built: a degraded replica
// still serves (breakers decide locally, nutrition skips the cache), so it
// stays in the load balancer, but the body says what is degraded, as
// health_agent_degraded does.
func (s *service) handleReady(w http.ResponseWriter, _ *http.Request) {
	degraded := s.degraded()
	out := map[string]any{
		"status":              "ready",
		"degraded":            degraded,
		"simulated_upstreams": s.cfg.Simulated,
		"breakers_enabled":    s.cfg.BreakersEnabled,
		"breaker_store":       "memory",
		"nutrition_store":     s.facts.store,
	}
	if len(degraded) > 0 {
		out["status"] = "degraded"
	}
	if s.rstore != nil {
		out["breaker_store"], out["breaker_store_degraded"] = "redis", slices.Contains(degraded, degradedBreakerStore)
	}
	writeJSON(w, http.StatusOK, out)
}
