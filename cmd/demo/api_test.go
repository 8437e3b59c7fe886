package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/healthagent/resilience/internal/fakeupstream"
)

// newTestService builds a replica with the fake upstream in-process,
// breakers per replica and no PostgreSQL (the embedded defaults), closed at
// cleanup.
func newTestService(t testing.TB, env map[string]string) *service {
	t.Helper()
	base := map[string]string{"CIRCUIT_BREAKER_STORE": "memory", "DATABASE_URL": "postgres://127.0.0.1:1/x?sslmode=disable",
		"API_RETRY_BASE_DELAY": "1ms"}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := loadConfig(envOf(base))
	if err != nil {
		t.Fatal(err)
	}
	s, err := newService(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close(context.Background()) })
	return s
}

func post(t testing.TB, h http.Handler, path, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec, out
}

func TestMalformedRequestsGet400WithAMessage(t *testing.T) {
	h := newTestService(t, nil).apiHandler()
	photo := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\n0000"))
	tests := []struct {
		path, body, want string
	}{
		{"/v1/meals", `not json`, "not the expected JSON"},
		{"/v1/meals", ``, "not the expected JSON"},
		{"/v1/meals", `{}`, "photo_base64 or caption"},
		{"/v1/meals", `{"caption":"rice","colour":"red"}`, "unknown field"},
		{"/v1/meals", `{"caption":"rice"} {"caption":"more"}`, "after the JSON"},
		{"/v1/meals", `{"caption":42}`, "not the expected JSON"},
		{"/v1/meals", `{"photo_base64":"***"}`, "not standard base64"},
		{"/v1/meals", `{"photo_base64":"` + photo + `","media_type":"application/pdf"}`, "media_type"},
		{"/v1/meals", `{"caption":"` + strings.Repeat("a", 2001) + `"}`, "at most 2000"},
		{"/v1/meals", `{"caption":"` + strings.Repeat("a", maxBody) + `"}`, "larger than"},
		{"/v1/chat", `{"message":"   "}`, "1 to 4000 bytes"},
		{"/v1/chat", `[1,2]`, "not the expected JSON"},
		{"/v1/chat", `{"message":null,"x":1}`, "unknown field"},
	}
	for _, tt := range tests {
		rec, out := post(t, h, tt.path, tt.body)
		if rec.Code != http.StatusBadRequest || !strings.Contains(out["error"].(string), tt.want) {
			t.Errorf("%s %.40q: %d %s; want 400 saying %q", tt.path, tt.body, rec.Code, rec.Body.String(), tt.want)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/meals", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/meals: %d", rec.Code)
	}
}

func TestChatFallsBackAlongTheTextChain(t *testing.T) {
	s := newTestService(t, map[string]string{"API_RETRY_MAX": "0"})
	h := s.apiHandler()
	q := `{"message":"How many calories in a banana?"}`
	_, out := post(t, h, "/v1/chat", q)
	if out["served_by"] != "anthropic" || out["degraded"] != false || out["answer"] == "" {
		t.Fatalf("healthy: %v", out)
	}
	_ = s.fake.SetFault(fakeupstream.Anthropic, fakeupstream.Fault{Outage: fakeupstream.OutageError})
	if _, out = post(t, h, "/v1/chat", q); out["served_by"] != "openai" || out["degraded"] != true {
		t.Fatalf("Anthropic down: %v", out)
	}
	_ = s.fake.SetFault(fakeupstream.OpenAI, fakeupstream.Fault{Outage: fakeupstream.OutageError})
	if _, out = post(t, h, "/v1/chat", q); out["served_by"] != "cached_answer" || out["degraded"] != true {
		t.Fatalf("both down, asked before: %v", out)
	}
	if _, out = post(t, h, "/v1/chat", `{"message":"A question never asked"}`); out["served_by"] != "friendly_error" || out["answer"] != friendlyError {
		t.Fatalf("both down, new question: %v", out)
	}
}

func TestMealPhotoGoesThroughTheVisionChain(t *testing.T) {
	s := newTestService(t, nil)
	h := s.apiHandler()
	photo := base64.StdEncoding.EncodeToString(append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte("meal"), 100)...))
	body := `{"photo_base64":"` + photo + `","media_type":"image/jpeg","caption":"200 g rice"}`
	rec, out := post(t, h, "/v1/meals", body)
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	vision := out["vision"].(map[string]any)
	items := out["items"].([]any)
	if vision["served_by"] != "openai" || vision["estimated"] != false || len(items) == 0 {
		t.Fatalf("meal: %s", rec.Body.String())
	}
	_ = s.fake.SetFault(fakeupstream.OpenAI, fakeupstream.Fault{Outage: fakeupstream.OutageError})
	_ = s.fake.SetFault(fakeupstream.Anthropic, fakeupstream.Fault{Outage: fakeupstream.OutageError})
	rec, out = post(t, h, "/v1/meals", body)
	vision = out["vision"].(map[string]any)
	if rec.Code != http.StatusOK || vision["served_by"] != "estimate" || vision["estimated"] != true || out["degraded"] != true {
		t.Fatalf("both models down: %s", rec.Body.String())
	}
}

func TestBreakersEndpointListsEveryUpstream(t *testing.T) {
	h := newTestService(t, nil).apiHandler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/breakers", nil))
	var out struct {
		Store    string        `json:"store"`
		Breakers []breakerView `json:"breakers"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Store != "memory" || len(out.Breakers) != len(upstreams) {
		t.Fatalf("%s: %v", rec.Body.String(), err)
	}
	for _, b := range out.Breakers {
		if b.State != "closed" {
			t.Fatalf("breaker %+v", b)
		}
	}
}

// FuzzAPI: no request body makes a handler panic or answer other than
// 200, 400 or 503.
func FuzzAPI(f *testing.F) {
	f.Add("/v1/meals", `{"caption":"150 g rice"}`)
	f.Add("/v1/chat", `{"message":"hi"}`)
	f.Add("/v1/meals", `{"photo_base64":"aGVsbG8=","media_type":"image/png"}`)
	h := newTestService(f, nil).apiHandler()
	f.Fuzz(func(t *testing.T, path, body string) {
		if path != "/v1/meals" && path != "/v1/chat" {
			return
		}
		rec, _ := post(t, h, path, body)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %q: status %d", path, body, rec.Code)
		}
	})
}
