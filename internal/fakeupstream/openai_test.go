package fakeupstream

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/healthagent/resilience/internal/testsr24"
)

const testGPTModel = openai.ChatModel("gpt-test-model")

func newOpenAIClient(ts *testServer, key string) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(EndpointsAt(ts.URL()).OpenAI),
		option.WithAPIKey(key),
		option.WithMaxRetries(0),
		option.WithHTTPClient(ts.http.Client()),
	)
}

func textRequest(text string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    testGPTModel,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)},
	}
}

func imageRequest(caption, dataURL string) openai.ChatCompletionNewParams {
	parts := []openai.ChatCompletionContentPartUnionParam{}
	if caption != "" {
		parts = append(parts, openai.TextContentPart(caption))
	}
	parts = append(parts, openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: dataURL}))
	return openai.ChatCompletionNewParams{
		Model: testGPTModel,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("You are a nutrition assistant. Answer with JSON."),
			openai.UserMessage(parts),
		},
	}
}

func TestOpenAIText(t *testing.T) {
	ts := newTestServer(t, Config{})
	client := newOpenAIClient(ts, "sk-test")
	tests := []struct {
		name, text string
		want       []string
	}{
		{"names a food with a weight", "How many calories in 150 g chicken breast?", []string{"150 g chicken breast: about 248 kcal", "46.5 g protein"}},
		{"names two foods", "I had 200g rice and an apple", []string{"200g rice: about 260 kcal", "an apple (182 g)", "Total: about 355 kcal"}},
		{"names no food", "Hello there", []string{"Send a photo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Chat.Completions.New(context.Background(), textRequest(tt.text))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if len(resp.Choices) != 1 {
				t.Fatalf("%d choices, want 1", len(resp.Choices))
			}
			got := resp.Choices[0].Message.Content
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer %q lacks %q", got, w)
				}
			}
			if resp.Object != "chat.completion" || resp.Model != string(testGPTModel) || !strings.HasPrefix(resp.ID, "chatcmpl-") {
				t.Errorf("object %q, model %q, id %q", resp.Object, resp.Model, resp.ID)
			}
			if resp.Choices[0].FinishReason != "stop" || resp.Choices[0].Message.Role != "assistant" {
				t.Errorf("finish_reason %q, role %q", resp.Choices[0].FinishReason, resp.Choices[0].Message.Role)
			}
			if resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens || resp.Usage.CompletionTokens == 0 {
				t.Errorf("usage %+v", resp.Usage)
			}
		})
	}
}

func TestOpenAIImage(t *testing.T) {
	ts := newTestServer(t, Config{})
	client := newOpenAIClient(ts, "sk-test")
	png := "data:image/png;base64," + tinyPNG
	other := "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString([]byte("another photo of a meal"))

	ask := func(t *testing.T, caption, url string) mealAnswer {
		t.Helper()
		resp, err := client.Chat.Completions.New(context.Background(), imageRequest(caption, url))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		var m mealAnswer
		if err := json.Unmarshal([]byte(resp.Choices[0].Message.Content), &m); err != nil {
			t.Fatalf("the content is not meal JSON: %q: %v", resp.Choices[0].Message.Content, err)
		}
		return m
	}

	t.Run("caption names the foods", func(t *testing.T) {
		got := ask(t, "my lunch: 150 g chicken breast with 200g rice", png)
		want := []mealItem{{"chicken breast", 150}, {"rice", 200}}
		if len(got.Items) != len(want) || got.Items[0] != want[0] || got.Items[1] != want[1] {
			t.Errorf("items %+v, want %+v", got.Items, want)
		}
	})
	t.Run("no caption: foods from the image bytes, the same each time", func(t *testing.T) {
		first, again, third := ask(t, "", png), ask(t, "", png), ask(t, "What is on this plate?", other)
		if len(first.Items) == 0 || len(first.Items) > 3 {
			t.Fatalf("%d items, want 1 to 3: %+v", len(first.Items), first.Items)
		}
		if !equalMeals(first, again) {
			t.Errorf("the same image gave %+v, then %+v", first, again)
		}
		data, _ := testsr24.Load()
		for _, m := range []mealAnswer{first, third} {
			for _, it := range m.Items {
				if _, err := data.Lookup(it.Name); err != nil || it.Grams <= 0 {
					t.Errorf("item %+v: lookup error %v", it, err)
				}
			}
		}
	})
	t.Run("invalid image is a 400", func(t *testing.T) {
		_, err := client.Chat.Completions.New(context.Background(), imageRequest("", "data:image/png;base64,@@@"))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || apiErr.Type != "invalid_request_error" {
			t.Fatalf("error %v, want a 400 invalid_request_error", err)
		}
	})
}

