package fakeupstream

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
)

// anthropicRequest is the part of a Messages request the server reads.
type anthropicRequest struct {
	Model     string          `json:"model"`
	MaxTokens int             `json:"max_tokens"`
	Stream    bool            `json:"stream"`
	System    json.RawMessage `json:"system"`
	// OutputConfig asks for structured output:
	// {"format":{"type":"json_schema","schema":{…}}}.
	OutputConfig *struct {
		Format *struct {
			Type string `json:"type"`
		} `json:"format"`
	} `json:"output_config"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

// anthropicBlock is a content block: {"type":"text","text":…} or
// {"type":"image","source":{"type":"base64","media_type":…,"data":…}}
// (or a source of type "url").
type anthropicBlock struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Source *struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type"`
		Data      string `json:"data"`
		URL       string `json:"url"`
	} `json:"source"`
}

type anthropicMessage struct {
	ID           string               `json:"id"`
	Type         string               `json:"type"`
	Role         string               `json:"role"`
	Model        string               `json:"model"`
	Content      []anthropicTextBlock `json:"content"`
	StopReason   string               `json:"stop_reason"`
	StopSequence *string              `json:"stop_sequence"`
	Usage        anthropicUsage       `json:"usage"`
	Container    *struct{}            `json:"container"`
}

type anthropicTextBlock struct {
	Type      string    `json:"type"`
	Text      string    `json:"text"`
	Citations *struct{} `json:"citations"`
}

type anthropicUsage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	CacheCreation            struct {
		Ephemeral5mInputTokens int `json:"ephemeral_5m_input_tokens"`
		Ephemeral1hInputTokens int `json:"ephemeral_1h_input_tokens"`
	} `json:"cache_creation"`
	OutputTokens int    `json:"output_tokens"`
	ServiceTier  string `json:"service_tier"`
}

// anthropicMediaType reports whether the Messages API takes images of
// media type t.
func anthropicMediaType(t string) bool {
	switch t {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
		return true
	}
	return false
}

// message answers POST /v1/messages.
func (s *Server) message(r *http.Request, c *call) reply {
	if rep, ok := s.checkAnthropicHeaders(r, c); !ok {
		return rep
	}
	var req anthropicRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		return anthropicError(http.StatusBadRequest, "There was an issue with your request body: it is not valid JSON.", c)
	}
	switch {
	case req.Model == "":
		return anthropicError(http.StatusBadRequest, "model: Field required", c)
	case req.MaxTokens <= 0:
		return anthropicError(http.StatusBadRequest, "max_tokens: Field required (a positive integer)", c)
	case len(req.Messages) == 0:
		return anthropicError(http.StatusBadRequest, "messages: at least one message is required", c)
	case req.Stream:
		return anthropicError(http.StatusBadRequest, "stream: this server does not stream; send stream: false", c)
	}
	in := newChatInput()
	in.structured = req.OutputConfig != nil && req.OutputConfig.Format != nil && req.OutputConfig.Format.Type == "json_schema"
	if msg, ok := readAnthropicContent(in, req.System, false, "system"); !ok {
		return anthropicError(http.StatusBadRequest, msg, c)
	}
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return anthropicError(http.StatusBadRequest, fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i), c)
		}
		user := m.Role == "user"
		if user {
			in.startMessage()
		}
		if msg, ok := readAnthropicContent(in, m.Content, user, fmt.Sprintf("messages.%d.content", i)); !ok {
			return anthropicError(http.StatusBadRequest, msg, c)
		}
	}
	content := in.answer(s.meals)
	out := anthropicMessage{
		ID:         "msg_" + idSuffix(c),
		Type:       "message",
		Role:       "assistant",
		Model:      req.Model,
		Content:    []anthropicTextBlock{{Type: "text", Text: content}},
		StopReason: "end_turn",
	}
	out.Usage.InputTokens = in.promptTokens()
	out.Usage.OutputTokens = completionTokens(content)
	out.Usage.ServiceTier = "standard"
	return jsonReply(http.StatusOK, out, http.Header{"Request-Id": {c.id}})
}

