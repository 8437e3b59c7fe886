package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/healthagent/resilience/internal/redisproc"
)

// redisServer is a redis-server process of the tool's own (package
// redisproc), in a temporary directory of its own: the redis-down scenario
// stops and restarts it.
type redisServer struct {
	*redisproc.Server
	dir string
}

// startRedisServer starts redis-server on a free loopback port.
func startRedisServer(ctx context.Context) (*redisServer, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, fmt.Errorf("loadtest: the redis-down scenario starts its own redis-server, which is not installed: %w", err)
	}
	dir, err := os.MkdirTemp("", "loadtest-redis-")
	if err != nil {
		return nil, fmt.Errorf("loadtest: redis-server directory: %w", err)
	}
	s, err := redisproc.Start(ctx, redisproc.Config{Dir: dir})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	return &redisServer{Server: s, dir: dir}, nil
}

// stop kills the process by its PID; it is an error when it is not running.
func (s *redisServer) stop() error {
	if !s.Running() {
		return errors.New("loadtest: redis-server is not running")
	}
	s.Stop()
	return nil
}

// close stops the process if it runs and removes its directory.
func (s *redisServer) close() {
	s.Stop()
	os.RemoveAll(s.dir)
}
