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
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/healthagent/resilience/pkg/dbreaker"
	"github.com/healthagent/resilience/pkg/metrics"
	"github.com/healthagent/resilience/pkg/nutrition/sr24"
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
	return mux
}

// metricsHandler serves /metrics (and the probes, for the metrics port).
func (s *service) metricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
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

// mealRequest is POST /v1/meals' body: a photo (base64) and/or a caption.
type mealRequest struct {
	PhotoBase64 string `json:"photo_base64"`
	MediaType   string `json:"media_type"`
	Caption     string `json:"caption"`
}

// mealItemAnswer is one food of the answer.
type mealItemAnswer struct {
	Name        string         `json:"name"`
	Grams       float64        `json:"grams"`
	Description string         `json:"description"`
	Nutrients   sr24.Nutrients `json:"nutrients"`
	Source      string         `json:"source"`
	Degraded    bool           `json:"degraded"`
}

// mealAnswer is what POST /v1/meals returns.
type mealAnswer struct {
	Items  []mealItemAnswer `json:"items"`
	Totals sr24.Nutrients   `json:"totals"`
	Vision struct {
		ServedBy  string `json:"served_by"`
		Degraded  bool   `json:"degraded"`
		Estimated bool   `json:"estimated"`
	} `json:"vision"`
	// Degraded: some part of the answer came from a fallback.
	Degraded bool `json:"degraded"`
	// Simulated: invented by the fake upstreams (UPSTREAMS).
	Simulated bool `json:"simulated"`
}

var mediaTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

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
	if len(req.Caption) > 2000 {
		badRequest(w, "caption has %d bytes, want at most 2000", len(req.Caption))
		return
	}
	var photo []byte
	if req.PhotoBase64 != "" {
		var err error
		if photo, err = base64.StdEncoding.DecodeString(req.PhotoBase64); err != nil || len(photo) == 0 {
			badRequest(w, "photo_base64 is not standard base64")
			return
		}
		if req.MediaType == "" {
			req.MediaType = http.DetectContentType(photo)
		}
		if !mediaTypes[req.MediaType] {
			badRequest(w, "media_type %q: want image/jpeg, image/png, image/gif or image/webp", req.MediaType)
			return
		}
	}
	vision, err := s.see(r.Context(), photo, req.MediaType, req.Caption)
	if err != nil {
		s.failed(w, r, "vision", err)
		return
	}
	var ans mealAnswer
	ans.Vision.ServedBy, ans.Vision.Degraded, ans.Vision.Estimated = vision.Step, vision.Degraded, vision.Value.Estimated
	ans.Degraded = vision.Degraded
	for _, it := range vision.Value.Items {
		f, err := estimate(), error(nil)
		if it.Name != genericDish {
			f, err = s.facts.lookup(r.Context(), it.Name)
		}
		if err != nil {
			s.failed(w, r, "nutrition", err)
			return
		}
		n := round(f.Per100g.Scale(it.Grams))
		ans.Items = append(ans.Items, mealItemAnswer{Name: it.Name, Grams: it.Grams, Description: f.Description,
			Nutrients: n, Source: f.Source, Degraded: f.Degraded})
		ans.Degraded = ans.Degraded || f.Degraded
		ans.Totals = addNutrients(ans.Totals, n)
	}
	ans.Totals = round(ans.Totals)
	ans.Simulated = s.cfg.Simulated
	writeJSON(w, http.StatusOK, ans)
}

// round keeps one decimal, as a person reads nutrition facts.
func round(n sr24.Nutrients) sr24.Nutrients {
	r := func(v float64) float64 { return math.Round(v*10) / 10 }
	return sr24.Nutrients{EnergyKcal: r(n.EnergyKcal), ProteinG: r(n.ProteinG), CarbohydrateG: r(n.CarbohydrateG),
		FatG: r(n.FatG), FiberG: r(n.FiberG), SodiumMg: r(n.SodiumMg)}
}

func addNutrients(a, b sr24.Nutrients) sr24.Nutrients {
	return sr24.Nutrients{
		EnergyKcal: a.EnergyKcal + b.EnergyKcal, ProteinG: a.ProteinG + b.ProteinG,
		CarbohydrateG: a.CarbohydrateG + b.CarbohydrateG, FatG: a.FatG + b.FatG,
		FiberG: a.FiberG + b.FiberG, SodiumMg: a.SodiumMg + b.SodiumMg,
	}
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
	if req.Message == "" || len(req.Message) > 4000 {
		badRequest(w, "message must have 1 to 4000 bytes")
		return
	}
	ans, err := s.ask(r.Context(), req.Message)
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
		v.Error = dbreaker.RedactErrorText(err.Error())
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
