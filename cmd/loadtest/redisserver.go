package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/healthagent/resilience/pkg/retry"
	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server process of the tool's own, on a free
// loopback port, keeping nothing on disk: the redis-down scenario stops and
// restarts it. Safe for concurrent use.
type redisServer struct {
	addr  string
	args  []string
	dir   string
	clock retry.Clock

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error
	output *lockedBuffer
}

// startRedisServer starts redis-server on a free loopback port.
func startRedisServer(ctx context.Context, clock retry.Clock) (*redisServer, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, fmt.Errorf("loadtest: the redis-down scenario starts its own redis-server, which is not installed: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("loadtest: a free port for redis-server: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", "loadtest-redis-")
	if err != nil {
		return nil, fmt.Errorf("loadtest: redis-server directory: %w", err)
	}
	s := &redisServer{
		addr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		dir:   dir,
		clock: clock,
		args: []string{"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
			"--dir", dir, "--loglevel", "warning"},
	}
	if err := s.start(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// start starts the process (again, on the same port, empty) and waits until
// it answers PING.
func (s *redisServer) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	cmd := exec.Command("redis-server", s.args...)
	s.output = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = s.output, s.output
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("loadtest: start redis-server: %w", err)
	}
	s.cmd, s.exited = cmd, make(chan error, 1)
	go func() { s.exited <- cmd.Wait() }()

	c := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1})
	defer c.Close()
	deadline := s.clock.Now().Add(10 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := c.Ping(pctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case exitErr := <-s.exited:
			s.cmd = nil
			return fmt.Errorf("loadtest: redis-server on %s exited (%v): %s", s.addr, exitErr, s.output.String())
		default:
		}
		if ctx.Err() != nil || s.clock.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("loadtest: redis-server on %s does not answer: %v: %s", s.addr, err, s.output.String())
		}
		t := s.clock.NewTimer(20 * time.Millisecond) // waiting for the process to listen
		<-t.C()
	}
}

// stop kills the process by its PID (SIGKILL, as abrupt as a crash) and
// waits for it to exit.
func (s *redisServer) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("loadtest: redis-server is not running")
	}
	s.kill()
	return nil
}

func (s *redisServer) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// close stops the process if it runs and removes its directory.
func (s *redisServer) close() {
	s.mu.Lock()
	if s.cmd != nil {
		s.kill()
	}
	s.mu.Unlock()
	os.RemoveAll(s.dir)
}

// lockedBuffer keeps a process's output for error messages.
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
