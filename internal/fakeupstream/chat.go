package fakeupstream

import (
	"encoding/base64"
	"encoding/json"
	"hash"
	"hash/fnv"
	"io"
	"strings"
)

// imageTokens is the prompt tokens counted for each image.
const imageTokens = 800

// chatInput is what the AI upstreams' answers depend on: the text of the
// last user message (a photo's caption, or the question), the images of
// that message, and the size of the whole prompt for the usage figures.
type chatInput struct {
	// structured: the request asks for JSON (a JSON schema or JSON mode),
	// so a text gets the meal JSON too.
	structured  bool
	userText    strings.Builder
	images      int
	imageHash   hash.Hash64
	promptChars int
	promptImgs  int
}

func newChatInput() *chatInput { return &chatInput{imageHash: fnv.New64a()} }

// startMessage begins a user message: only the last user message's text
// and images shape the answer.
func (in *chatInput) startMessage() {
	in.userText.Reset()
	in.images = 0
	in.imageHash.Reset()
}

// addText adds a text block of a message; user says whether the message
// is the user's.
func (in *chatInput) addText(text string, user bool) {
	in.promptChars += len(text)
	if user {
		if in.userText.Len() > 0 {
			in.userText.WriteByte('\n')
		}
		in.userText.WriteString(text)
	}
}

// addPlain reads content that both APIs accept in the same form, none
// (absent or null) or a plain string, and reports whether raw was such;
// else the caller reads its own array of parts or blocks.
func (in *chatInput) addPlain(raw json.RawMessage, user bool) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return false
	}
	in.addText(text, user)
	return true
}

// addImageBase64 adds an image given as base64 and reports whether the
// base64 was valid.
func (in *chatInput) addImageBase64(data string, user bool) bool {
	in.promptImgs++
	if !user {
		return base64Valid(data)
	}
	in.images++
	var buf [4096]byte
	_, err := io.CopyBuffer(in.imageHash, base64.NewDecoder(base64.StdEncoding, strings.NewReader(data)), buf[:])
	return err == nil && data != ""
}

// addImageURL adds an image given by URL; the URL stands for its bytes.
func (in *chatInput) addImageURL(url string, user bool) {
	in.promptImgs++
	if user {
		in.images++
		_, _ = io.WriteString(in.imageHash, url)
	}
}

// base64Valid reports whether data is non-empty standard base64.
func base64Valid(data string) bool {
	var buf [4096]byte
	_, err := io.CopyBuffer(io.Discard, base64.NewDecoder(base64.StdEncoding, strings.NewReader(data)), buf[:])
	return err == nil && data != ""
}

// answer is the assistant's content: the meal JSON for a photo or for a
// request asking for structured output, a short text otherwise.
func (in *chatInput) answer(m *mealWriter) string {
	if in.images > 0 || in.structured {
		return m.mealJSON(in.userText.String(), in.imageHash.Sum64(), in.images > 0)
	}
	return m.answerText(in.userText.String())
}

// promptTokens and completionTokens estimate token counts: about four
// characters a token.
func (in *chatInput) promptTokens() int { return (in.promptChars+3)/4 + imageTokens*in.promptImgs }

func completionTokens(content string) int { return (len(content) + 3) / 4 }

// idSuffix is the hex part of a call's request id.
func idSuffix(c *call) string { return strings.TrimPrefix(c.id, "req_") }
