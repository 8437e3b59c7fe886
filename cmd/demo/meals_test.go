package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/fakeupstream"
)

// newModelService builds a replica whose models and USDA are a fake
// upstream of the test's own (so "keys are configured": the models read
// meals first), without Redis or PostgreSQL, logging into the buffer.
func newModelService(t testing.TB, env map[string]string) (*service, *fakeupstream.Server, *syncBuffer) {
	t.Helper()
	return newModelServiceBehind(t, env, nil)
}

// newModelServiceBehind is newModelService with the fake upstream behind
// wrap (nil: none), which may change its answers.
func newModelServiceBehind(t testing.TB, env map[string]string, wrap func(http.Handler) http.Handler) (*service, *fakeupstream.Server, *syncBuffer) {
	t.Helper()
	fake, err := fakeupstream.New(fakeupstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = fake
	if wrap != nil {
		h = wrap(fake)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	root := srv.URL
	ep := fakeupstream.EndpointsAt(root)
	base := map[string]string{
		"REDIS_URL": "redis://127.0.0.1:1", "DATABASE_URL": "postgres://127.0.0.1:1/x?sslmode=disable",
		"API_RETRY_BASE_DELAY": "1ms",
		"OPENAI_BASE_URL":      ep.OpenAI, "OPENAI_API_KEY": "k", "ANTHROPIC_BASE_URL": ep.Anthropic, "ANTHROPIC_API_KEY": "k",
		"USDA_BASE_URL": root, "USDA_API_KEY": "k", "WEB_SEARCH_URL": ep.Web,
	}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := loadConfig(envOf(base))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	s, err := newService(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close(context.Background()) })
	return s, fake, logs
}

// postMeal posts a caption and decodes the answer.
func postMeal(t testing.TB, h http.Handler, caption string) (int, mealAnswer, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(mealRequest{Caption: caption})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/meals", bytes.NewReader(body)))
	var ans mealAnswer
	var raw map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &ans)
	_ = json.Unmarshal(rec.Body.Bytes(), &raw)
	return rec.Code, ans, raw
}

func kcal(t *testing.T, n *nutrientsJSON) float64 {
	t.Helper()
	if n == nil || n.EnergyKcal == nil {
		t.Fatalf("no energy in %+v", n)
	}
	return *n.EnergyKcal
}

func TestBadInputGets400NamingTheProblem(t *testing.T) {
	h := newTestService(t, nil).apiHandler()
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"
	jpeg := "\xff\xd8\xff\xe0\x00\x10JFIF\x00"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		path, body, want string
	}{
		{"/v1/meals", `{"caption":"-5 g rice"}`, "more than 0"},
		{"/v1/meals", `{"caption":"0 g rice"}`, "more than 0"},
		{"/v1/meals", `{"caption":"1e308 g rice"}`, "not a plain number"},
		{"/v1/meals", `{"caption":"NaN g rice"}`, "not a number"},
		{"/v1/meals", `{"caption":"12 kg rice"}`, "more than the 5000 g"},
		{"/v1/meals", `{"caption":"rice\u0000"}`, "control character U+0000"},
		{"/v1/meals", `{"caption":"rice \u001b[1m"}`, "control character U+001B"},
		{"/v1/chat", `{"message":"hello\u0000"}`, "control character U+0000"},
		{"/v1/meals", `{"photo_base64":"` + b64("just some text, no image") + `"}`, "not a JPEG, PNG, GIF or WebP image"},
		{"/v1/meals", `{"photo_base64":"` + b64(png) + `","media_type":"image/jpeg"}`, "media_type says image/jpeg, but the photo's bytes are image/png"},
		{"/v1/meals", `{"photo_base64":"data:image/jpeg;base64,` + b64(png) + `"}`, "media_type says image/jpeg, but the photo's bytes are image/png"},
		{"/v1/meals", `{"photo_base64":"data:text/plain;base64,` + b64(png) + `"}`, "data:image/<type>;base64"},
		{"/v1/meals", `{"photo_base64":"data:image/png;base64,` + b64(png) + `","media_type":"image/gif"}`, "media_type says image/gif"},
	}
	for _, tt := range tests {
		rec, out := post(t, h, tt.path, tt.body)
		msg, _ := out["error"].(string)
		if rec.Code != http.StatusBadRequest || !strings.Contains(msg, tt.want) {
			t.Errorf("%s %.60s: %d %s; want 400 saying %q", tt.path, tt.body, rec.Code, rec.Body.String(), tt.want)
		}
	}
	// A data: URL whose type is the bytes' is accepted, as is a photo
	// whose media_type is left to the sniffing.
	for _, body := range []string{
		`{"photo_base64":"data:image/png;base64,` + b64(png) + `"}`,
		`{"photo_base64":"` + b64(jpeg) + `","caption":"a banana"}`,
	} {
		if rec, _ := post(t, h, "/v1/meals", body); rec.Code != http.StatusOK {
			t.Errorf("%.60s: %d %s", body, rec.Code, rec.Body.String())
		}
	}
}

