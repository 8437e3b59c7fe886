// Package redisproc runs redis-server processes of the caller's own on
// loopback ports: for tests that break Redis (internal/testredis) and for
// the load tester's redis-down scenario. A process is stopped by its PID
// (SIGKILL, as abrupt as a crash) and may be started again on the same
// port, empty.
//
//	s, err := redisproc.Start(ctx, redisproc.Config{Dir: dir})
//	defer s.Stop()
//	s.Stop(); err = s.Start(ctx) // Redis "restarts" empty
package redisproc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config says what to run.
type Config struct {
	// Dir is the server's working directory (it keeps nothing on disk, but
	// Redis wants one). Required.
	Dir string
	// Args are appended to the command line (e.g. "--requirepass", "pw").
	Args []string
	// TLS, when set, makes the server TLS-only (its certificate files come
	// in Args) and is what the readiness check trusts.
	TLS *tls.Config
	// Argv, when set, replaces the whole command line (e.g. a sentinel's
	// configuration file and "--sentinel"); Addr must then say where the
	// process listens.
	Argv []string
	Addr string
}

// Server is one redis-server process. Safe for concurrent use.
type Server struct {
	// Addr is the loopback address the server listens on.
	Addr string
	args []string
	tls  *tls.Config

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error
	output *lockedBuffer
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

// Start starts a server as cfg says, on a free loopback port unless Argv
// gives its own, and waits until it answers.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" && cfg.Argv == nil {
		return nil, errors.New("redisproc: Config.Dir is required")
	}
	s := &Server{tls: cfg.TLS}
	if cfg.Argv != nil {
		if cfg.Addr == "" {
			return nil, errors.New("redisproc: Config.Addr is required with Argv")
		}
		s.Addr, s.args = cfg.Addr, cfg.Argv
	} else {
		port, err := FreePort()
		if err != nil {
			return nil, fmt.Errorf("redisproc: a free port: %w", err)
		}
		s.Addr = "127.0.0.1:" + strconv.Itoa(port)
		ports := []string{"--port", strconv.Itoa(port)}
		if cfg.TLS != nil {
			ports = []string{"--port", "0", "--tls-port", strconv.Itoa(port)}
		}
		s.args = append(append([]string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", cfg.Dir, "--loglevel", "warning"}, ports...), cfg.Args...)
	}
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Start starts the process again after Stop (same port, empty) and waits
// until it answers PING (an error reply such as NOAUTH counts as an
// answer). Starting a running server does nothing.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	cmd := exec.Command("redis-server", s.args...)
	s.output = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = s.output, s.output
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redisproc: start redis-server (is it installed?): %w", err)
	}
	s.cmd, s.exited = cmd, make(chan error, 1)
	go func() { s.exited <- cmd.Wait() }()

	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, TLSConfig: s.tls, Protocol: 2})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := c.Ping(pctx).Err()
		cancel()
		var answered redis.Error
		if err == nil || errors.As(err, &answered) {
			return nil
		}
		select {
		case exitErr := <-s.exited:
			s.cmd = nil
			return fmt.Errorf("redisproc: redis-server on %s exited (%v):\n%s", s.Addr, exitErr, s.output.String())
		default:
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("redisproc: redis-server on %s did not answer: %v\n%s", s.Addr, err, s.output.String())
		}
		time.Sleep(10 * time.Millisecond) // polling for the process to listen
	}
}

// Stop kills the process by its PID and waits for it to exit. Stopping a
// stopped server does nothing; Running tells which it is.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.kill()
	}
}

// Pause stops the process with SIGSTOP: it keeps its connections and
// answers nothing, like a server stalled by a long command or a frozen VM,
// until Resume. Pausing a stopped server does nothing.
func (s *Server) Pause() error { return s.signal(syscall.SIGSTOP) }

// Resume continues a paused process (SIGCONT).
func (s *Server) Resume() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("redisproc: %v to redis-server on %s: %w", sig, s.Addr, err)
	}
	return nil
}

// Running reports whether the process runs.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// lockedBuffer keeps the first 64 KiB of a process's output, for errors.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) < 1<<16 {
		b.buf = append(b.buf, p...)
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
