package main

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/healthagent/resilience/internal/fakeupstream"
	"github.com/healthagent/resilience/internal/testredis"
	"github.com/healthagent/resilience/pkg/dbreaker"
)

// screenshotFile is where the browser test leaves its screenshot of the
// console: the README's picture is made with
//
//	go test -run TestConsoleInABrowser ./cmd/demo/ -console.screenshot=../../docs/console.png
var screenshotFile = flag.String("console.screenshot", "", "where TestConsoleInABrowser saves its screenshot (default: a temporary file)")

// The breaker console in a real headless Chromium, over three replicas
// sharing Redis and one fake upstream: USDA fails and the page shows its
// breaker open, and since when; an operator forces it closed with the token (a wrong token
// first), every replica's view follows, and the action is in the history.
func TestConsoleInABrowser(t *testing.T) {
	chromium := tool(t, "chromium", "chromium")
	const token = "console-test-token-0123456789"
	const roomy = 30 * time.Second // a busy machine; no wait here is what the test is about
	fake, err := fakeupstream.New(fakeupstream.Config{USDAKey: "usda-key"})
	if err != nil {
		t.Fatal(err)
	}
	upstream := httptest.NewServer(fake)
	t.Cleanup(upstream.Close)
	ep := fakeupstream.EndpointsAt(upstream.URL)
	redisClient := testredis.Client(t)
	prefix := testredis.Prefix(t, redisClient)
	var replicas []*service
	for i := 1; i <= 3; i++ {
		cfg, err := loadConfig(envOf(map[string]string{
			"REDIS_URL":                  "redis://" + testredis.Addr() + "/0",
			"CIRCUIT_BREAKER_KEY_PREFIX": prefix,
			"DATABASE_URL":               "postgres://127.0.0.1:1/x?sslmode=disable", // none: the embedded data answers
			"OPENAI_BASE_URL":            ep.OpenAI, "OPENAI_API_KEY": "k",
			"ANTHROPIC_BASE_URL": ep.Anthropic, "ANTHROPIC_API_KEY": "k",
			"USDA_BASE_URL": upstream.URL, "USDA_API_KEY": "usda-key",
			"WEB_SEARCH_URL":          ep.Web,
			"CIRCUIT_BREAKER_TIMEOUT": "10m", // open until the operator acts
			"API_RETRY_BASE_DELAY":    "1ms",
			"CONSOLE_TOKEN":           token,
			"REPLICA_NAME":            "replica-" + strconv.Itoa(i),
		}))
		if err != nil {
			t.Fatal(err)
		}
		s, err := newService(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.close(context.Background()) })
		replicas = append(replicas, s)
	}
	metricsPort := httptest.NewServer(replicas[0].metricsHandler())
	t.Cleanup(metricsPort.Close)
	t.Cleanup(func() { replicas[0].console.Close(context.Background()) }) // first: ends the page's stream

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(browser, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// waitFor polls a JavaScript predicate in the page until it holds.
	waitFor := func(what, predicate string) {
		t.Helper()
		if _, err := chromedp.Run(browser, chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(roomy))); err != nil {
			t.Fatalf("the page never showed %s: %v", what, err)
		}
	}
	const usdaRow = `document.querySelector('#breaker-table tr[data-breaker="usda"]')`
	const usdaViews = `[...document.querySelectorAll('#replica-table li[data-breaker="usda"]')]`

	do("opening the console", chromedp.Navigate(metricsPort.URL+"/console"))
	waitFor("the live stream", `document.getElementById('conn').textContent === 'Live'`)
	waitFor("usda closed on three replicas", usdaRow+`?.dataset.state === 'closed' && `+usdaViews+`.length === 3`)

	// USDA fails: the meal requests of the three replicas trip its breaker.
	if err := fake.SetFault(fakeupstream.USDA, fakeupstream.Fault{Outage: fakeupstream.OutageError}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		if code, _, _ := postMeal(t, replicas[i%3].apiHandler(), "150 g chicken breast"); code != http.StatusOK {
			t.Fatalf("meal %d: status %d", i, code)
		}
	}
	waitFor("usda open, and since when", usdaRow+`?.dataset.state === 'open' && `+usdaRow+`.textContent.includes('OPEN') && `+
		`/open since \d\d:\d\d:\d\d \(for \d+ s\)/.test(`+usdaRow+`.textContent)`)
	waitFor("every replica's view of usda open", usdaViews+`.every(li => li.dataset.state === 'open' && li.dataset.verdict === 'agrees')`)

	// Force it closed. A wrong token is refused and the dialog says so.
	do("opening the dialog", chromedp.Click(chromedp.CSS(`tr[data-breaker="usda"] button[data-action="force-closed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm`)),
		chromedp.SendKeys(chromedp.CSS(`#op-name`), "Ada (on call)"),
		chromedp.SendKeys(chromedp.CSS(`#op-token`), "not-the-token-at-all\r")) // Enter submits
	waitFor("the wrong token refused", `document.getElementById('confirm').open && document.getElementById('confirm-error').textContent.includes('Bearer')`)
	if s, err := replicas[1].breaker("usda").State(context.Background()); err != nil || s.State != dbreaker.Open {
		t.Fatalf("after a wrong token: %+v, %v", s, err)
	}
	if _, err := chromedp.Run(browser, chromedp.Evaluate[bool](`(document.getElementById('op-token').value = '') === ''`)); err != nil {
		t.Fatal(err)
	}
	do("the right token", chromedp.SendKeys(chromedp.CSS(`#op-token`), token+"\r"))
	waitFor("the action confirmed", `!document.getElementById('confirm').open && document.getElementById('announce').textContent.includes('Forced closed')`)
	confirmed := time.Now()

	// Every replica's view follows within a second of the confirmation.
	for _, r := range replicas {
		for r.breaker("usda").View().State != dbreaker.ForcedClosed {
			if time.Since(confirmed) > time.Second {
				t.Fatalf("%s still sees usda %v a second after the action", r.cfg.ReplicaName, r.breaker("usda").View().State)
			}
			time.Sleep(time.Millisecond) // polling interval
		}
	}
	waitFor("usda forced closed", usdaRow+`?.dataset.state === 'forced_closed'`)
	waitFor("every replica's view following, agreeing with Redis",
		usdaViews+`.length === 3 && `+usdaViews+`.every(li => li.dataset.state === 'forced_closed' && li.dataset.verdict === 'agrees')`)
	t.Logf("the page showed every replica forced closed %v after the confirmation", time.Since(confirmed).Round(time.Millisecond))
	waitFor("the action and the trip in the history",
		`[...document.querySelectorAll('#history-table tbody tr')].some(r => r.dataset.breaker === 'usda' && r.dataset.action === 'forced_closed' && r.dataset.by === 'Ada (on call)') && `+
			`[...document.querySelectorAll('#history-table tbody tr')].some(r => r.dataset.breaker === 'usda' && r.dataset.to === 'open' && r.textContent.includes('503'))`)

	shot, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(shot))
	if err != nil || cfg.Width < 800 || cfg.Height < 400 {
		t.Fatalf("the screenshot is no picture of the page: %dx%d, %v", cfg.Width, cfg.Height, err)
	}
	path := *screenshotFile
	if path == "" {
		path = filepath.Join(t.TempDir(), "console.png")
	}
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
}
