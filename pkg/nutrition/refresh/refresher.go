package refresh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/config"
	"github.com/healthagent/resilience/pkg/nutrition"
	"github.com/healthagent/resilience/pkg/nutrition/postgres"
)

// Defaults of Config.
const (
	DefaultBatch      = 50
	DefaultLockExpiry = 30 * time.Second
)

// FetchFunc fetches a fresh answer for a query: typically
// (*usda.Client).Search, wrapped in the upstream's Guard (retry, breaker
// and timeout).
type FetchFunc func(ctx context.Context, query string) (nutrition.Result, error)

// Config configures a Refresher.
type Config struct {
	// Source is the upstream whose cached answers are refreshed, e.g.
	// nutrition.SourceUSDA. Required.
	Source nutrition.Source
	// TTL is the age from which a cached answer is stale. Required.
	TTL time.Duration
	// Batch is the most answers one RefreshOnce fetches; 0 means
	// DefaultBatch (50).
	Batch int
	// LockName is the Redis key of the mutex; empty means
	// "nutrition:refresh:{schema}:{source}".
	LockName string
	// LockExpiry is how long the mutex outlives a replica that dies while
	// refreshing; the lock is extended before each fetch, so it must
	// outlast one fetch. 0 means DefaultLockExpiry (30 s).
	LockExpiry time.Duration
}

// Option gives a Refresher a collaborator.
type Option func(*options) error

type options struct {
	clock  clock.Clock
	logger *slog.Logger

	given []string // the names of the options given, in order
}

// WithClock sets the clock that tells what is stale (default
// clock.Real()).
func WithClock(c clock.Clock) Option {
	return func(o *options) error { return config.Set("refresh", &o.given, "WithClock", &o.clock, c) }
}

// WithLogger sets the logger of failed refreshes, at level Warn, with
// messages starting "[NUTRITION]" (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { return config.Set("refresh", &o.given, "WithLogger", &o.logger, l) }
}

// Refresher fetches cached upstream answers anew once they are older than
// a TTL, so that the cache is fresh for the next outage. Every replica may
// run one: a redsync mutex in Redis lets one replica at a time refresh, and
// the others skip their turn.
type Refresher struct {
	store  *postgres.Store
	rs     *redsync.Redsync
	fetch  FetchFunc
	cfg    Config
	clock  clock.Clock
	logger *slog.Logger
}

