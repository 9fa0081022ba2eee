package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	mqtt3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/borda-edge/borda/internal/httpguard"
	"github.com/borda-edge/borda/internal/testkit"
)

// browser is a headless Debian chromium driven over the DevTools protocol.
type browser struct {
	ctx       context.Context
	artifacts string // screenshots
	loads     int
}

// newBrowser starts chromium for one test and kills it by PID when the test
// ends. Without chromium the test fails, naming the Debian package, like
// every other test of a real tool.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := testkit.RequireCommand(t, "chromium", "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	pid := chromedp.FromContext(ctx).Browser.Process().Pid
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser to exit
		if syscall.Kill(pid, 0) == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	dir := os.Getenv("BORDA_ARTIFACTS") // make test: test-artifacts/ in the repository
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, "dashboard", t.Name())
	if err := os.RemoveAll(dir); err != nil { // the previous run's screenshots
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("dashboard screenshots in %s", dir)
	return &browser{ctx: ctx, artifacts: dir}
}

// open loads a dashboard page afresh (a full load each time: the pages are
// #fragments of one document, and a fragment-only navigation can race with
// the previous page's rendering).
func (b *browser) open(t *testing.T, base, page string) {
	t.Helper()
	b.loads++
	b.run(t, "open "+page, chromedp.Navigate(fmt.Sprintf("%s/?load=%d#/%s", base, b.loads, page)))
	b.waitJS(t, "page "+page, fmt.Sprintf("document.body.dataset.page === %q", strings.SplitN(page, "/", 2)[0]), 5*time.Second)
}

// eval runs JavaScript in the page.
func (b *browser) eval(t *testing.T, what, js string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js+"; true")); err != nil {
		b.fatal(t, what, err)
	}
}

// evalInt runs JavaScript in the page and returns its number.
func (b *browser) evalInt(t *testing.T, what, js string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
	if err != nil {
		b.fatal(t, what, err)
	}
	return n
}

// run runs actions with a time limit.
func (b *browser) run(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fatal(t, what, err)
	}
}

// fatal fails the test, showing what the page said.
func (b *browser) fatal(t *testing.T, what string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	reqs, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`performance.getEntriesByType('resource').map(e => e.name.replace(location.origin, '')).filter(n => n.startsWith('/api/')).slice(-10)`))
	t.Fatalf("%s: %v\npage text:\n%s\nlast API requests:\n%s", what, err, page, strings.Join(reqs, "\n"))
}

// waitJS waits until the JavaScript expression is truthy.
func (b *browser) waitJS(t *testing.T, what, expr string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.fatal(t, what, err)
	}
}

