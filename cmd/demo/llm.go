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
	"github.com/openai/openai-go/v3/shared"

	"github.com/healthagent/resilience/pkg/retry"
)

// provider is one LLM vendor, through its official SDK with the SDK's own
// retries off: the Guard's retry owns that.
type provider interface {
	// describe lists the foods of a meal photo and/or caption, as
	// structured output in mealSchema's JSON.
	describe(ctx context.Context, photo []byte, mediaType, caption string) (string, error)
	// ask answers a question; facts, if not empty, are figures the answer
	// must use (see chatFacts).
	ask(ctx context.Context, question, facts string) (string, error)
}

const (
	visionPrompt = `You are a nutrition assistant. List the foods of the meal the user shows or describes, ` +
		`each with its estimated weight in grams: the weight the user gives, else the usual portion ` +
		`(a large egg is 50 g, a slice of bread 28 g, a tablespoon of butter 14 g). Name each food plainly, ` +
		`in the form eaten ("cooked white rice"), and a mixed dish by its name ("chicken caesar salad").`
	chatPrompt = `You are a nutrition assistant. Answer briefly and kindly.`
)

// mealSchema is the JSON schema of a meal, for the models' structured
// output: {"items":[{"name":"scrambled eggs","grams":120}]}.
var mealSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"items": map[string]any{
			"type": "array",
			"items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"name":  map[string]any{"type": "string", "description": "the food or dish, as eaten"},
					"grams": map[string]any{"type": "number", "description": "its weight in grams"},
				},
				"required":             []string{"name", "grams"},
				"additionalProperties": false,
			},
		},
	},
	"required":             []string{"items"},
	"additionalProperties": false,
}

// systemWith appends the facts a chat answer must use to a system prompt.
func systemWith(prompt, facts string) string {
	if facts == "" {
		return prompt
	}
	return prompt + " Use these figures, from USDA data and household portions, for the foods the user names: " + facts
}

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
	format := openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
		JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "meal", Strict: openai.Bool(true), Schema: mealSchema},
	}}
	return p.complete(ctx, visionPrompt, openai.UserMessage(parts), format)
}

func (p *openAIProvider) ask(ctx context.Context, question, facts string) (string, error) {
	return p.complete(ctx, systemWith(chatPrompt, facts), openai.UserMessage(question), openai.ChatCompletionNewParamsResponseFormatUnion{})
}

func (p *openAIProvider) complete(ctx context.Context, system string, user openai.ChatCompletionMessageParamUnion, format openai.ChatCompletionNewParamsResponseFormatUnion) (string, error) {
	resp, err := p.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:          openai.ChatModel(p.model),
		Messages:       []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system), user},
		ResponseFormat: format,
	})
	if err != nil {
		return "", sdkError("openai", err)
	}
	if len(resp.Choices) == 0 || resp.Choices[0].Message.Content == "" {
		return "", badAnswer(errors.New("openai: empty answer"))
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
	return p.complete(ctx, visionPrompt, blocks, anthropic.OutputConfigParam{Format: anthropic.JSONOutputFormatParam{Schema: mealSchema}})
}

func (p *anthropicProvider) ask(ctx context.Context, question, facts string) (string, error) {
	return p.complete(ctx, systemWith(chatPrompt, facts), []anthropic.ContentBlockParamUnion{anthropic.NewTextBlock(question)}, anthropic.OutputConfigParam{})
}

func (p *anthropicProvider) complete(ctx context.Context, system string, blocks []anthropic.ContentBlockParamUnion, output anthropic.OutputConfigParam) (string, error) {
	msg, err := p.client.Messages.New(ctx, anthropic.MessageNewParams{
		Model:        anthropic.Model(p.model),
		MaxTokens:    1024,
		System:       []anthropic.TextBlockParam{{Text: system}},
		Messages:     []anthropic.MessageParam{anthropic.NewUserMessage(blocks...)},
		OutputConfig: output,
	})
	if err != nil {
		return "", sdkError("anthropic", err)
	}
	var text strings.Builder
	for _, b := range msg.Content {
		text.WriteString(b.Text)
	}
	if text.Len() == 0 {
		return "", badAnswer(errors.New("anthropic: empty answer"))
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

// badAnswerError is a model's answer, received with a success status, that
// is not what was asked for: a body or a message that is not the JSON
// asked for, a food without a name or a sane weight, an empty answer. It
// is a failure of the model (chain.BadResponse): its breaker counts it,
// api_failures_total shows it as error_type "bad_response", so that a
// broken integration shows apart from an outage, and the chain falls back.
// A well-formed answer that lists no food is no error (see parseMeal).
type badAnswerError struct{ err error }

// badAnswer marks err as a model's bad answer.
func badAnswer(err error) error { return &badAnswerError{err: err} }

func (e *badAnswerError) Error() string     { return e.err.Error() }
func (e *badAnswerError) Unwrap() error     { return e.err }
func (e *badAnswerError) BadResponse() bool { return true }

// sdkError adapts the OpenAI and Anthropic SDK errors: an HTTP error
// carries its status, a body that is not JSON is a bad answer.
func sdkError(vendor string, err error) error {
	var oe *openai.Error
	var ae *anthropic.Error
	var resp *http.Response
	var syntax *json.SyntaxError
	var wrongType *json.UnmarshalTypeError
	code := 0
	switch {
	case errors.As(err, &oe):
		code, resp = oe.StatusCode, oe.Response
	case errors.As(err, &ae):
		code, resp = ae.StatusCode, ae.Response
	case errors.As(err, &syntax) || errors.As(err, &wrongType):
		return badAnswer(fmt.Errorf("%s: %w", vendor, err))
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

// parseMeal reads the JSON a model gave for a meal, tolerating prose or
// code fences around it. A well-formed meal without foods ({"items":[]}:
// the photo or caption shows no food) is the model's answer: no items, no
// error. Anything else that is not 1 to maxModelItems foods, each with a
// name and a weight from over 0 to 5000 g, is a bad answer
// (badAnswerError): a failure of the model, so the chain tries the next
// step.
func parseMeal(answer string) ([]mealItem, error) {
	start, end := strings.IndexByte(answer, '{'), strings.LastIndexByte(answer, '}')
	if start < 0 || end < start {
		return nil, badAnswer(errors.New("vision: no JSON in the answer"))
	}
	var got struct {
		Items *[]mealItem `json:"items"`
	}
	if err := json.Unmarshal([]byte(answer[start:end+1]), &got); err != nil {
		return nil, badAnswer(fmt.Errorf("vision: unreadable answer: %w", err))
	}
	if got.Items == nil {
		return nil, badAnswer(errors.New(`vision: the answer has no "items" list`))
	}
	items := *got.Items
	if len(items) > maxModelItems {
		return nil, badAnswer(fmt.Errorf("vision: %d items in the answer, want at most %d", len(items), maxModelItems))
	}
	for i, it := range items {
		name := strings.TrimSpace(it.Name)
		if name == "" || len(name) > 100 || !(it.Grams > 0 && it.Grams <= 5000) {
			return nil, badAnswer(fmt.Errorf("vision: item %d (%q, %v g) is not a food with a weight", i, it.Name, it.Grams))
		}
		items[i].Name = name
	}
	return items, nil
}

// maxModelItems is the most foods a model's meal may list.
const maxModelItems = 20