func equalMeals(a, b mealAnswer) bool {
	if len(a.Items) != len(b.Items) {
		return false
	}
	for i := range a.Items {
		if a.Items[i] != b.Items[i] {
			return false
		}
	}
	return true
}

func TestOpenAIAPIKey(t *testing.T) {
	ts := newTestServer(t, Config{OpenAIKey: "sk-right-key-1234"})
	tests := []struct {
		name, key string
		wantCode  string
	}{
		{"right key", "sk-right-key-1234", ""},
		{"wrong key", "sk-wrong-key-9999", "invalid_api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newOpenAIClient(ts, tt.key)
			_, err := client.Chat.Completions.New(context.Background(), textRequest("hi"))
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), want *openai.Error", err, err)
			}
			if apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != tt.wantCode || strings.Contains(apiErr.Message, tt.key) {
				t.Errorf("status %d code %q message %q", apiErr.StatusCode, apiErr.Code, apiErr.Message)
			}
		})
	}
	t.Run("no key", func(t *testing.T) {
		res := ts.do(context.Background(), t, http.MethodPost, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, nil)
		if res.status != http.StatusUnauthorized || !strings.Contains(string(res.body), `"code":null`) {
			t.Errorf("status %d body %s", res.status, res.body)
		}
	})
}

func TestOpenAIBadRequests(t *testing.T) {
	ts := newTestServer(t, Config{})
	tests := []struct {
		name, body, wantParam string
	}{
		{"not JSON", `{"model":`, ""},
		{"no model", `{"messages":[{"role":"user","content":"hi"}]}`, "model"},
		{"no messages", `{"model":"gpt-4o","messages":[]}`, "messages"},
		{"stream", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "stream"},
		{"content of a wrong type", `{"model":"gpt-4o","messages":[{"role":"user","content":5}]}`, "messages.[0].content"},
		{"image of an unknown scheme", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}`, "messages.[0].content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ts.do(context.Background(), t, http.MethodPost, "/v1/chat/completions", tt.body, nil)
			var body struct {
				Error struct {
					Type  string  `json:"type"`
					Param *string `json:"param"`
				} `json:"error"`
			}
			decodeJSON(t, res.body, &body)
			param := ""
			if body.Error.Param != nil {
				param = *body.Error.Param
			}
			if res.status != http.StatusBadRequest || body.Error.Type != "invalid_request_error" || param != tt.wantParam {
				t.Errorf("status %d type %q param %q, want 400 invalid_request_error %q", res.status, body.Error.Type, param, tt.wantParam)
			}
		})
	}
	if got := ts.Stats()[OpenAI]; got.Rejected != uint64(len(tests)) || got.OK != 0 {
		t.Errorf("stats %+v, want %d rejected", got, len(tests))
	}
}

func TestOpenAIInjectedErrors(t *testing.T) {
	tests := []struct {
		name                 string
		fault                Fault
		wantStatus           int
		wantType, wantCode   string
		wantRetry, wantRetMs string
	}{
		{"429 rate limit", Fault{ErrorRate: 1, ErrorStatus: 429, RetryAfter: 1500 * time.Millisecond}, 429, "requests", "rate_limit_exceeded", "2", "1500"},
		{"429 insufficient quota", Fault{ErrorRate: 1, ErrorStatus: 429, ErrorCode: "insufficient_quota"}, 429, "insufficient_quota", "insufficient_quota", "", ""},
		{"500", Fault{ErrorRate: 1, ErrorStatus: 500}, 500, "server_error", "", "", ""},
		{"default status is 503", Fault{Outage: OutageError}, 503, "service_unavailable_error", "server_is_overloaded", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, Config{Faults: map[Upstream]Fault{OpenAI: tt.fault}})
			client := newOpenAIClient(ts, "sk-test")
			_, err := client.Chat.Completions.New(context.Background(), textRequest("hi"))
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), want *openai.Error", err, err)
			}
			if apiErr.StatusCode != tt.wantStatus || apiErr.Type != tt.wantType || apiErr.Code != tt.wantCode || apiErr.Message == "" {
				t.Errorf("status %d type %q code %q message %q, want %d %q %q", apiErr.StatusCode, apiErr.Type, apiErr.Code, apiErr.Message, tt.wantStatus, tt.wantType, tt.wantCode)
			}
			h := apiErr.Response.Header
			if h.Get("Retry-After") != tt.wantRetry || h.Get("Retry-After-Ms") != tt.wantRetMs {
				t.Errorf("retry-after %q, retry-after-ms %q, want %q %q", h.Get("Retry-After"), h.Get("Retry-After-Ms"), tt.wantRetry, tt.wantRetMs)
			}
			if got := ts.Stats()[OpenAI]; got.Faults.Error != 1 || got.Requests != 1 {
				t.Errorf("stats %+v", got)
			}
		})
	}
}
