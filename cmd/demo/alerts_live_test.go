package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/healthagent/resilience/internal/fakeupstream"
	"github.com/healthagent/resilience/internal/redisproc"
	"github.com/healthagent/resilience/internal/testpg"
	"github.com/healthagent/resilience/internal/testredis"
)

// The alerts of deploy/prometheus/alerts.yml, run by the real Prometheus
// against two live replicas: none is pending or firing while the
// upstreams are healthy, captions without food among the meals; with USDA down, Anthropic failing half its calls
// (its breaker disabled by an operator) and OpenAI healthy, exactly the
// alerts that should fire do, and none about OpenAI; with Redis down and
// then OpenAI, the replicas say they are degraded and their local breakers
// open OpenAI's, which CircuitBreakerOpen sees; with the replicas stopped,
// the alerts about them fire.
//
// Time runs sixty times faster: the test's copy of the rules reads every
// minute of a `for:` or a range as a second, and Prometheus scrapes every
// second and evaluates every half second.
func TestAlertsAgainstLiveReplicas(t *testing.T) {
	promBin := tool(t, "prometheus", "prometheus")
	fake, err := fakeupstream.New(fakeupstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	upstream := startFake(t, fake)
	ep := fakeupstream.EndpointsAt(upstream)
	redisServer := testredis.StartServer(t) // stopped halfway
	env := map[string]string{
		"UPSTREAMS": "real", "PORT": "0", "METRICS_PORT": "0", "HOST": "127.0.0.1", "METRICS_HOST": "127.0.0.1",
		"REDIS_URL":    "redis://" + redisServer.Addr,
		"DATABASE_URL": testpg.DSN(), "NUTRITION_SCHEMA": testpg.NewSchema(t, testpg.Connect(t)),
		"OPENAI_BASE_URL": ep.OpenAI, "OPENAI_API_KEY": "k", "ANTHROPIC_BASE_URL": ep.Anthropic, "ANTHROPIC_API_KEY": "k",
		"USDA_BASE_URL": upstream, "USDA_API_KEY": "k", "WEB_SEARCH_URL": ep.Web,
		"API_RETRY_MAX": "0", "CIRCUIT_BREAKER_TIMEOUT": "10m", // an open breaker stays open for the test
	}
	replicas := []*liveReplica{startReplica(t, env), startReplica(t, env)}
	prom := startPrometheus(t, promBin, scaledRules(t), replicas)

	traffic := startTraffic(t, replicas)
	// Warming up: until both replicas are scraped with traffic, no replica
	// is up for the rules (HealthAgentDown may fire), so wait for that
	// alert to resolve too.
	prom.waitFor(t, "both replicas scraped, with traffic, and no alert", func(p promState) bool {
		return len(p.alerts(t)) == 0 && p.value(t, `count(up{job="health-agent"} == 1)`) == 2 &&
			p.value(t, `sum(api_call_duration_seconds_count{api="usda"})`) > 0 &&
			p.value(t, `sum(api_call_duration_seconds_count{api="anthropic"})`) > 0
	})

	// Healthy: no alert pending or firing for well over the longest range
	// and `for:` of the upstream alerts take together (2 s + 2 s), while
	// the traffic's captions without food are answered by the model, no
	// fallback.
	noFoodBefore := traffic.noFood.Load()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		if active := prom.alerts(t); len(active) > 0 {
			t.Fatalf("healthy upstreams, yet alerts are active: %v", active)
		}
		time.Sleep(250 * time.Millisecond) // polling interval
	}
	if n := traffic.noFood.Load() - noFoodBefore; n == 0 {
		t.Fatal("no caption without food was answered by openai as such while healthy: the test no longer sends them")
	}

	// Faults: USDA down; Anthropic fails half its calls, its breaker
	// disabled by an operator so that it keeps calling.
	var out, errOut bytes.Buffer
	if code := runBreakers(context.Background(), []string{"disable", "anthropic"}, envOf(env), &out, &errOut); code != 0 {
		t.Fatalf("breakers disable anthropic: exit %d: %s", code, errOut.String())
	}
	if err := fake.SetFault(fakeupstream.USDA, fakeupstream.Fault{Outage: fakeupstream.OutageError}); err != nil {
		t.Fatal(err)
	}
	if err := fake.SetFault(fakeupstream.Anthropic, fakeupstream.Fault{ErrorRate: 0.5, ErrorStatus: 500}); err != nil {
		t.Fatal(err)
	}
	wantFiring := []string{
		`CircuitBreakerOpen{breaker="usda"}`,
		`FrequentFallbacks{fallback_strategy="openai",primary_api="anthropic"}`,
		`FrequentFallbacks{fallback_strategy="postgres",primary_api="usda"}`,
		`HighAPIFailureRate{api="anthropic"}`,
	}
	var last []activeAlert
	prom.waitFor(t, "the alerts of the faults, and no more", func(p promState) bool {
		last = p.alerts(t)
		for _, a := range last {
			if a.about("openai") && !a.is("FrequentFallbacks") {
				t.Fatalf("an alert about healthy OpenAI: %v", a)
			}
		}
		// HighAPIFailureRate{api="usda"} may pend for the five failures
		// that opened the breaker, but the rejections after them must not
		// keep it alive.
		return slices.Equal(firing(last), wantFiring) && !slices.ContainsFunc(last, func(a activeAlert) bool {
			return a.is("HighAPIFailureRate") && a.about("usda")
		})
	}, func() string { return fmt.Sprintf("active alerts: %v", last) })
	if !slices.ContainsFunc(last, func(a activeAlert) bool {
		return a.is("CircuitBreakerProtectionOff") && a.about("anthropic") && a.State == "pending"
	}) {
		t.Errorf("CircuitBreakerProtectionOff{breaker=anthropic} is not pending: %v", last)
	}

	// Redis goes down, then OpenAI: both replicas say they are degraded,
	// and their local breakers open OpenAI's.
	redisServer.Stop()
	if err := fake.SetFault(fakeupstream.OpenAI, fakeupstream.Fault{Outage: fakeupstream.OutageError}); err != nil {
		t.Fatal(err)
	}
	want := []string{`CircuitBreakerOpen{breaker="openai"}`}
	for _, r := range replicas {
		want = append(want, `BreakerStoreDegraded{instance="`+r.metrics+`"}`)
	}
	prom.waitFor(t, "BreakerStoreDegraded on both replicas, and OpenAI open in their local breakers", func(p promState) bool {
		last = p.alerts(t)
		got := firing(last)
		return !slices.ContainsFunc(want, func(w string) bool { return !slices.Contains(got, w) }) &&
			p.value(t, `count(circuit_breaker_state{breaker="openai",state="open",source="local"} == 1)`) == 2
	}, func() string { return fmt.Sprintf("active alerts: %v", last) })

	// Replicas down: first one, then both.
	traffic.stop()
	replicas[1].stop(t)
	prom.waitFor(t, "HealthAgentReplicaDown firing", func(p promState) bool {
		return slices.Contains(firing(p.alerts(t)), `HealthAgentReplicaDown{instance="`+replicas[1].metrics+`",job="health-agent"}`)
	})
	replicas[0].stop(t)
	prom.waitFor(t, "HealthAgentDown firing", func(p promState) bool {
		return slices.Contains(firing(p.alerts(t)), `HealthAgentDown{}`)
	})
}

