package fakeupstream

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/healthagent/resilience/internal/testsr24"
)

func newTestMealWriter(t *testing.T) *mealWriter {
	t.Helper()
	data, err := testsr24.Load()
	if err != nil {
		t.Fatalf("loading sr24: %v", err)
	}
	m, err := newMealWriter(data)
	if err != nil {
		t.Fatalf("newMealWriter: %v", err)
	}
	return m
}

func TestCaptionFoods(t *testing.T) {
	m := newTestMealWriter(t)
	tests := []struct {
		text string
		want []mealItem
	}{
		{"150 g chicken breast", []mealItem{{"chicken breast", 150}}},
		{"150g Chicken Breasts and 200 grams of rice", []mealItem{{"chicken breasts", 150}, {"rice", 200}}},
		{"2 large eggs", []mealItem{{"eggs", 100}}},
		{"a glass of orange juice", []mealItem{{"orange juice", 249}}},
		{"1 tbsp butter and zorblax", []mealItem{{"butter", 14.2}}},
		{"What is in this photo? Reply with JSON.", nil},
		{"", nil},
		{"-5 g rice", nil},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			found := m.captionFoods(tt.text)
			if len(found) != len(tt.want) {
				t.Fatalf("found %d foods, want %d: %+v", len(found), len(tt.want), found)
			}
			for i, f := range found {
				if f != tt.want[i] {
					t.Errorf("food %d: %+v, want %+v", i, f, tt.want[i])
				}
			}
		})
	}
	t.Run("at most maxMealItems", func(t *testing.T) {
		text := strings.Repeat("apple, banana, bread, cheese, egg, pasta, rice, salmon, steak, tomato, ", 1)
		if got := len(m.captionFoods(text)); got != maxMealItems {
			t.Errorf("%d foods, want %d", got, maxMealItems)
		}
	})
}

// The fake model's text answers weigh foods as the bot's parser does: an
// egg is one large egg, a tablespoon of butter 14.2 g.
func TestAnswerTextAgreesWithTheParser(t *testing.T) {
	m := newTestMealWriter(t)
	for _, tt := range []struct{ question, want string }{
		{"How much protein is in an egg?", "an egg (50 g): about 78 kcal, 6.3 g protein"},
		{"calories in 1 tbsp butter?", "1 tbsp butter (14 g): about 102 kcal"},
		{"hello", "I can estimate the nutrition of a meal"},
		{"how many calories in 0 g rice?", `I can't read that: "0": the amount must be more than 0.`},
	} {
		if got := m.answerText(tt.question); !strings.Contains(got, tt.want) {
			t.Errorf("answerText(%q) = %q, want it to say %q", tt.question, got, tt.want)
		}
	}
}

func TestDescribePhoto(t *testing.T) {
	m := newTestMealWriter(t)
	seen := map[string]bool{}
	sizes := map[int]bool{}
	for h := range uint64(400) {
		got := m.describePhoto("", h)
		if again := m.describePhoto("", h); !equalMeals(got, again) {
			t.Fatalf("hash %d gave %+v, then %+v", h, got, again)
		}
		sizes[len(got.Items)] = true
		names := map[string]bool{}
		for _, it := range got.Items {
			if names[it.Name] {
				t.Errorf("hash %d repeats %q: %+v", h, it.Name, got.Items)
			}
			names[it.Name] = true
			seen[it.Name] = true
			if it.Grams <= 0 || math.Mod(it.Grams, 5) != 0 {
				t.Errorf("hash %d: %+v has odd grams", h, it)
			}
		}
	}
	if len(sizes) != 3 || !sizes[1] || !sizes[3] {
		t.Errorf("meal sizes %v, want 1, 2 and 3", sizes)
	}
	if len(seen) != len(photoMenu) {
		t.Errorf("%d of %d menu foods ever chosen", len(seen), len(photoMenu))
	}
	if got := m.describePhoto("a bowl of porridge", 1); len(got.Items) != 1 || got.Items[0].Name != "porridge" {
		t.Errorf("captioned photo gave %+v", got.Items)
	}
}

// A request asking for structured output (OpenAI's response_format with a
// JSON schema, Anthropic's output_config) gets the meal JSON for a text
// too, with the foods it names and their weights.
func TestStructuredOutputAnswersMealJSON(t *testing.T) {
	ts := newTestServer(t, Config{})
	post := func(t *testing.T, path, body string, header map[string]string) []byte {
		t.Helper()
		if header == nil {
			header = map[string]string{}
		}
		header["Content-Type"] = "application/json"
		res := ts.do(context.Background(), t, http.MethodPost, path, body, header)
		if res.err != nil || res.status != http.StatusOK {
			t.Fatalf("%s: %d %s %v", path, res.status, res.body, res.err)
		}
		return res.body
	}
	schema := `{"type":"object","properties":{"items":{"type":"array"}},"required":["items"]}`
	var oa struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	decodeJSON(t, post(t, "/v1/chat/completions", `{"model":"m","response_format":{"type":"json_schema","json_schema":{"name":"meal","schema":`+schema+`,"strict":true}},
		"messages":[{"role":"system","content":"List the foods."},{"role":"user","content":"2 large eggs and a glass of orange juice"}]}`, nil), &oa)
	var an struct {
		Content []struct{ Text string } `json:"content"`
	}
	decodeJSON(t, post(t, "/v1/messages", `{"model":"m","max_tokens":100,"output_config":{"format":{"type":"json_schema","schema":`+schema+`}},
		"messages":[{"role":"user","content":"2 large eggs and a glass of orange juice"}]}`, map[string]string{"anthropic-version": "2023-06-01"}), &an)
	want := mealAnswer{Items: []mealItem{{"eggs", 100}, {"orange juice", 249}}}
	for name, content := range map[string]string{"openai": oa.Choices[0].Message.Content, "anthropic": an.Content[0].Text} {
		var got mealAnswer
		if err := json.Unmarshal([]byte(content), &got); err != nil || !equalMeals(got, want) {
			t.Errorf("%s answered %q (%v), want %+v", name, content, err, want)
		}
	}
	// Without structured output, a text gets prose.
	decodeJSON(t, post(t, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"2 large eggs"}]}`, nil), &oa)
	if c := oa.Choices[0].Message.Content; strings.HasPrefix(c, "{") {
		t.Errorf("plain request answered %q, want prose", c)
	}
}
