package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/healthagent/resilience/internal/fakeupstream"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// No API key or password appears in logs, answers, breaker state or metrics,
// even when every upstream refuses the keys and the stores are unreachable
// with passwords in their URLs.
func TestSecretsNeverLeak(t *testing.T) {
	const (
		openAIKey    = "sk-SECRET0penAIkey1234567890"
		anthropicKey = "SECRETanthropicKey0987654321"
		usdaKey      = "SECRETusdaKey1122334455"
		redisPass    = "SECRETredisPassword"
		pgPass       = "SECRETpgPassword"
	)
	fake, err := fakeupstream.New(fakeupstream.Config{OpenAIKey: "other", AnthropicKey: "other", USDAKey: "other"})
	if err != nil {
		t.Fatal(err)
	}
	upstream := httptest.NewServer(fake)
	t.Cleanup(upstream.Close)
	ep := fakeupstream.EndpointsAt(upstream.URL)
	cfg, err := loadConfig(envOf(map[string]string{
		"REDIS_URL":       "redis://user:" + redisPass + "@127.0.0.1:1/0",
		"DATABASE_URL":    "postgres://postgres:" + pgPass + "@127.0.0.1:1/x?sslmode=disable",
		"OPENAI_BASE_URL": ep.OpenAI, "OPENAI_API_KEY": openAIKey,
		"ANTHROPIC_BASE_URL": ep.Anthropic, "ANTHROPIC_API_KEY": anthropicKey,
		"USDA_BASE_URL": upstream.URL, "USDA_API_KEY": usdaKey,
		"WEB_SEARCH_URL":       ep.Web,
		"API_RETRY_BASE_DELAY": "1ms",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	s, err := newService(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close(context.Background()) })
	api, metrics := s.apiHandler(), s.metricsHandler()
	var seen strings.Builder
	for i := 0; i < 8; i++ {
		_, _ = post(t, api, "/v1/meals", `{"caption":"150 g chicken breast"}`)
		rec, _ := post(t, api, "/v1/chat", `{"message":"hello"}`)
		seen.WriteString(rec.Body.String())
		rec, _ = post(t, api, "/v1/meals", `{"photo_base64":"aGVsbG8gd29ybGQ=","media_type":"image/png"}`)
		seen.WriteString(rec.Body.String())
	}
	for _, path := range []string{"/v1/breakers", "/readyz"} {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		seen.WriteString(rec.Body.String())
	}
	rec := httptest.NewRecorder()
	metrics.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	seen.Write(body)
	seen.WriteString(logs.String())
	if !strings.Contains(logs.String(), "[FALLBACK]") || !strings.Contains(logs.String(), "not reachable") {
		t.Fatalf("the failures were not logged at all:\n%s", logs.String())
	}
	for _, secret := range []string{openAIKey, anthropicKey, usdaKey, redisPass, pgPass, "SECRET"} {
		if i := strings.Index(seen.String(), secret); i >= 0 {
			t.Fatalf("%q leaked: …%s…", secret, seen.String()[max(0, i-200):min(len(seen.String()), i+100)])
		}
	}
}
