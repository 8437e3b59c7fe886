package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"

	"github.com/healthagent/resilience/pkg/retry"
)

// provider is one LLM vendor, through its official SDK with the SDK's own
// retries off: the Guard's retry owns that.
type provider interface {
	// describe lists the foods of a meal photo and/or caption, as the JSON
	// of visionPrompt asks.
	describe(ctx context.Context, photo []byte, mediaType, caption string) (string, error)
	// ask answers a question.
	ask(ctx context.Context, question string) (string, error)
}

const (
	visionPrompt = `You are a nutrition assistant. List the foods of the meal the user shows or describes, ` +
		`each with its estimated weight in grams. Answer with JSON only: {"items":[{"name":"…","grams":100}]}`
	chatPrompt = `You are a nutrition assistant. Answer briefly and kindly.`
)

type openAIProvider struct {
	client openai.Client
	model  string
}

func newOpenAI(baseURL, key, model string, hc *http.Client) *openAIProvider {
	opts := []ooption.RequestOption{ooption.WithMaxRetries(0), ooption.WithAPIKey(key), ooption.WithHTTPClient(hc)}
	if baseURL != "" {
		opts = append(opts, ooption.WithBaseURL(baseURL))
	}
	return &openAIProvider{client: openai.NewClient(opts...), model: model}
}

func (p *openAIProvider) describe(ctx context.Context, photo []byte, mediaType, caption string) (string, error) {
	var parts []openai.ChatCompletionContentPartUnionParam
	if caption != "" {
		parts = append(parts, openai.TextContentPart(caption))
	}
	if len(photo) > 0 {
		url := "data:" + mediaType + ";base64," + base64.StdEncoding.EncodeToString(photo)
		parts = append(parts, openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: url}))
	}
	return p.complete(ctx, visionPrompt, openai.UserMessage(parts))
}

func (p *openAIProvider) ask(ctx context.Context, question string) (string, error) {
	return p.complete(ctx, chatPrompt, openai.UserMessage(question))
}

func (p *openAIProvider) complete(ctx context.Context, system string, user openai.ChatCompletionMessageParamUnion) (string, error) {
	resp, err := p.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    openai.ChatModel(p.model),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system), user},
	})
	if err != nil {
		return "", sdkError("openai", err)
	}
	if len(resp.Choices) == 0 || resp.Choices[0].Message.Content == "" {
		return "", errors.New("openai: empty answer")
	}
	return resp.Choices[0].Message.Content, nil
}

type anthropicProvider struct {
	client anthropic.Client
	model  string
}

func newAnthropic(baseURL, key, model string, hc *http.Client) *anthropicProvider {
	opts := []aoption.RequestOption{aoption.WithoutEnvironmentDefaults(), aoption.WithMaxRetries(0), aoption.WithAPIKey(key), aoption.WithHTTPClient(hc)}
	if baseURL != "" {
		opts = append(opts, aoption.WithBaseURL(baseURL))
	}
	return &anthropicProvider{client: anthropic.NewClient(opts...), model: model}
}

func (p *anthropicProvider) describe(ctx context.Context, photo []byte, mediaType, caption string) (string, error) {
	var blocks []anthropic.ContentBlockParamUnion
	if len(photo) > 0 {
		blocks = append(blocks, anthropic.NewImageBlockBase64(mediaType, base64.StdEncoding.EncodeToString(photo)))
	}
	if caption != "" {
		blocks = append(blocks, anthropic.NewTextBlock(caption))
	}
	return p.complete(ctx, visionPrompt, blocks)
}

func (p *anthropicProvider) ask(ctx context.Context, question string) (string, error) {
	return p.complete(ctx, chatPrompt, []anthropic.ContentBlockParamUnion{anthropic.NewTextBlock(question)})
}

func (p *anthropicProvider) complete(ctx context.Context, system string, blocks []anthropic.ContentBlockParamUnion) (string, error) {
	msg, err := p.client.Messages.New(ctx, anthropic.MessageNewParams{
		Model:     anthropic.Model(p.model),
		MaxTokens: 1024,
		System:    []anthropic.TextBlockParam{{Text: system}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(blocks...)},
	})
	if err != nil {
		return "", sdkError("anthropic", err)
	}
	var text strings.Builder
	for _, b := range msg.Content {
		text.WriteString(b.Text)
	}
	if text.Len() == 0 {
		return "", errors.New("anthropic: empty answer")
	}
	return text.String(), nil
}

// statusError carries an SDK error's HTTP status and Retry-After to the
// retry classifier (retry.StatusCoder, retry.RetryAfterer); errors.Is/As
// still reach the SDK's error.
type statusError struct {
	err     error
	code    int
	wait    time.Duration
	hasWait bool
}

func (e *statusError) Error() string                     { return e.err.Error() }
func (e *statusError) Unwrap() error                     { return e.err }
func (e *statusError) StatusCode() int                   { return e.code }
func (e *statusError) RetryAfter() (time.Duration, bool) { return e.wait, e.hasWait }

// sdkError adapts the OpenAI and Anthropic SDK errors.
func sdkError(vendor string, err error) error {
	var oe *openai.Error
	var ae *anthropic.Error
	var resp *http.Response
	code := 0
	switch {
	case errors.As(err, &oe):
		code, resp = oe.StatusCode, oe.Response
	case errors.As(err, &ae):
		code, resp = ae.StatusCode, ae.Response
	default:
		return fmt.Errorf("%s: %w", vendor, err)
	}
	se := &statusError{err: fmt.Errorf("%s: HTTP %d: %w", vendor, code, err), code: code}
	if resp != nil {
		se.wait, se.hasWait = retry.RetryAfterFromHeader(resp.Header)
	}
	return se
}

// mealItem is one food of a meal, as the vision step reads it.
type mealItem struct {
	Name  string  `json:"name"`
	Grams float64 `json:"grams"`
}

// parseMeal reads the JSON an LLM gave for a meal, tolerating prose or
// code fences around it; anything else is an error, so the chain tries the
// next step.
func parseMeal(answer string) ([]mealItem, error) {
	start, end := strings.IndexByte(answer, '{'), strings.LastIndexByte(answer, '}')
	if start < 0 || end < start {
		return nil, fmt.Errorf("vision: no JSON in the answer")
	}
	var meal struct {
		Items []mealItem `json:"items"`
	}
	if err := json.Unmarshal([]byte(answer[start:end+1]), &meal); err != nil {
		return nil, fmt.Errorf("vision: unreadable answer: %w", err)
	}
	if len(meal.Items) == 0 || len(meal.Items) > 20 {
		return nil, fmt.Errorf("vision: %d items in the answer, want 1 to 20", len(meal.Items))
	}
	for i, it := range meal.Items {
		name := strings.TrimSpace(it.Name)
		if name == "" || len(name) > 100 || !(it.Grams > 0 && it.Grams <= 5000) {
			return nil, fmt.Errorf("vision: item %d (%q, %v g) is not a food with a weight", i, it.Name, it.Grams)
		}
		meal.Items[i].Name = name
	}
	return meal.Items, nil
}