// readAnthropicContent reads a string or an array of blocks into in; on
// invalid content it returns Anthropic's message, about path.
func readAnthropicContent(in *chatInput, raw json.RawMessage, user bool, path string) (string, bool) {
	if in.addPlain(raw, user) {
		return "", true
	}
	var blocks []anthropicBlock
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return path + ": Input should be a valid string or a list of content blocks", false
	}
	for i, b := range blocks {
		switch b.Type {
		case "text":
			in.addText(b.Text, user)
		case "image":
			at := fmt.Sprintf("%s.%d.image.source", path, i)
			if b.Source == nil {
				return at + ": Field required", false
			}
			switch b.Source.Type {
			case "base64":
				if !anthropicMediaType(b.Source.MediaType) {
					return at + ".base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'", false
				}
				if !in.addImageBase64(b.Source.Data, user) {
					return at + ".base64.data: The image data is not valid base64.", false
				}
			case "url":
				if b.Source.URL == "" {
					return at + ".url.url: Field required", false
				}
				in.addImageURL(b.Source.URL, user)
			default:
				return at + ": Input tag '" + b.Source.Type + "' found using 'type' does not match any of the expected tags: 'base64', 'url'", false
			}
		}
	}
	return "", true
}

// checkAnthropicHeaders answers Anthropic's 401 when a key is configured
// and the request does not carry it, and its 400 when anthropic-version
// is missing.
func (s *Server) checkAnthropicHeaders(r *http.Request, c *call) (reply, bool) {
	if s.keys.AnthropicKey != "" {
		key := r.Header.Get("X-Api-Key")
		if key == "" {
			return anthropicError(http.StatusUnauthorized, "x-api-key header is required", c), false
		}
		if subtle.ConstantTimeCompare([]byte(key), []byte(s.keys.AnthropicKey)) != 1 {
			return anthropicError(http.StatusUnauthorized, "invalid x-api-key", c), false
		}
	}
	if r.Header.Get("Anthropic-Version") == "" {
		return anthropicError(http.StatusBadRequest, "anthropic-version: header is required", c), false
	}
	return reply{}, true
}

// anthropicError is Anthropic's error with status:
// {"type":"error","error":{"type":…,"message":…},"request_id":…}. An empty
// message is the usual one for the status.
func anthropicError(status int, message string, c *call) reply {
	typ, usual := anthropicErrorType(status)
	if message == "" {
		message = usual
	}
	type detail struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	body := struct {
		Type      string `json:"type"`
		Error     detail `json:"error"`
		RequestID string `json:"request_id"`
	}{"error", detail{typ, message}, c.id}
	return jsonReply(status, body, http.Header{"Request-Id": {c.id}})
}

// anthropicErrorType maps a status to Anthropic's error type and usual
// message.
func anthropicErrorType(status int) (typ, message string) {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error", "There was an issue with the format or content of your request."
	case http.StatusUnauthorized:
		return "authentication_error", "invalid x-api-key"
	case http.StatusPaymentRequired:
		return "billing_error", "Your credit balance is too low to access the Anthropic API."
	case http.StatusForbidden:
		return "permission_error", "Your API key does not have permission to use the specified resource."
	case http.StatusNotFound:
		return "not_found_error", "The requested resource could not be found."
	case http.StatusRequestEntityTooLarge:
		return "request_too_large", "Request exceeds the maximum allowed number of bytes."
	case http.StatusTooManyRequests:
		return "rate_limit_error", "Number of requests has exceeded your rate limit. Please try again later."
	case http.StatusInternalServerError:
		return "api_error", "Internal server error"
	case http.StatusGatewayTimeout:
		return "timeout_error", "Request timed out"
	case 529:
		return "overloaded_error", "Overloaded"
	}
	if status >= 500 {
		return "api_error", "Internal server error"
	}
	return "invalid_request_error", "There was an issue with the format or content of your request."
}
