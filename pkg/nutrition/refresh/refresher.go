package nutrition

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-redsync/redsync/v4"
)

// Defaults of RefresherConfig.
const (
	DefaultRefreshBatch      = 50
	DefaultRefreshLockExpiry = 30 * time.Second
)

// FetchFunc fetches a fresh answer for a query: typically
// (*USDAClient).Search, wrapped in the upstream's retry, breaker and
// timeout.
type FetchFunc func(ctx context.Context, query string) (Result, error)

// RefresherConfig configures a Refresher.
type RefresherConfig struct {
	// Source is the upstream whose cached answers are refreshed, e.g.
	// SourceUSDA. Required.
	Source Source
	// TTL is the age from which a cached answer is stale. Required.
	TTL time.Duration
	// Batch is the most answers one RefreshOnce fetches; 0 means
	// DefaultRefreshBatch (50).
	Batch int
	// LockName is the Redis key of the mutex; empty means
	// "nutrition:refresh:{schema}:{source}".
	LockName string
	// LockExpiry is how long the mutex outlives a replica that dies while
	// refreshing; the lock is extended before each fetch, so it must
	// outlast one fetch. 0 means DefaultRefreshLockExpiry (30 s).
	LockExpiry time.Duration
	// Clock tells what is stale; nil means the real clock.
	Clock Clock
	// Logger, if not nil, logs failed refreshes at level Warn, with
	// messages starting "[NUTRITION]".
	Logger *slog.Logger
}

// Refresher fetches cached upstream answers anew once they are older than
// a TTL, so that the cache is fresh for the next outage. Every replica may
// run one: a redsync mutex in Redis lets one replica at a time refresh, and
// the others skip their turn.
type Refresher struct {
	store *Store
	rs    *redsync.Redsync
	fetch FetchFunc
	cfg   RefresherConfig
}

// NewRefresher returns a Refresher of store's answers from cfg.Source,
// locking with rs (redsync.New(goredis.NewPool(client))) and fetching with
// fetch. Errors are *ConfigError naming the field.
func NewRefresher(store *Store, rs *redsync.Redsync, fetch FetchFunc, cfg RefresherConfig) (*Refresher, error) {
	bad := func(field string, value any, reason string) error {
		return &ConfigError{Field: field, Value: value, Reason: reason}
	}
	switch {
	case store == nil:
		return nil, bad("store", nil, "a Store is required")
	case rs == nil:
		return nil, bad("redsync", nil, "a *redsync.Redsync is required for the lock")
	case fetch == nil:
		return nil, bad("fetch", nil, "a FetchFunc is required")
	case !validSource(cfg.Source) || cfg.Source == SourceSR24:
		return nil, bad("RefresherConfig.Source", string(cfg.Source), "want an upstream's name, e.g. usda")
	case cfg.TTL <= 0:
		return nil, bad("RefresherConfig.TTL", cfg.TTL.String(), "want a positive duration")
	case cfg.Batch < 0:
		return nil, bad("RefresherConfig.Batch", cfg.Batch, "want a positive number, or 0 for the default")
	case cfg.LockExpiry < 0 || (cfg.LockExpiry > 0 && cfg.LockExpiry < 10*time.Millisecond):
		return nil, bad("RefresherConfig.LockExpiry", cfg.LockExpiry.String(), "want at least 10ms, or 0 for the default")
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultRefreshBatch
	}
	if cfg.LockExpiry == 0 {
		cfg.LockExpiry = DefaultRefreshLockExpiry
	}
	if cfg.LockName == "" {
		cfg.LockName = "nutrition:refresh:" + store.Schema() + ":" + string(cfg.Source)
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	return &Refresher{store: store, rs: rs, fetch: fetch, cfg: cfg}, nil
}

// RefreshReport says what one RefreshOnce did.
type RefreshReport struct {
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
func (r *Refresher) RefreshOnce(ctx context.Context) (RefreshReport, error) {
	var rep RefreshReport
	m := r.rs.NewMutex(r.cfg.LockName, redsync.WithExpiry(r.cfg.LockExpiry), redsync.WithTries(1))
	if err := m.TryLockContext(ctx); err != nil {
		var taken *redsync.ErrTaken
		if errors.As(err, &taken) || errors.Is(err, redsync.ErrFailed) {
			return rep, nil
		}
		return rep, fmt.Errorf("nutrition: refresh: lock %s: %w", r.cfg.LockName, err)
	}
	rep.Locked = true
	defer func() {
		// Release even when ctx is done; the lock expires anyway.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_, _ = m.UnlockContext(uctx)
	}()

	stale, err := r.store.StaleAnswers(ctx, r.cfg.Source, r.cfg.Clock.Now().Add(-r.cfg.TTL), r.cfg.Batch)
	if err != nil {
		return rep, fmt.Errorf("nutrition: refresh: %w", err)
	}
	rep.Stale = len(stale)
	for i, old := range stale {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("nutrition: refresh: %w", err)
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
		case errors.Is(err, ErrNotFound):
			rep.NotFound++
			continue
		case err != nil:
			rep.Failed++
			r.log(ctx, "[NUTRITION] refresh failed", "source", string(r.cfg.Source), "query", old.Query, "error", err.Error())
			continue
		}
		fresh.Query, fresh.Source = old.Query, r.cfg.Source
		if fresh.FetchedAt.IsZero() {
			fresh.FetchedAt = r.cfg.Clock.Now()
		}
		if err := r.store.SaveAnswer(ctx, fresh); err != nil {
			var ce *ConfigError
			if errors.As(err, &ce) { // the upstream's answer is unusable
				rep.Failed++
				r.log(ctx, "[NUTRITION] refresh got an unusable answer", "query", old.Query, "error", err.Error())
				continue
			}
			return rep, fmt.Errorf("nutrition: refresh: %w", err)
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
	if r.cfg.Logger != nil {
		r.cfg.Logger.WarnContext(ctx, msg, args...)
	}
}

// errText is err's text, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
