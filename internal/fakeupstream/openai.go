package fakeupstream

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// openAIRequest is the part of a chat completion request the server reads.
type openAIRequest struct {
	Model          string `json:"model"`
	Stream         bool   `json:"stream"`
	ResponseFormat *struct {
		Type string `json:"type"` // "text", "json_object" or "json_schema"
	} `json:"response_format"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

// openAIPart is a content part: {"type":"text","text":…} or
// {"type":"image_url","image_url":{"url":…}}.
type openAIPart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	ImageURL *struct {
		URL string `json:"url"`
	} `json:"image_url"`
}

type openAICompletion struct {
	ID                string         `json:"id"`
	Object            string         `json:"object"`
	Created           int64          `json:"created"`
	Model             string         `json:"model"`
	Choices           []openAIChoice `json:"choices"`
	Usage             openAIUsage    `json:"usage"`
	ServiceTier       string         `json:"service_tier"`
	SystemFingerprint string         `json:"system_fingerprint"`
}

type openAIChoice struct {
	Index        int           `json:"index"`
	Message      openAIMessage `json:"message"`
	Logprobs     *struct{}     `json:"logprobs"`
	FinishReason string        `json:"finish_reason"`
}

type openAIMessage struct {
	Role        string     `json:"role"`
	Content     string     `json:"content"`
	Refusal     *string    `json:"refusal"`
	Annotations []struct{} `json:"annotations"`
}

type openAIUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
		AudioTokens  int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int `json:"reasoning_tokens"`
		AudioTokens              int `json:"audio_tokens"`
		AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

// chatCompletion answers POST /v1/chat/completions.
func (s *Server) chatCompletion(r *http.Request, c *call) reply {
	if rep, ok := s.checkOpenAIKey(r, c); !ok {
		return rep
	}
	var req openAIRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		return openAIInvalid(c, "", "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)")
	}
	switch {
	case req.Model == "":
		return openAIInvalid(c, "model", "you must provide a model parameter")
	case len(req.Messages) == 0:
		return openAIInvalid(c, "messages", "[] is too short - 'messages'")
	case req.Stream:
		return openAIInvalid(c, "stream", "this server does not stream; send stream: false")
	}
	in := newChatInput()
	in.structured = req.ResponseFormat != nil && (req.ResponseFormat.Type == "json_schema" || req.ResponseFormat.Type == "json_object")
	for i, m := range req.Messages {
		user := m.Role == "user"
		if user {
			in.startMessage()
		}
		if msg, ok := readOpenAIContent(in, m.Content, user); !ok {
			return openAIInvalid(c, fmt.Sprintf("messages.[%d].content", i), msg)
		}
	}
	content := in.answer(s.meals)
	out := openAICompletion{
		ID:      "chatcmpl-" + idSuffix(c),
		Object:  "chat.completion",
		Created: c.now.Unix(),
		Model:   req.Model,
		Choices: []openAIChoice{{
			Message:      openAIMessage{Role: "assistant", Content: content, Annotations: []struct{}{}},
			FinishReason: "stop",
		}},
		ServiceTier:       "default",
		SystemFingerprint: "fp_fakeupstream",
	}
	out.Usage.PromptTokens = in.promptTokens()
	out.Usage.CompletionTokens = completionTokens(content)
	out.Usage.TotalTokens = out.Usage.PromptTokens + out.Usage.CompletionTokens
	return jsonReply(http.StatusOK, out, http.Header{"X-Request-Id": {c.id}})
}

// readOpenAIContent reads a message's content, a string or an array of
// parts, into in; on invalid content it returns OpenAI's message.
func readOpenAIContent(in *chatInput, raw json.RawMessage, user bool) (string, bool) {
	if in.addPlain(raw, user) {
		return "", true
	}
	var parts []openAIPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "content must be a string or an array of content parts", false
	}
	for _, p := range parts {
		switch p.Type {
		case "text":
			in.addText(p.Text, user)
		case "image_url":
			if p.ImageURL == nil || p.ImageURL.URL == "" {
				return "image_url parts need an image_url.url", false
			}
			url := p.ImageURL.URL
			switch {
			case strings.HasPrefix(url, "data:"):
				meta, data, ok := strings.Cut(strings.TrimPrefix(url, "data:"), ",")
				if !ok || !strings.HasPrefix(meta, "image/") || !strings.HasSuffix(meta, ";base64") || !in.addImageBase64(data, user) {
					return "Invalid image data URL: want data:image/<type>;base64,<data>", false
				}
			case strings.HasPrefix(url, "https://"), strings.HasPrefix(url, "http://"):
				in.addImageURL(url, user)
			default:
				return "Invalid image URL: want an http(s) URL or a base64 data URL", false
			}
		}
	}
	return "", true
}

// checkOpenAIKey answers OpenAI's 401 when a key is configured and the
// request does not carry it.
func (s *Server) checkOpenAIKey(r *http.Request, c *call) (reply, bool) {
	if s.keys.OpenAIKey == "" {
		return reply{}, true
	}
	auth := r.Header.Get("Authorization")
	key, bearer := strings.CutPrefix(auth, "Bearer ")
	if !bearer || key == "" {
		return openAIErrorBody(c, http.StatusUnauthorized, "invalid_request_error", "", "",
			"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."), false
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(s.keys.OpenAIKey)) != 1 {
		return openAIErrorBody(c, http.StatusUnauthorized, "invalid_request_error", "", "invalid_api_key",
			"Incorrect API key provided: "+maskKey(key)+". You can find your API key at https://platform.openai.com/account/api-keys."), false
	}
	return reply{}, true
}

// maskKey shows only the ends of a key, as OpenAI's 401 does.
func maskKey(key string) string {
	if len(key) <= 8 {
		return strings.Repeat("*", len(key))
	}
	return key[:3] + strings.Repeat("*", len(key)-7) + key[len(key)-4:]
}

// openAIInvalid is OpenAI's 400 invalid_request_error about param.
func openAIInvalid(c *call, param, message string) reply {
	return openAIErrorBody(c, http.StatusBadRequest, "invalid_request_error", param, "", message)
}

// openAIError is the error OpenAI sends with status; code, when set,
// replaces its code.
func openAIError(status int, code string, c *call) reply {
	typ, defaultCode, message := "invalid_request_error", "", "The request could not be served."
	switch {
	case status == http.StatusUnauthorized:
		defaultCode, message = "invalid_api_key", "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
	case status == http.StatusForbidden:
		defaultCode, message = "unsupported_country_region_territory", "Country, region, or territory not supported"
	case status == http.StatusNotFound:
		defaultCode, message = "model_not_found", "The model does not exist or you do not have access to it."
	case status == http.StatusRequestEntityTooLarge:
		message = "The request is too large."
	case status == http.StatusTooManyRequests:
		typ, defaultCode, message = "requests", "rate_limit_exceeded", "Rate limit reached for requests per min (RPM). Please try again later. Visit https://platform.openai.com/account/rate-limits to learn more."
	case status == http.StatusServiceUnavailable:
		typ, defaultCode, message = "service_unavailable_error", "server_is_overloaded", "The server is overloaded or not ready yet."
	case status >= 500:
		typ, message = "server_error", "The server had an error while processing your request. Sorry about that!"
	}
	if code == "insufficient_quota" {
		typ, message = code, "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
	}
	if code == "" {
		code = defaultCode
	}
	return openAIErrorBody(c, status, typ, "", code, message)
}

// openAIErrorBody builds {"error":{"message","type","param","code"}};
// empty param and code are null.
func openAIErrorBody(c *call, status int, typ, param, code, message string) reply {
	type body struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	b := body{Message: message, Type: typ}
	if param != "" {
		b.Param = &param
	}
	if code != "" {
		b.Code = &code
	}
	return jsonReply(status, map[string]body{"error": b}, http.Header{"X-Request-Id": {c.id}})
}

// jsonReply marshals v into a reply.
func jsonReply(status int, v any, header http.Header) reply {
	body, err := json.Marshal(v)
	if err != nil { // the server's own types always marshal
		return reply{status: http.StatusInternalServerError, body: []byte(`{"error":"marshal"}`)}
	}
	return reply{status: status, body: body, header: header}
}