func TestUnknownAndRouteErrorsAreJSON(t *testing.T) {
	h := newTestService(t, nil).apiHandler()
	for _, tt := range []struct{ method, path string }{{"GET", "/nope"}, {"DELETE", "/v1/meals"}, {"GET", "/v1/chat"}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		var out map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out["error"] == "" || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %q, want a JSON error", tt.method, tt.path, rec.Code, rec.Body.String())
		}
		want := http.StatusMethodNotAllowed
		if tt.path == "/nope" {
			want = http.StatusNotFound
		}
		if rec.Code != want || (want == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "") {
			t.Errorf("%s %s: status %d (Allow %q), want %d", tt.method, tt.path, rec.Code, rec.Header().Get("Allow"), want)
		}
	}
}

// A food nobody knows is reported as unknown, with no number, and never
// cached; nothing is invented for it.
func TestUnknownFoodsAreReportedWithoutNumbers(t *testing.T) {
	h := newTestService(t, nil).apiHandler()
	for _, caption := range []string{"200 g zorblax", "🍕🍕🍕", "' OR 1=1 --"} {
		code, ans, raw := postMeal(t, h, caption)
		if code != http.StatusOK || len(ans.Items) != 1 || ans.Items[0].Status != "unknown" || ans.Complete || len(ans.Unknown) != 1 {
			t.Fatalf("%q: %d %+v", caption, code, ans)
		}
		item := raw["items"].([]any)[0].(map[string]any)
		if item["grams"] != nil || item["nutrients"] != nil || ans.Totals.EnergyKcal != nil {
			t.Fatalf("%q: %v; want no grams, no nutrients, no total", caption, raw)
		}
	}
	// A known food beside an unknown one: the total is the known food's.
	_, ans, _ := postMeal(t, h, "a banana and 200 g zorblax")
	if len(ans.Items) != 2 || ans.Complete || kcal(t, &ans.Totals) != kcal(t, ans.Items[0].Nutrients) {
		t.Fatalf("%+v", ans)
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// Every key of a meal answer is snake_case, and an item says where its
// figures came from and how sure the match is.
func TestMealAnswerIsSnakeCaseAndSaysItsSources(t *testing.T) {
	h := newTestService(t, nil).apiHandler()
	code, ans, raw := postMeal(t, h, "chicken caesar salad, 2 large eggs and zorblax rice")
	if code != http.StatusOK {
		t.Fatalf("%d %+v", code, raw)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if !snakeCase.MatchString(k) {
					t.Errorf("key %q at %s is not snake_case", k, path)
				}
				walk(path+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x)
			}
		}
	}
	walk("", raw)
	if len(ans.Items) != 3 {
		t.Fatalf("items %+v", ans.Items)
	}
	salad, eggs, rice := ans.Items[0], ans.Items[1], ans.Items[2]
	if !salad.Dish || len(salad.Components) < 4 || salad.Source == "" || salad.Status != "known" {
		t.Errorf("salad %+v: want a known dish with its components and a source", salad)
	}
	for _, c := range salad.Components {
		if c.Source == "" || c.SourceStep == "" || c.Nutrients.EnergyKcal == nil {
			t.Errorf("component %+v lacks its source or figures", c)
		}
	}
	if eggs.Status != "known" || eggs.Confidence != 1 || eggs.Match != "name" || *eggs.Grams != 100 || eggs.Source == "" {
		t.Errorf("eggs %+v", eggs)
	}
	if rice.Status != "uncertain" || rice.Confidence >= 0.7 || rice.Match == "" {
		t.Errorf("zorblax rice %+v: want rice, uncertain", rice)
	}
}

// A weight that rests on a guessed density is said to be uncertain (and
// so never cached as the food the name means): "a cup of nachos" is
// weighed as water; "a plate of nachos" is their own serving, surely.
func TestAGuessedWeightIsUncertain(t *testing.T) {
	h := newTestService(t, nil).apiHandler()
	for _, tt := range []struct {
		caption, status string
		grams           float64
	}{
		{"a cup of nachos", "uncertain", 236.6},
		{"a plate of nachos", "known", 113},
	} {
		code, ans, raw := postMeal(t, h, tt.caption)
		if code != http.StatusOK || len(ans.Items) != 1 || ans.Items[0].Status != tt.status || *ans.Items[0].Grams != tt.grams {
			t.Errorf("%q: %d %v; want one item, %s, %v g", tt.caption, code, raw, tt.status, tt.grams)
		}
	}
}