// screenshot saves the whole page as name.png among the artifacts.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		b.fatal(t, "screenshot "+name, err)
	}
	p := filepath.Join(b.artifacts, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

func publishReading(t *testing.T, c mqtt3.Client, device string, value float64) {
	t.Helper()
	waitToken(t, "publish", c.Publish("sensors/"+device+"/temperature", 1, false,
		fmt.Sprintf(`{"value":%g,"location":"lab"}`, value)))
}

// TestDashboardBrowser drives every page in a real browser against a
// running gateway: a published reading shows on the devices page within
// 2 s, an alert appears when a rule fires, a device chart draws its points.
func TestDashboardBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	cfg := testConfig(t)
	cfg.Node.Name, cfg.Node.Site, cfg.Node.Labels = "gw-7", "plant-a", map[string]string{"line": "3"}
	g := startGateway(t, cfg)
	b := newBrowser(t)
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "dash-test", true, nil)
	base := g.httpURL()

	b.open(t, base, "devices")
	b.waitJS(t, "live stream", `document.getElementById('live').textContent === 'live'`, 5*time.Second)
	start := time.Now()
	publishReading(t, pub, "dash1", 21.5)
	b.waitJS(t, "reading on the devices page",
		`(r => r && r.textContent.includes('21.5'))(document.querySelector('tr[data-device="dash1"]'))`, 2*time.Second)
	t.Logf("reading shown %s after publishing", time.Since(start).Round(time.Millisecond))
	b.waitJS(t, "sparkline", `+(document.querySelector('canvas.spark[data-device="dash1"]')?.dataset.points || 0) > 0`, 5*time.Second)
	b.screenshot(t, "devices")

	b.run(t, "search", chromedp.SendKeys("#device-search", "nothing-matches"))
	b.waitJS(t, "search result", `document.getElementById('device-rows').textContent.includes('no device matches')`, 3*time.Second)

	b.open(t, base, "overview")
	b.waitJS(t, "overview cards", `(c => c && c.textContent.includes('Broker') && c.textContent.includes('vision off'))(document.getElementById('overview-cards'))`, 5*time.Second)
	b.waitJS(t, "node identity", `(c => c.includes('gw-7') && c.includes('plant-a') && c.includes('line=3'))(document.getElementById('overview-cards').textContent)`, 5*time.Second)
	b.screenshot(t, "overview")

	b.open(t, base, "alerts")
	b.waitJS(t, "alerts table", `!!document.getElementById('alerts-firing-table')`, 5*time.Second)
	publishReading(t, pub, "dash1", 85) // the seed's rule: temperature > 80
	b.waitJS(t, "firing alert", `(t => t && t.textContent.includes('HIGH_TEMPERATURE') && t.textContent.includes('dash1'))(document.getElementById('alerts-firing-table'))`, 5*time.Second)
	b.screenshot(t, "alerts")

	for _, v := range []float64{22, 23.5, 24} {
		publishReading(t, pub, "dash1", v)
	}
	b.open(t, base, "device/dash1")
	b.waitJS(t, "chart with data points", `(c => c && +c.dataset.points > 0 && c.querySelector('canvas'))(document.querySelector('.chart[data-metric="sensors_temperature"]'))`, 5*time.Second)
	b.run(t, "7 day range", chromedp.Click(`button[data-range="7d"]`))
	b.waitJS(t, "7 day chart", `(c => c && +c.dataset.points > 0)(document.querySelector('.chart[data-metric="sensors_temperature"]'))`, 5*time.Second)
	b.screenshot(t, "device")

	b.open(t, base, "cameras")
	b.waitJS(t, "vision off", `!!document.getElementById('vision-off')`, 5*time.Second)
	b.screenshot(t, "cameras")

	b.open(t, base, "device/no-such-device")
	b.waitJS(t, "visible error", `(e => !e.hidden && e.textContent.includes('no-such-device is not known'))(document.getElementById('error'))`, 5*time.Second)
	b.screenshot(t, "error")
	// Seven page loads, one stream left (a browser has six connections).
	testkit.Eventually(t, 5*time.Second, "one live stream", func() bool { return g.metric(t, "borda_dashboard_stream_clients") == 1 })
}

