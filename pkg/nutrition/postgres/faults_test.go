package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/testpg"
	"github.com/healthagent/resilience/pkg/nutrition"
)

// waitCallsEnd waits until no database call of s (or of its copies) is
// still running: a call abandoned on a hung connection ends when the
// connection fails, and must not outlive the test.
func waitCallsEnd(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for s.shared.running.Load() > 0 {
		if time.Now().After(deadline) {
			t.Errorf("%d database calls still running 30s after their connections closed", s.shared.running.Load())
			return
		}
		time.Sleep(10 * time.Millisecond) // polling for the driver to give up
	}
}

// within runs fn and fails the test if it has not returned after a
// generous limit: a hang, which is what these tests guard against.
func within(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the call hung past its context deadline")
	}
}

// faultProxy forwards TCP connections to PostgreSQL until frozen; then it
// keeps every connection open and passes nothing on, like a network that
// drops packets.
type faultProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	frozen bool
	closed bool
	wake   chan struct{} // closed when the proxy thaws or closes
	conns  []net.Conn
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target, wake: make(chan struct{})}
	t.Cleanup(p.close)
	go p.serve()
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed { // accepted just before close: close it here
			p.mu.Unlock()
			c.Close()
			up.Close()
			return
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

// pipe copies from src to dst, holding each chunk while the proxy is frozen.
func (p *faultProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			for {
				p.mu.Lock()
				frozen, wake := p.frozen, p.wake
				p.mu.Unlock()
				if !frozen {
					break
				}
				<-wake
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			}
			return
		}
	}
}

func (p *faultProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen, p.wake = true, make(chan struct{})
	}
}

func (p *faultProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.frozen {
		p.frozen = false
		close(p.wake)
	}
	for _, c := range p.conns {
		c.Close()
	}
}

func TestPostgresFaults(t *testing.T) {
	target, err := url.Parse(testpg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	seeded, admin, _ := seededStore(t, Config{})
	// Runs after every subtest has closed its listener or proxy: the calls
	// left behind on a hung connection end once it fails.
	t.Cleanup(func() { waitCallsEnd(t, seeded) })

	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		s := seeded.With(testpg.OpenAt(t, addr))
		within(t, func() {
			_, err := s.Lookup(testContext(t), "apple")
			var de *DBError
			if !errors.As(err, &de) || de.Op != "lookup" || !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("Lookup = %v, want a *DBError for lookup wrapping ECONNREFUSED", err)
			}
		})
	})

	t.Run("server accepts but never answers", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var held []net.Conn
		closed := false
		t.Cleanup(func() {
			ln.Close()
			mu.Lock()
			defer mu.Unlock()
			closed = true
			for _, c := range held {
				c.Close()
			}
		})
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				if closed { // accepted just before the cleanup
					c.Close()
				} else {
					held = append(held, c)
				}
				mu.Unlock()
			}
		}()
		s := seeded.With(testpg.OpenAt(t, ln.Addr().String()))
		for _, op := range []struct {
			name string
			call func(ctx context.Context) error
		}{
			{"lookup", func(ctx context.Context) error { _, err := s.Lookup(ctx, "apple"); return err }},
			{"save answer", func(ctx context.Context) error {
				return s.SaveAnswer(ctx, nutrition.Result{Query: "apple", Source: nutrition.SourceUSDA, Description: "Apple"})
			}},
			{"migrate", func(ctx context.Context) error { _, err := s.Migrate(ctx); return err }},
		} {
			t.Run(op.name, func(t *testing.T) {
				within(t, func() {
					ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
					defer cancel()
					err := op.call(ctx)
					var de *DBError
					if !errors.As(err, &de) || de.Op != op.name || !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("%s = %v, want a *DBError for %s wrapping context.DeadlineExceeded", op.name, err, op.name)
					}
				})
			})
		}
	})

	t.Run("table locked", func(t *testing.T) {
		ctx := testContext(t)
		tx, err := admin.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("LOCK TABLE " + seeded.table("aliases") + " IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		within(t, func() {
			lctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			if _, err := seeded.Lookup(lctx, "chicken breast"); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Lookup on a locked table = %v, want context.DeadlineExceeded", err)
			}
		})
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if _, err := seeded.Lookup(ctx, "chicken breast"); err != nil {
			t.Errorf("Lookup after the lock is gone: %v", err)
		}
	})

	t.Run("network stops mid-connection", func(t *testing.T) {
		proxy := newFaultProxy(t, target.Host)
		s := seeded.With(testpg.OpenAt(t, proxy.addr()))
		ctx := testContext(t)
		if _, err := s.Lookup(ctx, "chicken breast"); err != nil {
			t.Fatalf("Lookup through the proxy: %v", err)
		}
		proxy.freeze()
		within(t, func() {
			lctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			if _, err := s.Lookup(lctx, "chicken breast"); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Lookup through a frozen network = %v, want context.DeadlineExceeded", err)
			}
		})
	})

	t.Run("context already done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := seeded.Lookup(ctx, "apple")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Lookup with a cancelled context = %v, want context.Canceled", err)
		}
	})
}
