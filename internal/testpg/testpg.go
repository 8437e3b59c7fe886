// Package testpg gives tests a real PostgreSQL: the shared server at
// 127.0.0.1:5432 (DATABASE_URL overrides), with a schema of the test's own
// that is dropped, with everything in it, when the test ends.
//
//	db := testpg.Open(t)              // search_path is a new schema of the test's own
//	db, schema := testpg.Connect(t), testpg.NewSchema(t, db)
//
// A test fails, never skips, when the server does not answer.
package testpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// DefaultDSN is the shared server's test database, used when DATABASE_URL
// is not set.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// startHint tells how to start the local server.
const startHint = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

// DSN returns the connection string of the test database: DATABASE_URL, or
// DefaultDSN.
func DSN() string {
	if dsn := os.Getenv("DATABASE_URL"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// Connect returns a new connection pool to the test database, closed at
// cleanup. Each call gives a pool of its own, so tests can model replicas
// that do not share connections.
func Connect(t testing.TB) *sqlx.DB {
	t.Helper()
	return connect(t, DSN())
}

// Open returns a new connection pool whose connections use a new schema of
// the test's own as their search_path (see NewSchema), so unqualified names
// live in it.
func Open(t testing.TB) *sqlx.DB {
	t.Helper()
	schema := NewSchema(t, Connect(t))
	dsn, err := WithSearchPath(DSN(), schema)
	if err != nil {
		t.Fatalf("testpg: %v", err)
	}
	return connect(t, dsn)
}

// OpenAt returns a connection pool to the test database through another
// address, such as a proxy's or one where nothing listens, without
// pinging it; it is closed at cleanup.
func OpenAt(t testing.TB, addr string) *sqlx.DB {
	t.Helper()
	u, err := url.Parse(DSN())
	if err != nil {
		t.Fatalf("testpg: %v", err)
	}
	u.Host = addr
	db, err := sqlx.Open("postgres", u.String())
	if err != nil {
		t.Fatalf("testpg: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// NewSchema creates a schema with a name unique to this test run and drops
// it, with everything in it, at cleanup. It returns the schema's name,
// which needs no quoting: lower-case letters, digits and underscores.
func NewSchema(t testing.TB, db *sqlx.DB) string {
	t.Helper()
	schema := UniqueName(t, "t")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+pq.QuoteIdentifier(schema)); err != nil {
		t.Fatalf("testpg: creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		// The test's own pools may already be closed: use a fresh one.
		admin, err := sqlx.Open("postgres", DSN())
		if err != nil {
			t.Errorf("testpg: dropping schema %s: %v", schema, err)
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+pq.QuoteIdentifier(schema)+" CASCADE"); err != nil {
			t.Errorf("testpg: dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

// UniqueName returns a PostgreSQL identifier for an object of this test:
// prefix, the test's name cut to 30 characters and 12 random hex digits,
// in lower-case letters, digits and underscores (at most 63 bytes).
func UniqueName(t testing.TB, prefix string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	var name strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		if name.Len() == 30 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			name.WriteRune(r)
		} else {
			name.WriteByte('_')
		}
	}
	out := prefix + "_" + name.String() + "_" + hex.EncodeToString(b[:])
	if len(out) > 63 {
		out = out[len(out)-63:]
	}
	return out
}

// WithSearchPath returns dsn (a postgres:// URL) with its connections'
// search_path set to schema.
func WithSearchPath(dsn, schema string) (string, error) {
	return WithOption(dsn, "search_path", pq.QuoteIdentifier(schema))
}

// WithOption returns dsn (a postgres:// URL) with a server setting added to
// its "options" parameter, for every connection it opens.
func WithOption(dsn, setting, value string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	opt := strings.TrimSpace(q.Get("options") + " -c " + setting + "=" + value)
	q.Set("options", opt)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// WithUser returns dsn (a postgres:// URL) with another user and database
// name; an empty database keeps dsn's own.
func WithUser(dsn, user, database string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	u.User = url.User(user)
	if database != "" {
		u.Path = "/" + database
	}
	return u.String(), nil
}

// connect opens and pings a pool, failing the test with a hint when the
// server does not answer.
func connect(t testing.TB, dsn string) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatalf("testpg: bad DATABASE_URL: %v", redact(err.Error(), dsn))
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("PostgreSQL at %s is not reachable (%s); %s", hostOf(dsn), redact(err.Error(), dsn), startHint)
	}
	return db
}

// hostOf returns the host and database of a DSN, without credentials.
func hostOf(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return "DATABASE_URL"
	}
	return u.Host + u.Path
}

// redact removes the DSN's password from an error text.
func redact(text, dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		if p, ok := u.User.Password(); ok && p != "" {
			text = strings.ReplaceAll(text, p, "REDACTED")
		}
	}
	return text
}
