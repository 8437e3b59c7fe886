package main

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// TestMain makes the test binary a replica process when -procs re-executes
// it, and checks that every test stops what it starts.
func TestMain(m *testing.M) {
	if raw := os.Getenv(replicaEnv); raw != "" {
		os.Exit(replicaProcess(context.Background(), raw, os.Stdin, os.Stdout, os.Stderr))
	}
	redis.SetLogger(redisLog{})
	goleak.VerifyTestMain(m)
}
