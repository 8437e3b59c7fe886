package testredis

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/redisproc"
)

// Server is a redis-server process of the test's own, on a loopback port,
// keeping nothing on disk. Tests may stop and restart it; it is killed at
// cleanup.
type Server struct {
	t    testing.TB
	proc *redisproc.Server
	tls  *tls.Config
	Addr string
}

// StartServer starts a redis-server on a free loopback port, with extra
// arguments appended to its command line (e.g. "--requirepass", "pw").
func StartServer(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	return start(t, redisproc.Config{Dir: t.TempDir(), Args: extraArgs})
}

// StartTLSServer starts a redis-server that speaks TLS only; extraArgs give
// its certificate files (--tls-cert-file, --tls-key-file, ...), and
// clientTLS is what a client needs to trust it.
func StartTLSServer(t testing.TB, clientTLS *tls.Config, extraArgs ...string) *Server {
	t.Helper()
	return start(t, redisproc.Config{Dir: t.TempDir(), Args: extraArgs, TLS: clientTLS})
}

func start(t testing.TB, cfg redisproc.Config) *Server {
	t.Helper()
	proc, err := redisproc.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.Stop)
	return &Server{t: t, proc: proc, tls: cfg.TLS, Addr: proc.Addr}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) { return redisproc.FreePort() }

// StartSentinel starts a Redis Sentinel watching the master at masterAddr
// under the name master, with quick failure detection (quorum 1).
func StartSentinel(t testing.TB, master, masterAddr string) *Server {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	host, mport, _ := net.SplitHostPort(masterAddr)
	dir := t.TempDir()
	conf := dir + "/sentinel.conf"
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s %s %s 1\n"+
		"sentinel down-after-milliseconds %s 500\nsentinel failover-timeout %s 5000\n",
		port, dir, master, host, mport, master, master)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, redisproc.Config{Argv: []string{conf, "--sentinel"}, Addr: "127.0.0.1:" + strconv.Itoa(port)})
}

// Start starts the process again after Stop (with the same port, empty).
func (s *Server) Start() {
	s.t.Helper()
	if err := s.proc.Start(context.Background()); err != nil {
		s.t.Fatal(err)
	}
}

// Stop kills the process (SIGKILL: as abrupt as a crash) and waits for it.
func (s *Server) Stop() { s.proc.Stop() }

// Pause stops the process with SIGSTOP until Resume (or cleanup): it keeps
// its connections and answers nothing.
func (s *Server) Pause() {
	s.t.Helper()
	if err := s.proc.Pause(); err != nil {
		s.t.Fatal(err)
	}
}

// Resume continues a paused server.
func (s *Server) Resume() {
	s.t.Helper()
	if err := s.proc.Resume(); err != nil {
		s.t.Fatal(err)
	}
}

// Client returns a new client of this server, closed at cleanup.
func (s *Server) Client(opts ...func(*redis.Options)) *redis.Client {
	o := &redis.Options{Addr: s.Addr, TLSConfig: s.tls, ContextTimeoutEnabled: true}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	s.t.Cleanup(func() { c.Close() })
	return c
}

// String describes the server for test messages.
func (s *Server) String() string { return fmt.Sprintf("redis-server %s", s.Addr) }
