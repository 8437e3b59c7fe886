package dbreaker

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"go.uber.org/goleak"
)

// Every test stops what it starts: no goroutine outlives the package's
// tests.
func TestMain(m *testing.M) {
	if spec := os.Getenv(probeHolderEnv); spec != "" {
		runProbeHolder(spec)
	}
	// go-redis logs each failed dial; the fault tests cause many on purpose.
	redis.SetLogger(quietRedisLogger{})
	goleak.VerifyTestMain(m)
}

type quietRedisLogger struct{}

func (quietRedisLogger) Printf(context.Context, string, ...any) {}
