package dbreaker

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// scriptFaults is a go-redis hook that rewrites the replies of script calls
// (EVALSHA and EVAL), in single commands and in pipelines.
type scriptFaults struct {
	fault atomic.Pointer[func(*redis.Cmd)]
}

func (h *scriptFaults) set(f func(*redis.Cmd)) { h.fault.Store(&f) }
func (h *scriptFaults) clear()                 { h.fault.Store(nil) }

// apply rewrites cmd's reply if a fault is set and cmd runs a script, and
// reports whether it did.
func (h *scriptFaults) apply(cmd redis.Cmder) bool {
	f := h.fault.Load()
	c, ok := cmd.(*redis.Cmd)
	if f == nil || !ok || !strings.HasPrefix(strings.ToLower(cmd.Name()), "eval") {
		return false
	}
	(*f)(c)
	return true
}

func (h *scriptFaults) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *scriptFaults) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		// A command's error is what the hook returns: pass the command's
		// own on (NOSCRIPT, for one), or the fault's.
		err := next(ctx, cmd)
		if h.apply(cmd) {
			return cmd.Err()
		}
		return err
	}
}
func (h *scriptFaults) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			h.apply(c)
		}
		return err
	}
}

// redisReplyError is an error reply from Redis (go-redis' redis.Error).
type redisReplyError string

func (e redisReplyError) Error() string { return string(e) }
func (redisReplyError) RedisError()     {}

func TestInjectedScriptFaultsNeverPanicOrFailCalls(t *testing.T) {
	faults := []struct {
		name  string
		fault func(*redis.Cmd)
	}{
		{"error reply", func(c *redis.Cmd) { c.SetErr(redisReplyError("ERR injected script error")) }},
		{"connection error", func(c *redis.Cmd) { c.SetErr(errors.New("read tcp: connection reset by peer")) }},
		{"integer reply", func(c *redis.Cmd) { c.SetErr(nil); c.SetVal(int64(42)) }},
		{"array reply", func(c *redis.Cmd) { c.SetErr(nil); c.SetVal([]any{"closed", int64(0)}) }},
		{"nil reply", func(c *redis.Cmd) { c.SetErr(redis.Nil) }},
		{"truncated reply", func(c *redis.Cmd) {
			if s, ok := c.Val().(string); ok {
				c.SetVal(s[:len(s)/2])
			}
		}},
		{"garbage reply", func(c *redis.Cmd) { c.SetErr(nil); c.SetVal("open|\x00|x|y") }},
	}
	for _, mode := range []Consistency{Strict, Fast} {
		for _, fault := range faults {
			t.Run(mode.String()+"/"+fault.name, func(t *testing.T) {
				hook := &scriptFaults{}
				client := redis.NewClient(&redis.Options{Addr: testredis.Addr(), ContextTimeoutEnabled: true})
				client.AddHook(hook)
				t.Cleanup(func() { client.Close() })
				prefix := testredis.Prefix(t, client)
				store, err := NewRedisStore(client, WithKeyPrefix(prefix), WithLogger(discardLogger()),
					WithHealthCheckInterval(5*time.Millisecond), WithFlushInterval(time.Millisecond))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { store.Close(context.Background()) })
				b, err := New("web", store, Config{Consistency: mode, FailureThreshold: 3, StoreTimeout: roomy}, WithLogger(discardLogger()))
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				hook.set(fault.fault)
				for i := 0; i < 50; i++ {
					if err := b.Do(ctx, succeeding); err != nil {
						t.Fatalf("call %d under %s: %v", i, fault.name, err)
					}
				}
				if b.Stats().StoreErrors == 0 {
					t.Fatal("the fault never reached the breaker")
				}
				// The fault goes: the shared state works again.
				hook.clear()
				testwait.For(t, 5*time.Second, "the store to answer", func() bool { return !store.Degraded() })
				if _, err := b.Reset(ctx); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 3; i++ {
					_ = b.Do(ctx, failing)
				}
				testwait.For(t, 5*time.Second, "the shared breaker to open", func() bool {
					s, err := b.State(ctx)
					return err == nil && s.State == Open
				})
			})
		}
	}
}

// SCRIPT FLUSH empties the server's script cache: the next EVALSHA gets
// NOSCRIPT, and the store loads the script again (EVAL) without an error,
// also inside a Fast-mode flush pipeline.
func TestScriptFlushIsHarmless(t *testing.T) {
	srv := testredis.StartServer(t)
	admin := srv.Client()
	for _, mode := range []Consistency{Strict, Fast} {
		t.Run(mode.String(), func(t *testing.T) {
			r := newReplica(t, srv.Addr, "flush-"+mode.String(), "usda", Config{Consistency: mode, FailureThreshold: 3}, WithFlushInterval(time.Hour))
			r.current(t)
			ctx := context.Background()
			for round := 0; round < 3; round++ {
				if err := admin.ScriptFlush(ctx).Err(); err != nil {
					t.Fatal(err)
				}
				_ = r.b.Do(ctx, failing)
				if mode == Fast {
					if err := r.store.flushAll(ctx, true); err != nil {
						t.Fatalf("flush after SCRIPT FLUSH: %v", err)
					}
				}
			}
			if st := r.b.Stats(); st.StoreErrors != 0 {
				t.Fatalf("%d store errors after SCRIPT FLUSH", st.StoreErrors)
			}
			s, err := r.b.State(ctx)
			if err != nil || s.State != Open || s.Failures != 3 {
				t.Fatalf("after 3 failures across 3 script flushes: %+v, %v", s, err)
			}
		})
	}
}
