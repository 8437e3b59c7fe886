package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"
	"unicode"

	"github.com/healthagent/resilience/pkg/dbreaker"
)

//go:embed assets
var assets embed.FS

// Defaults applied to zero fields of Config.
const (
	DefaultHistory = 50
	DefaultRefresh = time.Second
	// MinTokenLen is the shortest token New accepts.
	MinTokenLen = 16
)

// Config configures a Console. Its zero value works: a read-only console.
type Config struct {
	// Token enables the actions: a request must carry the header
	// "Authorization: Bearer <Token>" (compared in constant time). Empty:
	// read-only, every action refused. At least MinTokenLen printable
	// characters, no spaces.
	Token string
	// History is how many log entries per breaker the page keeps (default
	// 50, at most dbreaker.MaxHistory).
	History int
	// Refresh is how often the counters (which change without a
	// transition) are read again while someone watches (default 1s, at
	// least 100ms).
	Refresh time.Duration
}

// Console is an http.Handler serving the page, its assets, the JSON API and
// the live stream. Safe for concurrent use.
type Console struct {
	store   *dbreaker.RedisStore
	cfg     Config
	token   *tokenCheck
	logger  *slog.Logger
	clock   dbreaker.Clock
	mux     *http.ServeMux
	hub     *hub
	timeout time.Duration // bounds each Redis read or action
}

// Option configures a Console.
type Option func(*Console)

// WithLogger sets the logger (default slog.Default()); actions are logged
// with "[CONSOLE]".
func WithLogger(l *slog.Logger) Option { return func(c *Console) { c.logger = l } }

// WithClock sets the clock that tells how long ago a replica was heard
// (default: the system clock).
func WithClock(clock dbreaker.Clock) Option { return func(c *Console) { c.clock = clock } }

// New returns a console of the breakers and replicas under store's key
// prefix. It sends nothing to Redis until it is used.
func New(store *dbreaker.RedisStore, cfg Config, opts ...Option) (*Console, error) {
	if store == nil {
		return nil, errors.New("console: New: nil store")
	}
	if err := ValidateToken(cfg.Token); err != nil {
		return nil, err
	}
	switch {
	case cfg.History == 0:
		cfg.History = DefaultHistory
	case cfg.History < 1 || cfg.History > dbreaker.MaxHistory:
		return nil, fmt.Errorf("console: invalid History = %d: want 1 to %d", cfg.History, dbreaker.MaxHistory)
	}
	switch {
	case cfg.Refresh == 0:
		cfg.Refresh = DefaultRefresh
	case cfg.Refresh < 100*time.Millisecond || cfg.Refresh > time.Hour:
		return nil, fmt.Errorf("console: invalid Refresh = %v: want 100ms to 1h", cfg.Refresh)
	}
	c := &Console{store: store, cfg: cfg, logger: slog.Default(), clock: dbreaker.SystemClock(), timeout: 5 * time.Second}
	for _, opt := range opts {
		opt(c)
	}
	if c.logger == nil || c.clock == nil {
		return nil, errors.New("console: New: nil logger or clock option")
	}
	if cfg.Token != "" {
		c.token = newTokenCheck(cfg.Token)
	}
	c.hub = newHub(c)
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", c.page)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))
	mux.HandleFunc("GET /api/state", c.getState)
	mux.HandleFunc("GET /api/breakers/{name}/history", c.getHistory)
	mux.HandleFunc("POST /api/breakers/{name}/{action}", c.postAction)
	mux.HandleFunc("GET /api/events", c.events)
	c.mux = mux
	return c, nil
}

// ValidateToken checks a token for Config.Token: empty (read-only), or at
// least MinTokenLen printable characters without spaces. Its error never
// repeats the token.
func ValidateToken(token string) error {
	if token == "" {
		return nil
	}
	if len(token) < MinTokenLen {
		return fmt.Errorf("console: invalid Token: %d characters, want at least %d", len(token), MinTokenLen)
	}
	for i, r := range token {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return fmt.Errorf("console: invalid Token: character %d is a space or not printable", i)
		}
	}
	return nil
}

// ServeHTTP implements http.Handler. Every answer forbids framing and
// sniffing, and the page may load nothing but its own assets.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	c.mux.ServeHTTP(w, r)
}

// Close ends every live stream and the subscription, and waits for them
// (within ctx). Call it before shutting the HTTP server down: a live stream
// never becomes idle by itself. Requests after Close are answered 503.
func (c *Console) Close(ctx context.Context) error { return c.hub.close(ctx) }

func (c *Console) page(w http.ResponseWriter, r *http.Request) {
	data, err := assets.ReadFile("assets/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(data)
}
