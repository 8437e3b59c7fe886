package fakeupstream

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/healthagent/resilience/internal/testsr24"
)

// benchmarkRequest serves one request again and again, in parallel, straight
// through ServeHTTP: the server's own cost per request, without a network.
func benchmarkRequest(b *testing.B, method, path, body string, header map[string]string) {
	data, err := testsr24.Load()
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(Config{Data: data})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(method, path, bytes.NewReader([]byte(body)))
			for k, v := range header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

func BenchmarkOpenAIText(b *testing.B) {
	benchmarkRequest(b, http.MethodPost, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"150 g chicken breast and 200 g rice"}]}`, nil)
}

func BenchmarkOpenAIImage(b *testing.B) {
	benchmarkRequest(b, http.MethodPost, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"my lunch"},{"type":"image_url","image_url":{"url":"data:image/png;base64,`+tinyPNG+`"}}]}]}`, nil)
}

func BenchmarkAnthropicText(b *testing.B) {
	benchmarkRequest(b, http.MethodPost, "/v1/messages", `{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"150 g salmon"}]}`, map[string]string{"anthropic-version": "2023-06-01"})
}

// BenchmarkUSDASearch repeats one query, as a load test does: the search
// cache answers all but the first.
func BenchmarkUSDASearch(b *testing.B) {
	benchmarkRequest(b, http.MethodGet, "/fdc/v1/foods/search?query=chicken+breast&pageSize=5", "", nil)
}

func BenchmarkUSDAFood(b *testing.B) {
	benchmarkRequest(b, http.MethodGet, "/fdc/v1/food/5064", "", nil)
}

func BenchmarkWebSearch(b *testing.B) {
	benchmarkRequest(b, http.MethodGet, "/web/nutrition?q=banana", "", nil)
}