// The chat's answer (the fake model's, from the figures the parser gives
// it) weighs a food as /v1/meals does: an egg is one large egg, 50 g, a
// tablespoon of butter 14.2 g, and "a turkey sandwich on rye" one dish
// made with rye bread, not a turkey, a sandwich and a cup of rye grain.
func TestChatAndMealsAgree(t *testing.T) {
	h := newTestService(t, nil).apiHandler()
	_, egg, _ := postMeal(t, h, "1 egg")
	_, butter, _ := postMeal(t, h, "1 tbsp butter")
	if *egg.Items[0].Grams != 50 || *butter.Items[0].Grams != 14.2 {
		t.Fatalf("meal: egg %v g, butter %v g", *egg.Items[0].Grams, *butter.Items[0].Grams)
	}
	_, sandwich, _ := postMeal(t, h, "a turkey sandwich on rye")
	if len(sandwich.Items) != 1 || !sandwich.Items[0].Dish {
		t.Fatalf("meal: a turkey sandwich on rye is %+v, want one dish", sandwich.Items)
	}
	for q, want := range map[string]string{
		`{"message":"How much protein is in an egg?"}`:        "(50 g): about 78 kcal, 6.3 g protein",
		`{"message":"How much fat in 1 tbsp butter?"}`:        "1 tbsp butter (14 g): about 102 kcal",
		`{"message":"calories in a turkey sandwich on rye?"}`: fmt.Sprintf("a turkey sandwich on rye (%.0f g): about", *sandwich.Items[0].Grams),
	} {
		_, out := post(t, h, "/v1/chat", q)
		if a, _ := out["answer"].(string); !strings.Contains(a, want) || strings.Contains(a, "Total") {
			t.Errorf("chat %s answered %q, want %q alone", q, a, want)
		}
	}
}

// A question with an amount of a food that /v1/meals refuses (not
// positive, not a plain number) gets the same 400, with the same reason,
// and no model is asked: nothing is guessed for "0 g rice".
func TestChatRefusesABadAmountAsMealsDo(t *testing.T) {
	s, fake, _ := newModelService(t, map[string]string{"API_RETRY_MAX": "0"})
	h := s.apiHandler()
	for _, tt := range []struct{ question, caption string }{
		{"how many calories in 0 g rice", "0 g rice"},
		{"how many calories in 1e308 g rice", "1e308 g rice"},
		{"how many calories in -5 g rice?", "-5 g rice"},
		{"is rice -5 g a lot?", "rice -5 g"},
		{"protein in NaN g chicken", "NaN g chicken"},
	} {
		code, _, meal := postMeal(t, h, tt.caption)
		reason, _ := meal["error"].(string)
		reason, cut := strings.CutPrefix(reason, "caption: ")
		if code != http.StatusBadRequest || !cut {
			t.Fatalf("meal %q: %d %v, want 400", tt.caption, code, meal)
		}
		before := fake.Stats()[fakeupstream.OpenAI].Requests + fake.Stats()[fakeupstream.Anthropic].Requests
		body, _ := json.Marshal(chatRequest{Message: tt.question})
		rec, out := post(t, h, "/v1/chat", string(body))
		asked := fake.Stats()[fakeupstream.OpenAI].Requests + fake.Stats()[fakeupstream.Anthropic].Requests - before
		if rec.Code != http.StatusBadRequest || out["error"] != "message: "+reason || asked != 0 {
			t.Errorf("chat %q: %d %v (%d model requests); want 400 %q as the meal got, no model asked", tt.question, rec.Code, out, asked, "message: "+reason)
		}
	}
}

