package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/healthagent/resilience/pkg/clock"
	"github.com/healthagent/resilience/pkg/config"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Store is the nutrition cache in PostgreSQL: the USDA SR24 foods, portions
// and aliases, and the answers of upstreams written through on success. It
// lives in one schema (Config.Schema) and works on a sqlx.ExtContext, so a
// *sqlx.DB and a *sqlx.Tx both serve.
//
// Every method takes a context and returns by the time it is done, even
// when the server or the network stops answering (see the package
// documentation).
//
// A Store is safe for concurrent use when its database handle is (a
// *sqlx.DB is; a *sqlx.Tx is not). A call on a transaction (With) is over
// when it returns: nothing of it keeps using the transaction.
type Store struct {
	db      sqlx.ExtContext
	cfg     Config
	clock   clock.Clock
	schema  string // quoted
	queries lookupQueries
	shared  *storeShared
}

// storeShared is what a Store and the copies made by With share.
type storeShared struct {
	// sim is the similarity search in use, set by Migrate or read from the
	// settings table on first use.
	sim atomic.Pointer[similarity]

	mu     sync.Mutex
	stmts  map[stmtKey]*sqlx.Stmt // prepared lookup statements
	closed bool

	// running counts database calls still in progress, including those
	// abandoned when their context ended (see guarded).
	running atomic.Int64
}

// stmtKey identifies a statement prepared on a pool.
type stmtKey struct {
	db    *sqlx.DB
	query string
}

// New returns a Store on db. It takes WithClock. It does no I/O: run
// Migrate (and Seed) once at start-up, from every replica if you like,
// before looking names up. Invalid configuration is a *config.Error.
func New(db sqlx.ExtContext, cfg Config, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, invalid("db", nil, "a database handle is required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	o := options{clock: clock.Real()}
	if err := config.ApplyOptions("postgres", "New", &o, &o.given, opts, "WithClock"); err != nil {
		return nil, err
	}
	s := &Store{db: db, cfg: cfg, clock: o.clock, schema: pq.QuoteIdentifier(cfg.Schema), shared: &storeShared{}}
	s.queries = s.newLookupQueries()
	return s, nil
}

// With returns a Store like s working on another handle, typically a
// transaction: store.With(tx).SaveAnswer(ctx, r). The copy shares what s
// learnt about the schema.
func (s *Store) With(db sqlx.ExtContext) *Store {
	c := *s
	c.db = db
	return &c
}

// Close releases the statements the store prepared on its pool (and on
// the pools of the copies made by With). It does not close the pool. The
// store keeps working afterwards, without prepared statements.
func (s *Store) Close() error {
	s.shared.mu.Lock()
	stmts := s.shared.stmts
	s.shared.stmts, s.shared.closed = nil, true
	s.shared.mu.Unlock()
	var errs []error
	for _, st := range stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// queryRow runs a query expected to return at most one row. On a pool
// (*sqlx.DB), the statement is prepared once and reused: each call then
// takes one round trip to the server instead of two, and the server plans
// it once. Lookups are the hot path of the store.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sqlx.Row {
	if db, ok := s.db.(*sqlx.DB); ok {
		if st := s.prepared(ctx, db, query); st != nil {
			return st.QueryRowxContext(ctx, args...)
		}
	}
	return s.db.QueryRowxContext(ctx, query, args...)
}

// prepared returns query prepared on db, preparing it on first use; nil
// when it cannot be prepared (the caller then runs it unprepared, and
// meets the same error there, if any) or the store is closed.
func (s *Store) prepared(ctx context.Context, db *sqlx.DB, query string) *sqlx.Stmt {
	key := stmtKey{db, query}
	sh := s.shared
	sh.mu.Lock()
	st, closed := sh.stmts[key], sh.closed
	sh.mu.Unlock()
	if st != nil || closed {
		return st
	}
	// Prepare outside the lock: a slow server must not hold up the others.
	st, err := db.PreparexContext(ctx, query)
	if err != nil {
		return nil
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.stmts[key]; ok || sh.closed {
		_ = st.Close()
		return old
	}
	if sh.stmts == nil {
		sh.stmts = make(map[stmtKey]*sqlx.Stmt)
	}
	sh.stmts[key] = st
	return st
}

// Schema returns the name of the store's schema.
func (s *Store) Schema() string { return s.cfg.Schema }

// table returns the schema-qualified, quoted name of one of the store's
// tables.
func (s *Store) table(name string) string { return s.schema + "." + pq.QuoteIdentifier(name) }

// guarded runs fn and returns its result, or the context's error as soon
// as ctx is done, whichever comes first. The PostgreSQL driver cancels a
// running statement when ctx ends, but it waits for the server to confirm,
// and it has no deadline while it opens a connection: a server or network
// that stops answering would hold the caller far past its deadline. So on
// a pool (*sqlx.DB) fn runs in a goroutine of its own that the caller stops
// waiting for; fn keeps ctx, so the driver still cancels and fn ends as soon
// as the connection fails or is cancelled. On any other handle (a *sqlx.Tx
// or *sqlx.Conn given to With, whose connection is open already) fn runs
// on the caller's goroutine, and the call is over when guarded returns:
// such a handle is not safe for concurrent use, and the caller goes on
// with it.
func guarded[T any](ctx context.Context, s *Store, op string, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, &DBError{Op: op, Err: err}
	}
	_, pool := s.db.(*sqlx.DB)
	if !pool || ctx.Done() == nil { // not shared, or a context that never ends
		v, err := fn(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return zero, &DBError{Op: op, Err: ctx.Err()}
		case err != nil:
			return zero, dbError(op, err)
		}
		return v, nil
	}
	type outcome struct {
		v   T
		err error
	}
	done := make(chan outcome, 1)
	sh := s.shared
	sh.running.Add(1)
	go func() {
		defer sh.running.Add(-1)
		v, err := fn(ctx)
		done <- outcome{v, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			return zero, dbError(op, o.err)
		}
		return o.v, nil
	case <-ctx.Done():
		return zero, &DBError{Op: op, Err: ctx.Err()}
	}
}

// beginner is a handle that can start a transaction: *sqlx.DB, *sqlx.Conn.
type beginner interface {
	BeginTxx(ctx context.Context, opts *sql.TxOptions) (*sqlx.Tx, error)
}

// inTx runs fn in a transaction: a new one committed when fn succeeds, if
// db can begin one, or else db itself when it is a *sqlx.Tx (the caller
// commits).
func inTx[T any](ctx context.Context, db sqlx.ExtContext, fn func(tx *sqlx.Tx) (T, error)) (T, error) {
	var zero T
	switch h := db.(type) {
	case *sqlx.Tx:
		return fn(h)
	case beginner:
		tx, err := h.BeginTxx(ctx, nil)
		if err != nil {
			return zero, err
		}
		v, err := fn(tx)
		if err != nil {
			_ = tx.Rollback()
			return zero, err
		}
		if err := tx.Commit(); err != nil {
			return zero, err
		}
		return v, nil
	default:
		return zero, invalid("db", typeName(db), "this operation needs a transaction: use a *sqlx.DB, *sqlx.Conn or *sqlx.Tx")
	}
}

// typeName names a value's type for an error message.
func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("%T", v)
}

// isUndefinedTable reports whether err says a table (or schema) does not
// exist: the schema has not been migrated.
func isUndefinedTable(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000")
}
