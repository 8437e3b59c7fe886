package testredis

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process of the test's own, on a loopback port,
// keeping nothing on disk. Tests may stop and restart it; it is killed at
// cleanup.
type Server struct {
	t    testing.TB
	args []string
	tls  *tls.Config
	Addr string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error // receives the process's exit
}

// StartServer starts a redis-server on a free loopback port, with extra
// arguments appended to its command line (e.g. "--requirepass", "pw").
func StartServer(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	return startServer(t, nil, extraArgs)
}

// StartTLSServer starts a redis-server that speaks TLS only; extraArgs give
// its certificate files (--tls-cert-file, --tls-key-file, ...), and
// clientTLS is what a client needs to trust it.
func StartTLSServer(t testing.TB, clientTLS *tls.Config, extraArgs ...string) *Server {
	t.Helper()
	return startServer(t, clientTLS, extraArgs)
}

func startServer(t testing.TB, clientTLS *tls.Config, extraArgs []string) *Server {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, Addr: "127.0.0.1:" + strconv.Itoa(port), tls: clientTLS}
	ports := []string{"--port", strconv.Itoa(port)}
	if clientTLS != nil {
		ports = []string{"--port", "0", "--tls-port", strconv.Itoa(port)}
	}
	s.args = append(append([]string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--loglevel", "warning"}, ports...), extraArgs...)
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

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
	s := &Server{t: t, Addr: "127.0.0.1:" + strconv.Itoa(port), args: []string{conf, "--sentinel"}}
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// Start starts the process again after Stop (with the same port, empty).
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command("redis-server", s.args...)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("testredis: start redis-server: %v (is the redis-server binary installed?)", err)
	}
	s.cmd = cmd
	s.exited = make(chan error, 1)
	go func() { s.exited <- cmd.Wait() }()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, TLSConfig: s.tls, Protocol: 2})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		var answered redis.Error
		if err == nil || errors.As(err, &answered) { // NOAUTH is an answer too
			return
		}
		select {
		case exitErr := <-s.exited:
			s.cmd = nil
			s.t.Fatalf("testredis: redis-server on %s exited (%v):\n%s", s.Addr, exitErr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("testredis: redis-server on %s did not answer: %v\n%s", s.Addr, err, out.String())
		}
		time.Sleep(10 * time.Millisecond) // polling for the process to listen
	}
}

// Stop kills the process (SIGKILL: as abrupt as a crash) and waits for it.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Client returns a new client of this server, closed at cleanup.
func (s *Server) Client(opts ...func(*redis.Options)) *redis.Client {
	o := &redis.Options{Addr: s.Addr, TLSConfig: s.tls}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	s.t.Cleanup(func() { c.Close() })
	return c
}

// String describes the server for test messages.
func (s *Server) String() string { return fmt.Sprintf("redis-server %s", s.Addr) }

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