// With models configured, they read the caption first (structured meal
// JSON from the fake upstream); when both are down, the local parser reads
// it, with the same foods and weights.
func TestModelsFirstThenTheLocalParser(t *testing.T) {
	s, fake, _ := newModelService(t, map[string]string{"API_RETRY_MAX": "0"})
	h := s.apiHandler()
	caption := "2 large eggs and a glass of orange juice"
	code, byModel, _ := postMeal(t, h, caption)
	if code != http.StatusOK || byModel.Vision.ServedBy != "openai" || byModel.Vision.Estimated || byModel.Degraded {
		t.Fatalf("models up: %d %+v", code, byModel)
	}
	if got := fake.Stats()[fakeupstream.OpenAI].Requests; got != 1 {
		t.Fatalf("OpenAI got %d requests, want the one that read the caption", got)
	}
	for _, u := range []fakeupstream.Upstream{fakeupstream.OpenAI, fakeupstream.Anthropic} {
		if err := fake.SetFault(u, fakeupstream.Fault{Outage: fakeupstream.OutageError}); err != nil {
			t.Fatal(err)
		}
	}
	_, byParser, _ := postMeal(t, h, caption)
	if byParser.Vision.ServedBy != "estimate" || !byParser.Vision.Estimated || !byParser.Degraded {
		t.Fatalf("models down: %+v", byParser.Vision)
	}
	if len(byModel.Items) != 2 || len(byParser.Items) != 2 {
		t.Fatalf("items: by model %+v, by parser %+v", byModel.Items, byParser.Items)
	}
	for i := range byModel.Items {
		m, p := byModel.Items[i], byParser.Items[i]
		if m.Food != p.Food || *m.Grams != *p.Grams || kcal(t, m.Nutrients) != kcal(t, p.Nutrients) {
			t.Errorf("item %d: model %s %v g, parser %s %v g", i, m.Food, *m.Grams, p.Food, *p.Grams)
		}
	}
	// Bad amounts are refused before any model sees them.
	before := fake.Stats()[fakeupstream.OpenAI].Requests
	if code, _, _ := postMeal(t, h, "-5 g rice"); code != http.StatusBadRequest || fake.Stats()[fakeupstream.OpenAI].Requests != before {
		t.Fatalf("a bad amount: %d, and the model was asked", code)
	}
}

// One deadline per request: with every upstream hanging, a meal is still
// answered, each model and USDA ended by its share of the budget (the
// deadline of its step), and the local parser and the embedded data
// answer with what is left.
func TestHangingUpstreamsAnswerWithinTheBudget(t *testing.T) {
	s, fake, logs := newModelService(t, map[string]string{"REQUEST_TIMEOUT": "4s", "API_RETRY_MAX": "3"})
	for _, u := range []fakeupstream.Upstream{fakeupstream.OpenAI, fakeupstream.Anthropic, fakeupstream.USDA} {
		if err := fake.SetFault(u, fakeupstream.Fault{HangRate: 1}); err != nil {
			t.Fatal(err)
		}
	}
	code, ans, raw := postMeal(t, s.apiHandler(), "150 g chicken breast")
	if code != http.StatusOK || ans.Vision.ServedBy != "estimate" || len(ans.Items) != 1 {
		t.Fatalf("%d %v", code, raw)
	}
	it := ans.Items[0]
	if it.Source != "local_cache" || !it.Degraded || kcal(t, it.Nutrients) != 247.5 {
		t.Fatalf("item %+v: want the embedded data's figures, degraded", it)
	}
	out := logs.String()
	for _, step := range []string{"openai", "anthropic", "usda"} {
		if !regexp.MustCompile(`step=` + step + ` .*error="[^"]*step timed out after`).MatchString(out) {
			t.Errorf("step %s did not end by its share of the budget; logs:\n%s", step, out)
		}
	}
}

// The models' hanging must not hold a chat past its budget either: the
// text chain's local steps answer.
func TestHangingModelsStillAnswerTheChat(t *testing.T) {
	s, fake, _ := newModelService(t, map[string]string{"REQUEST_TIMEOUT": "2s"})
	for _, u := range []fakeupstream.Upstream{fakeupstream.OpenAI, fakeupstream.Anthropic} {
		if err := fake.SetFault(u, fakeupstream.Fault{HangRate: 1}); err != nil {
			t.Fatal(err)
		}
	}
	rec, out := post(t, s.apiHandler(), "/v1/chat", `{"message":"How much protein is in an egg?"}`)
	if rec.Code != http.StatusOK || out["served_by"] != "friendly_error" {
		t.Fatalf("%d %v", rec.Code, out)
	}
	// A question never answered before is no failure of the answer cache.
	want := map[string]float64{"anthropic->openai/failure": 1, "anthropic->cached_answer/not_found": 1, "anthropic->friendly_error/success": 1}
	if got := fallbackCounts(s); !maps.Equal(got, want) {
		t.Errorf("fallback_executions_total: %v, want %v", got, want)
	}
}

func TestRequestTimeoutIsConfigurable(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{"REQUEST_TIMEOUT": "1.5s"}))
	if err != nil || c.RequestTimeout != 1500*time.Millisecond {
		t.Fatalf("REQUEST_TIMEOUT=1.5s: %v, %v", c.RequestTimeout, err)
	}
	if c, _ := loadConfig(envOf(nil)); c.RequestTimeout != 3*time.Second {
		t.Fatalf("default %v, want 3s", c.RequestTimeout)
	}
	for _, bad := range []string{"0", "-1s", "10m", "soon"} {
		if _, err := loadConfig(envOf(map[string]string{"REQUEST_TIMEOUT": bad})); err == nil || !strings.Contains(err.Error(), "REQUEST_TIMEOUT") {
			t.Errorf("REQUEST_TIMEOUT=%s: %v, want an error naming it", bad, err)
		}
	}
}
