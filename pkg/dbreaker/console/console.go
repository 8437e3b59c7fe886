package console

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"
	"unicode"

	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/config"
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
	clock   clock.Clock
	mux     *http.ServeMux
	hub     *hub
	book    *replicaBook  // the replicas heard, by the live stream and api/state
	timeout time.Duration // bounds each Redis read or action
	lag     time.Duration // bounds each write to a live stream (viewerLag)
}

// Option gives a Console a collaborator.
type Option func(*options) error

type options struct {
	logger *slog.Logger
	clock  clock.Clock

	given []string // the names of the options given, in order
}

// WithLogger sets the logger (default slog.Default()); actions are logged
// with "[CONSOLE]".
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return config.Set("console", &o.given, "WithLogger", &o.logger, l) }
}

// WithClock sets the clock that tells how long ago a replica was heard
// (default clock.Real()).
func WithClock(c clock.Clock) Option {
	return func(o *options) error { return config.Set("console", &o.given, "WithClock", &o.clock, c) }
}

// New returns a console of the breakers and replicas under store's key
// prefix. It takes WithLogger and WithClock, and sends nothing to Redis
// until it is used. Invalid configuration is a *config.Error.
func New(store *dbreaker.RedisStore, cfg Config, opts ...Option) (*Console, error) {
	if store == nil {
		return nil, invalid("store", nil, "New needs a RedisStore")
	}
	if err := ValidateToken(cfg.Token); err != nil {
		return nil, err
	}
	switch {
	case cfg.History == 0:
		cfg.History = DefaultHistory
	case cfg.History < 1 || cfg.History > dbreaker.MaxHistory:
		return nil, invalid("History", cfg.History, fmt.Sprintf("want 1 to %d", dbreaker.MaxHistory))
	}
	switch {
	case cfg.Refresh == 0:
		cfg.Refresh = DefaultRefresh
	case cfg.Refresh < 100*time.Millisecond || cfg.Refresh > time.Hour:
		return nil, invalid("Refresh", cfg.Refresh, "want 100ms to 1h")
	}
	o := options{logger: slog.Default(), clock: clock.Real()}
	if err := config.ApplyOptions("console", "New", &o, &o.given, opts, "WithLogger", "WithClock"); err != nil {
		return nil, err
	}
	c := &Console{store: store, cfg: cfg, logger: o.logger, clock: o.clock, timeout: 5 * time.Second, lag: viewerLag,
		book: newReplicaBook()}
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
		return invalid("Token", "(hidden)", fmt.Sprintf("%d characters, want at least %d", len(token), MinTokenLen))
	}
	for i, r := range token {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return invalid("Token", "(hidden)", fmt.Sprintf("character %d is a space or not printable", i))
		}
	}
	return nil
}

// invalid returns the *config.Error of this package for field.
func invalid(field string, value any, reason string) error {
	return &config.Error{Package: "console", Field: field, Value: value, Reason: reason}
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
// never becomes idle by itself. Live streams asked for after Close are
// answered 503; the other requests still read Redis.
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
