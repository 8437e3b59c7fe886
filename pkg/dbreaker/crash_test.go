package dbreaker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/internal/testwait"
)

// probeHolderEnv makes the test binary a replica process that takes the
// half-open probe and hangs, for the parent to kill (see TestMain).
const probeHolderEnv = "DBREAKER_TEST_PROBE_HOLDER"

// runProbeHolder: connect, take the probe, say so, and hang.
func runProbeHolder(spec string) {
	fields := strings.Fields(spec) // addr prefix name
	if len(fields) != 3 {
		fmt.Println("bad spec", spec)
		os.Exit(2)
	}
	addr, prefix, name := fields[0], fields[1], fields[2]
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	store, err := NewRedisStore(client, WithKeyPrefix(prefix))
	if err == nil {
		var b *Breaker
		if b, err = New(name, store, Config{ProbeLease: time.Second, StoreTimeout: roomy}); err == nil {
			var p *Permit
			if p, err = b.Allow(context.Background()); err == nil && p.Probe() {
				fmt.Println("probe", p.token)
				select {} // holding the probe until killed
			}
		}
	}
	fmt.Println("no probe:", err)
	os.Exit(1)
}

// A replica process killed (SIGKILL) while it holds the half-open probe
// delays recovery by at most one probe lease: another replica probes as
// soon as the lease ends, and closes the breaker.
func TestReplicaProcessKilledWhileProbing(t *testing.T) {
	const lease = time.Second
	srv := testredis.StartServer(t)
	admin := srv.Client()
	cfg := Config{FailureThreshold: 1, OpenTimeout: 10 * time.Millisecond, ProbeLease: lease}
	survivor := newReplica(t, srv.Addr, "crash", "openai", cfg)
	ctx := context.Background()
	_ = survivor.b.Do(ctx, failing)
	redisAdvance(admin)(t, 20*time.Millisecond)

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), probeHolderEnv+"="+srv.Addr+" crash openai")
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "probe ") {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("the child did not take the probe: %q %v", line, err)
	}
	token := strings.TrimSpace(strings.TrimPrefix(line, "probe "))
	_, _, probes := survivor.store.Keys("openai")
	leaseEnd, err := admin.ZScore(ctx, probes, token).Result()
	if err != nil {
		t.Fatalf("the child's lease: %v", err)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	var refused int
	testwait.For(t, 10*time.Second, "the survivor to probe", func() bool {
		p, err := survivor.b.Allow(ctx)
		if errors.Is(err, ErrTooManyProbes) {
			refused++
			return false
		}
		if err != nil {
			t.Fatalf("survivor: %v", err)
		}
		now, _ := admin.Time(ctx).Result()
		if !p.Probe() || now.UnixMilli() < int64(leaseEnd) {
			t.Fatalf("probe=%v at %d, the dead child's lease ends at %d", p.Probe(), now.UnixMilli(), int64(leaseEnd))
		}
		if late := now.Sub(time.UnixMilli(int64(leaseEnd))); late > lease/2 {
			t.Fatalf("the survivor probed %v after the lease ended", late)
		}
		p.Done(nil)
		return true
	})
	if refused == 0 {
		t.Fatal("no call was refused while the dead child's lease ran")
	}
	if s, err := survivor.b.State(ctx); err != nil || s.State != Closed {
		t.Fatalf("after the survivor's probe: %+v, %v", s, err)
	}
	t.Logf("recovery waited for the dead child's lease (%v): %d calls refused meanwhile", lease, refused)
}