// TestDashboardBrowserAuth: with the default configuration plus a token
// and a user (http.guard.auth.public_read: auto, so reads now need
// credentials), the page itself loads, asks for credentials, says when
// they are wrong (one failed attempt per try, not one per widget) and
// shows data with a token or with user and password.
func TestDashboardBrowserAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	const token, user, password = "dashboard-test-token-0123456789", "operator", "operator-pass-1"
	for _, tt := range []struct {
		name, token, user, password string
	}{
		{name: "token", token: token},
		{name: "user", user: user, password: password},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.HTTP.Guard.Auth.Tokens = []httpguard.Secret{token}
			cfg.HTTP.Guard.Auth.Users = []httpguard.User{{Username: user, Password: password}}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			g := startGateway(t, cfg)
			httpGet(t, g.httpURL()+"/api/v1/dashboard/overview", http.StatusUnauthorized) // reads need credentials now
			b := newBrowser(t)

			b.run(t, "open overview", chromedp.Navigate(g.httpURL()+"/#/overview"))
			b.waitJS(t, "sign-in dialog", `document.getElementById('login').open`, 5*time.Second)
			b.screenshot(t, "login")
			b.run(t, "sign in", chromedp.SendKeys("#login-token", "wrong-token-wrong-token"), chromedp.Click("#login-submit"))
			b.waitJS(t, "rejected", `document.getElementById('login').open && document.getElementById('login-msg').textContent.includes('rejected')`, 5*time.Second)
			metrics := newMetricsReader(t, g.httpURL(), "127.0.0.2")
			metrics.auth = "Bearer " + token
			if n := metrics.value(t, "borda_http_auth_failures_total", "reason", "bad_token"); n != 1 {
				t.Errorf("one wrong token counted %v failures, want 1", n)
			}
			b.eval(t, "fill in", fmt.Sprintf(`[['login-token', %q], ['login-user', %q], ['login-pass', %q]].forEach(([id, v]) => { document.getElementById(id).value = v; })`,
				tt.token, tt.user, tt.password))
			b.run(t, "sign in again", chromedp.Click("#login-submit"))
			b.waitJS(t, "overview after sign-in", `(c => c && c.textContent.includes('Broker'))(document.getElementById('overview-cards'))`, 5*time.Second)
			b.waitJS(t, "live stream with credentials", `document.getElementById('live').textContent === 'live'`, 5*time.Second)
			b.screenshot(t, "overview-signed-in")
		})
	}
}

// TestDashboardBrowser10kDevices: with 10,000 devices the devices page
// renders one page of rows quickly and a search finds one device.
func TestDashboardBrowser10kDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	g := startGateway(t, testConfig(t))
	const n = 10000
	var body strings.Builder
	for i := range n {
		fmt.Fprintf(&body, "pumps,device_id=dev-%05d,device_type=pumps,site=s%d value=%d\n", i, i%7, i)
	}
	resp, err := http.Post(g.httpURL()+"/write", "text/plain", strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %s", resp.Status)
	}
	testkit.Eventually(t, 10*time.Second, "10,000 devices stored", func() bool { return g.metric(t, "borda_store_devices") == n })

	b := newBrowser(t)
	start := time.Now()
	b.open(t, g.httpURL(), "devices")
	b.waitJS(t, "first page", `document.querySelectorAll('#device-rows tr[data-device]').length === 50 &&
		document.getElementById('device-count').textContent.includes('of 10000')`, 5*time.Second)
	t.Logf("first page of %d devices shown %s after navigating", n, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	b.run(t, "search", chromedp.SendKeys("#device-search", "dev-09999"))
	b.waitJS(t, "search result", `(r => r.length === 1 && r[0].dataset.device === 'dev-09999')(document.querySelectorAll('#device-rows tr[data-device]'))`, 3*time.Second)
	t.Logf("search answered %s after typing (250 ms of it is the typing debounce)", time.Since(start).Round(time.Millisecond))
	b.eval(t, "clear search", `(e => { e.value = ''; e.dispatchEvent(new Event('input')); })(document.getElementById('device-search'))`)
	b.waitJS(t, "all again", `document.getElementById('device-count').textContent.startsWith('1–50 of 10000')`, 3*time.Second)
	b.run(t, "next page", chromedp.Click("#device-next"))
	b.waitJS(t, "second page", `document.getElementById('device-count').textContent.startsWith('51–100 of 10000') &&
		document.querySelector('#device-rows tr[data-device]').dataset.device === 'dev-00050'`, 3*time.Second)
	b.screenshot(t, "devices-10k-search")
}

// TestDashboardStreamShutdown: an open live stream does not hold up the
// gateway's shutdown.
func TestDashboardStreamShutdown(t *testing.T) {
	g := startGateway(t, testConfig(t))
	resp, err := http.Get(g.httpURL() + "/api/v1/dashboard/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %s", resp.Status)
	}
	start := time.Now()
	g.stop(t)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("shutdown took %s with a dashboard open", took)
	}
}