// scaledRules is alerts.yml with minutes read as seconds, in every `for:`
// and every range.
func scaledRules(t *testing.T) string {
	t.Helper()
	text := readFile(t, alertsFile)
	forRE := regexp.MustCompile(`(?m)^(\s*for: )(\d+)m\s*$`)
	rangeRE := regexp.MustCompile(`\[(\d+)m\]`)
	if len(forRE.FindAllString(text, -1)) != len(alertRules(t)) || !rangeRE.MatchString(text) {
		t.Fatalf("%s: expected a `for:` in minutes in every alert and ranges in minutes", alertsFile)
	}
	text = forRE.ReplaceAllString(text, "${1}${2}s")
	text = rangeRE.ReplaceAllString(text, "[${1}s]")
	if regexp.MustCompile(`\[\d+[hd]\]|for: \d+h`).MatchString(text) {
		t.Fatalf("%s: a duration in hours or days the test does not scale", alertsFile)
	}
	return text
}

// liveReplica is one replica of the service, served on loopback ports.
type liveReplica struct {
	api, metrics string
	cancel       context.CancelFunc
	done         chan error
}

func startReplica(t *testing.T, env map[string]string) *liveReplica {
	t.Helper()
	cfg, err := loadConfig(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &liveReplica{cancel: cancel, done: make(chan error, 1)}
	ready := make(chan [2]string, 1)
	go func() { r.done <- serve(ctx, cfg, slog.New(slog.DiscardHandler), ready) }()
	select {
	case addrs := <-ready:
		r.api, r.metrics = addrs[0], addrs[1]
	case err := <-r.done:
		cancel()
		t.Fatalf("replica: %v", err)
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop stops the replica and waits for it; stopping twice is harmless.
func (r *liveReplica) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err, ok := <-r.done; ok {
		close(r.done)
		if err != nil {
			t.Errorf("replica %s: %v", r.api, err)
		}
	}
}

// traffic sends a meal, a caption without food and a question to the
// replicas in turn, about thirty requests a second, until stopped.
type traffic struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// noFood counts the captions without food the primary model answered
	// as such (vision.no_food, served by openai).
	noFood atomic.Int64
}

// noFoodCaptions are captions in which a model finds no food.
var noFoodCaptions = []string{"hello there", "lol", "a plate of zxqv wobblefruit"}

func startTraffic(t *testing.T, replicas []*liveReplica) *traffic {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &traffic{cancel: cancel}
	tr.wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			r := replicas[i%len(replicas)]
			noFood, _ := json.Marshal(mealRequest{Caption: noFoodCaptions[i%len(noFoodCaptions)]})
			for _, req := range [][2]string{
				{"/v1/meals", `{"caption":"150 g chicken breast"}`},
				{"/v1/meals", string(noFood)},
				{"/v1/chat", `{"message":"How much protein is in an egg?"}`},
			} {
				hreq, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.api+req[0], strings.NewReader(req[1]))
				resp, err := http.DefaultClient.Do(hreq)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					t.Errorf("traffic: %v", err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("traffic: %s: %s", req[0], resp.Status)
				}
				var ans mealAnswer
				if req[1] == string(noFood) && json.Unmarshal(body, &ans) == nil && ans.Vision.NoFood && ans.Vision.ServedBy == "openai" {
					tr.noFood.Add(1)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	t.Cleanup(tr.stop)
	return tr
}

func (tr *traffic) stop() {
	tr.cancel()
	tr.wg.Wait()
}

// promState is a Prometheus server the test started.
type promState struct{ base string }

// startPrometheus runs prometheus with the rules, scraping the replicas'
// metrics as job health-agent, and waits until it is ready. It is killed
// at cleanup.
func startPrometheus(t *testing.T, bin, rules string, replicas []*liveReplica) promState {
	t.Helper()
	dir := t.TempDir()
	var targets []string
	for _, r := range replicas {
		targets = append(targets, strconv.Quote(r.metrics))
	}
	config := `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 500ms
rule_files: [rules.yml]
scrape_configs:
  - job_name: health-agent
    static_configs:
      - targets: [` + strings.Join(targets, ", ") + `]
`
	for name, text := range map[string]string{"prometheus.yml": config, "rules.yml": rules} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port, err := redisproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logs, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close() // the process keeps its own descriptor
	logText := func() string { b, _ := os.ReadFile(logs.Name()); return string(b) }
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logText())
		}
	})
	p := promState{base: "http://" + addr}
	p.waitFor(t, "prometheus ready with every rule", func(p promState) bool {
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", logText())
		default:
		}
		var rules struct {
			Groups []struct {
				Rules []struct{ Name string }
			}
		}
		if p.get(&rules, "/api/v1/rules", nil) != nil {
			return false
		}
		n := 0
		for _, g := range rules.Groups {
			n += len(g.Rules)
		}
		return n == len(alertRules(t))
	})
	return p
}