// New returns a Refresher of store's answers from cfg.Source, locking with
// rs (redsync.New(goredis.NewPool(client))) and fetching with fetch. It
// takes WithClock and WithLogger. Errors are *config.Error naming the
// field.
func New(store *postgres.Store, rs *redsync.Redsync, fetch FetchFunc, cfg Config, opts ...Option) (*Refresher, error) {
	bad := func(field string, value any, reason string) error {
		return &config.Error{Package: "refresh", Field: field, Value: value, Reason: reason}
	}
	switch {
	case store == nil:
		return nil, bad("store", nil, "a Store is required")
	case rs == nil:
		return nil, bad("redsync", nil, "a *redsync.Redsync is required for the lock")
	case fetch == nil:
		return nil, bad("fetch", nil, "a FetchFunc is required")
	case !cfg.Source.Valid() || cfg.Source == nutrition.SourceSR24:
		return nil, bad("Source", string(cfg.Source), "want an upstream's name, e.g. usda")
	case cfg.TTL <= 0:
		return nil, bad("TTL", cfg.TTL.String(), "want a positive duration")
	case cfg.Batch < 0:
		return nil, bad("Batch", cfg.Batch, "want a positive number, or 0 for the default")
	case cfg.LockExpiry < 0 || (cfg.LockExpiry > 0 && cfg.LockExpiry < 10*time.Millisecond):
		return nil, bad("LockExpiry", cfg.LockExpiry.String(), "want at least 10ms, or 0 for the default")
	}
	o := options{clock: clock.Real(), logger: slog.Default()}
	if err := config.ApplyOptions("refresh", "New", &o, &o.given, opts, "WithClock", "WithLogger"); err != nil {
		return nil, err
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.LockExpiry == 0 {
		cfg.LockExpiry = DefaultLockExpiry
	}
	if cfg.LockName == "" {
		cfg.LockName = "nutrition:refresh:" + store.Schema() + ":" + string(cfg.Source)
	}
	return &Refresher{store: store, rs: rs, fetch: fetch, cfg: cfg, clock: o.clock, logger: o.logger}, nil
}

// Report says what one RefreshOnce did.
type Report struct {
	// Locked is false when another replica held the lock: nothing was
	// done.
	Locked bool
	// Stale is the number of stale answers found (at most the batch).
	Stale int
	// Refreshed counts answers fetched and saved anew; NotFound those the
	// upstream no longer finds (the old answer stays); Failed the others.
	Refreshed, NotFound, Failed int
	// LostLock is true when the lock could not be extended, and the round
	// stopped early so as not to refresh beside another replica.
	LostLock bool
}

// RefreshOnce takes the lock, if no other replica holds it, and fetches
// anew up to a batch of the oldest answers that are stale, saving each.
// Failed fetches are counted and logged, not returned: the error is for
// failures of Redis or PostgreSQL, and the context's.
func (r *Refresher) RefreshOnce(ctx context.Context) (Report, error) {
	var rep Report
	m := r.rs.NewMutex(r.cfg.LockName, redsync.WithExpiry(r.cfg.LockExpiry), redsync.WithTries(1))
	if err := m.TryLockContext(ctx); err != nil {
		var taken *redsync.ErrTaken
		if errors.As(err, &taken) || errors.Is(err, redsync.ErrFailed) {
			return rep, nil
		}
		return rep, fmt.Errorf("refresh: lock %s: %w", r.cfg.LockName, err)
	}
	rep.Locked = true
	defer func() {
		// Release even when ctx is done; the lock expires anyway.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_, _ = m.UnlockContext(uctx)
	}()

	stale, err := r.store.StaleAnswers(ctx, r.cfg.Source, r.clock.Now().Add(-r.cfg.TTL), r.cfg.Batch)
	if err != nil {
		return rep, fmt.Errorf("refresh: %w", err)
	}
	rep.Stale = len(stale)
	for i, old := range stale {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("refresh: %w", err)
		}
		if i > 0 { // the lock was just taken for the first
			if ok, err := m.ExtendContext(ctx); !ok || err != nil {
				rep.LostLock = true
				r.log(ctx, "[NUTRITION] refresh stopped: lost the lock", "lock", r.cfg.LockName, "error", errText(err))
				return rep, nil
			}
		}
		fresh, err := r.fetch(ctx, old.Query)
		switch {
		case errors.Is(err, nutrition.ErrNotFound):
			rep.NotFound++
			continue
		case err != nil:
			rep.Failed++
			r.log(ctx, "[NUTRITION] refresh failed", "source", string(r.cfg.Source), "query", old.Query, "error", err.Error())
			continue
		}
		fresh.Query, fresh.Source = old.Query, r.cfg.Source
		if fresh.FetchedAt.IsZero() {
			fresh.FetchedAt = r.clock.Now()
		}
		if err := r.store.SaveAnswer(ctx, fresh); err != nil {
			var ce *config.Error
			if errors.As(err, &ce) { // the upstream's answer is unusable
				rep.Failed++
				r.log(ctx, "[NUTRITION] refresh got an unusable answer", "query", old.Query, "error", err.Error())
				continue
			}
			return rep, fmt.Errorf("refresh: %w", err)
		}
		rep.Refreshed++
	}
	return rep, nil
}

// Run calls RefreshOnce at every tick (e.g. time.NewTicker(time.Hour).C)
// until ctx is done, and returns ctx's error. Errors of a round are logged
// and the next tick tries again.
func (r *Refresher) Run(ctx context.Context, ticks <-chan time.Time) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticks:
			if _, err := r.RefreshOnce(ctx); err != nil && ctx.Err() == nil {
				r.log(ctx, "[NUTRITION] refresh round failed", "error", err.Error())
			}
		}
	}
}

func (r *Refresher) log(ctx context.Context, msg string, args ...any) {
	r.logger.WarnContext(ctx, msg, args...)
}

// errText is err's text, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
