package fakeupstream

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

const testClaudeModel = anthropic.Model("claude-test-model")

func newAnthropicClient(ts *testServer, key string) anthropic.Client {
	return anthropic.NewClient(
		option.WithoutEnvironmentDefaults(),
		option.WithBaseURL(EndpointsAt(ts.URL()).Anthropic),
		option.WithAPIKey(key),
		option.WithMaxRetries(0),
		option.WithHTTPClient(ts.http.Client()),
	)
}

func anthropicRequestOf(blocks ...anthropic.ContentBlockParamUnion) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     testClaudeModel,
		MaxTokens: 512,
		System:    []anthropic.TextBlockParam{{Text: "You are a nutrition assistant."}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(blocks...)},
	}
}

func TestAnthropicText(t *testing.T) {
	ts := newTestServer(t, Config{})
	client := newAnthropicClient(ts, "sk-ant-test")
	msg, err := client.Messages.New(context.Background(), anthropicRequestOf(anthropic.NewTextBlock("Calories in 150 g chicken breast?")))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Type != "text" {
		t.Fatalf("content %+v, want one text block", msg.Content)
	}
	if text := msg.Content[0].Text; !strings.Contains(text, "150 g chicken breast: about 248 kcal") {
		t.Errorf("answer %q", text)
	}
	if msg.StopReason != anthropic.StopReasonEndTurn || msg.Model != testClaudeModel || !strings.HasPrefix(msg.ID, "msg_") || msg.Role != "assistant" || msg.Type != "message" {
		t.Errorf("stop_reason %q model %q id %q role %q type %q", msg.StopReason, msg.Model, msg.ID, msg.Role, msg.Type)
	}
	if msg.Usage.InputTokens == 0 || msg.Usage.OutputTokens == 0 {
		t.Errorf("usage %+v", msg.Usage)
	}
}

func TestAnthropicImageAgreesWithOpenAI(t *testing.T) {
	ts := newTestServer(t, Config{})
	client := newAnthropicClient(ts, "k")
	msg, err := client.Messages.New(context.Background(), anthropicRequestOf(
		anthropic.NewImageBlockBase64("image/png", tinyPNG),
		anthropic.NewTextBlock("What did I eat?"),
	))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var fromClaude mealAnswer
	if err := json.Unmarshal([]byte(msg.Content[0].Text), &fromClaude); err != nil || len(fromClaude.Items) == 0 {
		t.Fatalf("content %q is not a meal: %v", msg.Content[0].Text, err)
	}
	oa := newOpenAIClient(ts, "k")
	resp, err := oa.Chat.Completions.New(context.Background(), imageRequest("What did I eat?", "data:image/png;base64,"+tinyPNG))
	if err != nil {
		t.Fatalf("OpenAI New: %v", err)
	}
	var fromGPT mealAnswer
	decodeJSON(t, []byte(resp.Choices[0].Message.Content), &fromGPT)
	if !equalMeals(fromClaude, fromGPT) {
		t.Errorf("the same image: Anthropic %+v, OpenAI %+v", fromClaude, fromGPT)
	}
}

func TestAnthropicAuthAndValidation(t *testing.T) {
	ts := newTestServer(t, Config{AnthropicKey: "sk-ant-right"})
	ok := `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name       string
		header     map[string]string
		body       string
		wantStatus int
		wantType   string
		wantMsg    string
	}{
		{"right key", map[string]string{"x-api-key": "sk-ant-right", "anthropic-version": "2023-06-01"}, ok, 200, "", ""},
		{"no key", map[string]string{"anthropic-version": "2023-06-01"}, ok, 401, "authentication_error", "x-api-key header is required"},
		{"wrong key", map[string]string{"x-api-key": "nope", "anthropic-version": "2023-06-01"}, ok, 401, "authentication_error", "invalid x-api-key"},
		{"no version", map[string]string{"x-api-key": "sk-ant-right"}, ok, 400, "invalid_request_error", "anthropic-version"},
		{"no max_tokens", map[string]string{"x-api-key": "sk-ant-right", "anthropic-version": "2023-06-01"}, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error", "max_tokens"},
		{"bad media type", map[string]string{"x-api-key": "sk-ant-right", "anthropic-version": "2023-06-01"},
			`{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/tiff","data":"AAAA"}}]}]}`,
			400, "invalid_request_error", "messages.0.content.0.image.source.base64.media_type"},
		{"bad role", map[string]string{"x-api-key": "sk-ant-right", "anthropic-version": "2023-06-01"}, `{"model":"m","max_tokens":10,"messages":[{"role":"robot","content":"hi"}]}`, 400, "invalid_request_error", "messages.0.role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ts.do(context.Background(), t, http.MethodPost, "/v1/messages", tt.body, tt.header)
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.status, tt.wantStatus, res.body)
			}
			if tt.wantStatus == 200 {
				return
			}
			var body struct {
				Type  string `json:"type"`
				Error struct {
					Type    string `json:"type"`
					Message string `json:"message"`
				} `json:"error"`
				RequestID string `json:"request_id"`
			}
			decodeJSON(t, res.body, &body)
			if body.Type != "error" || body.Error.Type != tt.wantType || !strings.Contains(body.Error.Message, tt.wantMsg) {
				t.Errorf("body %s, want type %q and a message with %q", res.body, tt.wantType, tt.wantMsg)
			}
			if body.RequestID == "" || res.header.Get("request-id") != body.RequestID {
				t.Errorf("request_id %q, header %q", body.RequestID, res.header.Get("request-id"))
			}
		})
	}
}

func TestAnthropicInjectedErrors(t *testing.T) {
	tests := []struct {
		name       string
		fault      Fault
		wantStatus int
		wantType   string
		wantRetry  string
	}{
		{"default is 529 overloaded", Fault{ErrorRate: 1}, 529, "overloaded_error", ""},
		{"429 with retry-after", Fault{ErrorRate: 1, ErrorStatus: 429, RetryAfter: 3 * time.Second}, 429, "rate_limit_error", "3"},
		{"500", Fault{Outage: OutageError, ErrorStatus: 500}, 500, "api_error", ""},
		{"400", Fault{ErrorRate: 1, ErrorStatus: 400}, 400, "invalid_request_error", ""},
		{"401", Fault{ErrorRate: 1, ErrorStatus: 401}, 401, "authentication_error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, Config{Faults: map[Upstream]Fault{Anthropic: tt.fault}})
			client := newAnthropicClient(ts, "k")
			_, err := client.Messages.New(context.Background(), anthropicRequestOf(anthropic.NewTextBlock("hi")))
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), want *anthropic.Error", err, err)
			}
			if apiErr.StatusCode != tt.wantStatus || string(apiErr.Type()) != tt.wantType || apiErr.Message == "" || apiErr.RequestID == "" {
				t.Errorf("status %d type %q message %q request id %q, want %d %q", apiErr.StatusCode, apiErr.Type(), apiErr.Message, apiErr.RequestID, tt.wantStatus, tt.wantType)
			}
			if got := apiErr.Response.Header.Get("Retry-After"); got != tt.wantRetry {
				t.Errorf("retry-after %q, want %q", got, tt.wantRetry)
			}
		})
	}
}
