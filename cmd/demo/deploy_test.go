package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/healthagent/resilience/pkg/metrics"
)

// The deployment files the service ships, from this package's directory.
const (
	alertsFile     = "../../deploy/prometheus/alerts.yml"
	alertTestsFile = "../../deploy/prometheus/alerts_test.yml"
	runbooksFile   = "../../docs/operations/circuit-breaker.md"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// tool returns the path of a program the test needs; a missing one fails
// the test, saying how to install it.
func tool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: apt-get update && apt-get install -y %s", name, debianPackage)
	}
	return path
}

// alertRule is one alert of alerts.yml, as far as these tests read it.
type alertRule struct {
	name, runbook string
}

var (
	alertRE   = regexp.MustCompile(`(?m)^\s*- alert: (\S+)\s*$`)
	runbookRE = regexp.MustCompile(`(?m)^\s*runbook_url: (\S+)\s*$`)
)

// alertRules lists the alerts of alerts.yml in order.
func alertRules(t *testing.T) []alertRule {
	t.Helper()
	text := readFile(t, alertsFile)
	locs := alertRE.FindAllStringSubmatchIndex(text, -1)
	var rules []alertRule
	for i, loc := range locs {
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		r := alertRule{name: text[loc[2]:loc[3]]}
		if m := runbookRE.FindStringSubmatch(text[loc[1]:end]); m != nil {
			r.runbook = m[1]
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		t.Fatalf("no alert found in %s", alertsFile)
	}
	return rules
}

// githubAnchor is the anchor GitHub gives a Markdown heading.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Every alert links a runbook section that exists, and has a promtool unit
// test in which it fires.
func TestEveryAlertHasARunbookAndARuleTest(t *testing.T) {
	const docURL = "https://github.com/healthagent/resilience/blob/main/docs/operations/circuit-breaker.md#"
	var anchors []string
	for _, line := range strings.Split(readFile(t, runbooksFile), "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			anchors = append(anchors, githubAnchor(strings.TrimLeft(h, "#")))
		}
	}
	tests := readFile(t, alertTestsFile)
	for _, r := range alertRules(t) {
		anchor, ok := strings.CutPrefix(r.runbook, docURL)
		if !ok || !slices.Contains(anchors, anchor) {
			t.Errorf("alert %s: runbook_url %q is not a section of %s", r.name, r.runbook, runbooksFile)
		}
		firing := regexp.MustCompile(`alertname: ` + regexp.QuoteMeta(r.name) + `\s*\n\s*exp_alerts:\s*\n\s*- exp_labels:`)
		if !firing.MatchString(tests) {
			t.Errorf("alert %s: no test in %s in which it fires", r.name, alertTestsFile)
		}
	}
}

// alerts_test.yml speaks of the breakers, upstreams, chain steps and
// components the service really has.
func TestAlertRuleTestsUseRealLabelValues(t *testing.T) {
	s := &service{cfg: config{VisionPrimary: "openai", VisionFallback: "anthropic", WebSearchURL: "http://web"},
		facts: &facts{store: "postgres"}}
	var steps, primaries []string
	for _, chain := range s.chainSteps() {
		primaries = append(primaries, chain[0])
		steps = append(steps, chain[1:]...)
	}
	known := map[string][]string{
		"breaker":           upstreamNames(),
		"api":               upstreamNames(),
		"primary_api":       primaries,
		"fallback_strategy": steps,
		"component":         {degradedBreakerStore, degradedNutritionCache},
		"job":               {"health-agent", "prometheus"},
		"source":            {metrics.SourceShared, metrics.SourceLocal},
	}
	labelRE := regexp.MustCompile(`\b(breaker|api|primary_api|fallback_strategy|component|job|source)(?:="([^"]*)"|: "?([\w-]+)"?)`)
	seen := 0
	for _, m := range labelRE.FindAllStringSubmatch(readFile(t, alertTestsFile), -1) {
		value := m[2] + m[3]
		if !slices.Contains(known[m[1]], value) {
			t.Errorf("%s uses %s=%q, which the service never exports (it has %q)", alertTestsFile, m[1], value, known[m[1]])
		}
		seen++
	}
	if seen < 10 {
		t.Fatalf("only %d label values found in %s: the test no longer reads it", seen, alertTestsFile)
	}
}

// promtool checks the rules and runs their unit tests.
func TestPromtoolRuleTests(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	for _, args := range [][]string{
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../../deploy/prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// Whatever git ignores (binaries, test binaries, profiles, .env) stays out
// of the image's build context too. A .gitignore pattern without a slash
// matches at any depth, a .dockerignore pattern only at the root, so the
// first needs **/ in the second.
func TestDockerignoreKeepsOutWhatGitIgnores(t *testing.T) {
	patterns := func(path string) []string {
		var out []string
		for _, line := range strings.Split(readFile(t, path), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			out = append(out, line)
		}
		return out
	}
	docker := map[string]bool{}
	for _, p := range patterns("../../.dockerignore") {
		docker[strings.TrimPrefix(p, "/")] = true
	}
	git := patterns("../../.gitignore")
	if len(git) < 5 {
		t.Fatalf(".gitignore: only %d patterns: the test no longer reads it", len(git))
	}
	for _, p := range git {
		if strings.HasPrefix(p, "!") {
			continue
		}
		want := strings.TrimPrefix(strings.TrimSuffix(p, "/"), "/")
		if !strings.Contains(strings.TrimSuffix(p, "/"), "/") {
			want = "**/" + want
		}
		if !docker[want] {
			t.Errorf(".gitignore ignores %q, but .dockerignore has no %q: it would be sent to the image build", p, want)
		}
	}
}

// scripts/check-dashboard.sh passes on the dashboard: every query parses,
// the state panel shows each replica's own state when replicas disagree,
// and the transitions panel counts each transition of the fleet once.
func TestDashboardChecks(t *testing.T) {
	tool(t, "promtool", "prometheus")
	tool(t, "python3", "python3")
	cmd := exec.Command("../../scripts/check-dashboard.sh", "../../deploy/grafana/dashboard.json")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("scripts/check-dashboard.sh: %v\n%s", err, out)
	}
}