// get decodes the data of a Prometheus API answer into v.
func (p promState) get(v any, path string, query url.Values) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path+"?"+query.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("%s: %s: %w", path, resp.Status, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, body.Error)
	}
	return json.Unmarshal(body.Data, v)
}

// value is the single value of an instant query, or -1 when it has no
// result.
func (p promState) value(t *testing.T, query string) float64 {
	t.Helper()
	var data struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	if err := p.get(&data, "/api/v1/query", url.Values{"query": {query}}); err != nil {
		t.Fatalf("query %s: %v", query, err)
	}
	if len(data.Result) != 1 {
		return -1
	}
	s, _ := data.Result[0].Value[1].(string)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("query %s: value %v", query, data.Result[0].Value)
	}
	return f
}

// activeAlert is an alert pending or firing.
type activeAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func (a activeAlert) is(name string) bool { return a.Labels["alertname"] == name }

// about reports whether the alert names the breaker, api or step.
func (a activeAlert) about(name string) bool {
	return a.Labels["breaker"] == name || a.Labels["api"] == name ||
		a.Labels["primary_api"] == name || a.Labels["fallback_strategy"] == name
}

// String is the alert as name{labels} (severity left out), with its state.
func (a activeAlert) String() string { return a.key() + " " + a.State }

func (a activeAlert) key() string {
	var kv []string
	for k, v := range a.Labels {
		if k != "alertname" && k != "severity" {
			kv = append(kv, k+"="+strconv.Quote(v))
		}
	}
	sort.Strings(kv)
	return a.Labels["alertname"] + "{" + strings.Join(kv, ",") + "}"
}

// alerts lists the alerts pending or firing.
func (p promState) alerts(t *testing.T) []activeAlert {
	t.Helper()
	var data struct {
		Alerts []activeAlert `json:"alerts"`
	}
	if err := p.get(&data, "/api/v1/alerts", nil); err != nil {
		t.Fatalf("alerts: %v", err)
	}
	return data.Alerts
}

// firing lists the keys of the firing alerts, sorted.
func firing(alerts []activeAlert) []string {
	var out []string
	for _, a := range alerts {
		if a.State == "firing" {
			out = append(out, a.key())
		}
	}
	sort.Strings(out)
	return out
}

// waitFor polls cond until it holds; a minute is room enough on a busy
// machine for what takes seconds on a quiet one. detail, if given, says
// what was last seen.
func (p promState) waitFor(t *testing.T, what string, cond func(promState) bool, detail ...func() string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond(p) {
		if time.Now().After(deadline) {
			msg := "timed out waiting for " + what
			for _, d := range detail {
				msg += ": " + d()
			}
			t.Fatal(msg)
		}
		time.Sleep(200 * time.Millisecond) // polling interval
	}
}
