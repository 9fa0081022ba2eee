package netmon

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vishvananda/netns"
	"go.uber.org/goleak"
)

// childEnv carries the JSON config of a monitor run by a re-executed test
// binary inside the gateway namespace (`ip netns exec`), so that every
// socket and netlink call of the monitor lives in that namespace.
const childEnv = "BORDA_NETMON_CHILD_CONFIG"

func TestMain(m *testing.M) {
	if cfg := os.Getenv(childEnv); cfg != "" {
		os.Exit(runChild(cfg))
	}
	goleak.VerifyTestMain(m)
}

// childLine is one line the child writes on stdout.
type childLine struct {
	Event  *Event  `json:"event,omitempty"`
	Status *Status `json:"status,omitempty"`
}

// runChild runs a Monitor until stdin closes, printing events and a status
// every 100 ms as JSON lines; it fails when goroutines leak.
func runChild(cfgJSON string) int {
	var cfg Config
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "child config:", err)
		return 2
	}
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	write := func(l childLine) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(l)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mon, err := New(cfg, Deps{Logger: log, Registry: prometheus.NewRegistry(),
		OnEvent: func(e Event) { write(childLine{Event: &e}) }})
	if err != nil {
		fmt.Fprintln(os.Stderr, "new:", err)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mon.Run(ctx) }()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	watch := mon.Watch()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintln(os.Stderr, "run:", err)
				return 2
			}
			for range watch { // closed by Run
			}
			if err := goleak.Find(); err != nil {
				fmt.Fprintln(os.Stderr, "goroutine leak:", err)
				return 3
			}
			return 0
		case <-watch:
		case <-t.C:
			s := mon.Status()
			write(childLine{Status: &s})
		}
	}
}

// topo is two uplinks from a gateway namespace to an internet namespace:
//
//	gw: P (10.201.1.2) --veth-- PI (10.201.1.1)  :inet
//	gw: B (10.201.2.2) --veth-- BI (10.201.2.1)  :inet, 8.8.8.8 and 1.1.1.1 on lo, TCP :53 open
type topo struct {
	gw, inet      string
	p, pi, b, bi  string
	ghost         string // an interface that does not exist
	mu            sync.Mutex
	events        []Event
	status        Status
	child         *exec.Cmd
	childOut      strings.Builder // stderr
	childStdin    io.WriteCloser
	childFinished chan struct{}
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func tcCmd(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("tc", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("tc %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func newTopo(t *testing.T) *topo {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("netmon namespace tests need root (ip netns, veth, routes): run as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("ip not found: apt-get install iproute2")
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	s := hex.EncodeToString(b)
	tp := &topo{gw: "bnm-gw-" + s, inet: "bnm-in-" + s,
		p: "nmp" + s, pi: "nmpi" + s, b: "nmb" + s, bi: "nmbi" + s, ghost: "nmg" + s}
	ipCmd(t, "netns", "add", tp.gw)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", tp.gw).Run() })
	ipCmd(t, "netns", "add", tp.inet)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", tp.inet).Run() })
	for _, ns := range []string{tp.gw, tp.inet} {
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	}
	for i, pair := range [][2]string{{tp.p, tp.pi}, {tp.b, tp.bi}} {
		ipCmd(t, "-n", tp.gw, "link", "add", pair[0], "type", "veth", "peer", "name", pair[1], "netns", tp.inet)
		ipCmd(t, "-n", tp.gw, "addr", "add", fmt.Sprintf("10.201.%d.2/24", i+1), "dev", pair[0])
		ipCmd(t, "-n", tp.inet, "addr", "add", fmt.Sprintf("10.201.%d.1/24", i+1), "dev", pair[1])
		// The kernel drops IPv6 addresses of a link set down unless told to
		// keep them; in the field NetworkManager/SLAAC adds them back.
		if out, err := exec.Command("ip", "netns", "exec", tp.gw, "sysctl", "-qw",
			"net.ipv6.conf."+pair[0]+".keep_addr_on_down=1").CombinedOutput(); err != nil {
			t.Fatalf("keep_addr_on_down: %v %s", err, out)
		}
		ipCmd(t, "-n", tp.gw, "addr", "add", fmt.Sprintf("fd00:201:%d::2/64", i+1), "dev", pair[0], "nodad")
		ipCmd(t, "-n", tp.inet, "addr", "add", fmt.Sprintf("fd00:201:%d::1/64", i+1), "dev", pair[1], "nodad")
		ipCmd(t, "-n", tp.gw, "link", "set", pair[0], "up")
		ipCmd(t, "-n", tp.inet, "link", "set", pair[1], "up")
	}
	ipCmd(t, "-n", tp.inet, "addr", "add", "8.8.8.8/32", "dev", "lo")
	ipCmd(t, "-n", tp.inet, "addr", "add", "1.1.1.1/32", "dev", "lo")
	tp.listen(t)
	return tp
}

// listen opens TCP :53 in the internet namespace: the socket is created on
// a thread that entered the namespace and stays there; accepting works
// from any thread.
func (tp *topo) listen(t *testing.T) {
	t.Helper()
	type res struct {
		ln  net.Listener
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // not unlocked on error: the tainted thread then exits with the goroutine
		orig, err := netns.Get()
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer orig.Close()
		h, err := netns.GetFromName(tp.inet)
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			ch <- res{err: err}
			return
		}
		ln, lerr := net.Listen("tcp4", "0.0.0.0:53")
		if err := netns.Set(orig); err != nil {
			if ln != nil {
				ln.Close()
			}
			ch <- res{err: err}
			return
		}
		runtime.UnlockOSThread()
		ch <- res{ln: ln, err: lerr}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("listen in %s: %v", tp.inet, r.err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := r.ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() {
		r.ln.Close()
		wg.Wait()
	})
}

func (tp *topo) config(ghost bool) Config {
	cfg := DefaultConfig()
	cfg.Enabled = true
	cfg.Interval = 200 * time.Millisecond
	cfg.Timeout = 300 * time.Millisecond
	cfg.FailRounds = 3
	cfg.HoldTime = 2 * time.Second
	cfg.Window = 5
	cfg.Uplinks = []UplinkConfig{
		{Name: "backup", Interface: tp.b, Priority: 1, Gateway: "10.201.2.1", Metric: 200},
		{Name: "primary", Interface: tp.p, Priority: 0, Gateway: "10.201.1.1", Metric: 100},
	}
	if ghost {
		cfg.Uplinks = append(cfg.Uplinks, UplinkConfig{Name: "ghost", Interface: tp.ghost, Priority: 2})
	}
	return cfg
}

// start runs the monitor in a child process inside the gateway namespace.
func (tp *topo) start(t *testing.T, cfg Config, wrapper ...string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(cfg)
	args := append([]string{"netns", "exec", tp.gw}, wrapper...)
	cmd := exec.Command("ip", append(args, exe, "-test.run=^$")...)
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &syncWriter{mu: &tp.mu, b: &tp.childOut}
	tp.childStdin, err = cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tp.child = cmd
	tp.childFinished = make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l childLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				continue
			}
			tp.mu.Lock()
			if l.Event != nil {
				tp.events = append(tp.events, *l.Event)
			}
			if l.Status != nil {
				tp.status = *l.Status
			}
			tp.mu.Unlock()
		}
	}()
	go func() {
		<-readDone
		_ = cmd.Wait()
		close(tp.childFinished)
	}()
	t.Cleanup(func() {
		tp.childStdin.Close()
		select {
		case <-tp.childFinished:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill() // by PID
			<-tp.childFinished
			t.Errorf("monitor child did not stop within 15s")
		}
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("monitor child exited with %d (66: data race, 3: goroutine leak):\n%s", code, tp.stderr())
		}
		if t.Failed() {
			t.Logf("child log:\n%s", tp.stderr())
			t.Logf("events: %v", tp.eventsSince(0))
		}
	})
}

func kernelRelease() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

type syncWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (tp *topo) stderr() string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.childOut.String()
}

func (tp *topo) eventsSince(i int) []Event {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if i > len(tp.events) {
		return nil
	}
	return append([]Event(nil), tp.events[i:]...)
}

func (tp *topo) mark() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return len(tp.events)
}

func (tp *topo) getStatus() Status {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.status
}

// waitEvent waits up to timeout for an event at index >= from matching
// kind/uplink (empty: any), for Failover matching to; returns its index.
func (tp *topo) waitEvent(t *testing.T, from int, kind EventKind, uplink string, timeout time.Duration) (int, Event) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for j, e := range tp.eventsSince(from) {
			who := e.Uplink
			if kind == Failover {
				who = e.To
			}
			if e.Kind == kind && (uplink == "" || who == uplink) {
				return from + j, e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event for %q within %s; events: %v", kind, uplink, timeout, tp.eventsSince(0))
		}
		select {
		case <-tp.childFinished:
			t.Fatalf("monitor child exited:\n%s", tp.stderr())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitStatus waits for a status (written every 100 ms by the child) that satisfies ok.
func (tp *topo) waitStatus(t *testing.T, timeout time.Duration, ok func(Status) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok(tp.getStatus()) {
		if time.Now().After(deadline) {
			t.Fatalf("status not reached within %s: %+v", timeout, tp.getStatus())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type routeJSON struct {
	Dst     string `json:"dst"`
	Gateway string `json:"gateway"`
	Dev     string `json:"dev"`
	Metric  int    `json:"metric"`
}

func (tp *topo) defaultRoutes(t *testing.T) []routeJSON {
	t.Helper()
	return tp.defaultRoutesOf(t, "-4")
}

// defaultRoutesOf lists the default routes of family "-4" or "-6".
func (tp *topo) defaultRoutesOf(t *testing.T, family string) []routeJSON {
	t.Helper()
	out, err := exec.Command("ip", family, "-j", "-n", tp.gw, "route", "show", "default").Output()
	if err != nil {
		t.Fatalf("ip route show: %v", err)
	}
	var rs []routeJSON
	if err := json.Unmarshal(out, &rs); err != nil {
		t.Fatalf("parse %q: %v", out, err)
	}
	return rs
}

// waitActiveRoute waits until the lowest-metric default route goes through dev.
func (tp *topo) waitActiveRoute(t *testing.T, dev string, metric int, timeout time.Duration) {
	t.Helper()
	tp.waitActiveRouteOf(t, "-4", dev, metric, timeout)
}

// waitActiveRouteOf is waitActiveRoute for family "-4" or "-6".
func (tp *topo) waitActiveRouteOf(t *testing.T, family, dev string, metric int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		rs := tp.defaultRoutesOf(t, family)
		best := routeJSON{Metric: -1}
		for _, r := range rs {
			if best.Metric < 0 || r.Metric < best.Metric {
				best = r
			}
		}
		if best.Dev == dev && best.Metric == metric {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s default route via %s metric %d not seen within %s; routes: %+v", family, dev, metric, timeout, rs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (tp *topo) startPrimaryActive(t *testing.T, cfg Config) {
	t.Helper()
	tp.start(t, cfg)
	_, e := tp.waitEvent(t, 0, Failover, "primary", 10*time.Second)
	if e.From != "" {
		t.Fatalf("first choice: %v", e)
	}
	tp.waitActiveRoute(t, tp.p, cfg.ActiveMetric, 5*time.Second)
}

// expectSwitchBack restores the primary and checks the route returns only
// after hold_time of health.
func (tp *topo) expectSwitchBack(t *testing.T, from int, cfg Config, healthyKind EventKind) {
	t.Helper()
	hi, he := tp.waitEvent(t, from, healthyKind, "primary", 5*time.Second)
	_, fe := tp.waitEvent(t, hi, Failover, "primary", cfg.HoldTime+8*time.Second)
	if fe.From != "backup" {
		t.Fatalf("switch back: %v", fe)
	}
	if d := fe.Time.Sub(he.Time); d < cfg.HoldTime-50*time.Millisecond {
		t.Fatalf("switched back %s after %s, before hold_time %s", d, healthyKind, cfg.HoldTime)
	}
	tp.waitActiveRoute(t, tp.p, cfg.ActiveMetric, 3*time.Second)
}

func TestFailoverOnLinkDown(t *testing.T) {
	tp := newTopo(t)
	cfg := tp.config(true)
	tp.startPrimaryActive(t, cfg)

	// Both uplinks keep their own default routes for their probes.
	metrics := map[string]int{}
	for _, r := range tp.defaultRoutes(t) {
		if r.Metric != cfg.ActiveMetric {
			metrics[r.Dev] = r.Metric
		}
	}
	if metrics[tp.p] != 100 || metrics[tp.b] != 200 {
		t.Fatalf("uplink routes: %v", metrics)
	}

	m := tp.mark()
	start := time.Now()
	ipCmd(t, "-n", tp.gw, "link", "set", tp.p, "down")
	tp.waitEvent(t, m, LinkDown, "primary", 3*time.Second)
	_, fe := tp.waitEvent(t, m, Failover, "backup", 3*time.Second)
	if fe.From != "primary" {
		t.Fatalf("failover: %v", fe)
	}
	tp.waitActiveRoute(t, tp.b, cfg.ActiveMetric, 3*time.Second)
	t.Logf("link down -> route via backup in %s", time.Since(start).Round(time.Millisecond))

	m = tp.mark()
	ipCmd(t, "-n", tp.gw, "link", "set", tp.p, "up")
	tp.expectSwitchBack(t, m, cfg, LinkUp)

	// The missing interface was reported once and did not stop anything.
	n := 0
	for _, e := range tp.eventsSince(0) {
		if e.Kind == LinkMissing {
			n++
			if e.Uplink != "ghost" {
				t.Fatalf("missing: %v", e)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d link_missing events, want 1", n)
	}
	tp.waitStatus(t, 2*time.Second, func(st Status) bool { return st.Active == "primary" && st.Online })
}

// With ipv6 on, the IPv6 default route (::/0 via gateway6) follows the
// active uplink like the IPv4 one.
func TestIPv6RoutesFollowFailover(t *testing.T) {
	tp := newTopo(t)
	cfg := tp.config(false)
	for i := range cfg.Uplinks {
		cfg.Uplinks[i].IPv6 = true
		cfg.Uplinks[i].Gateway6 = map[string]string{"primary": "fd00:201:1::1", "backup": "fd00:201:2::1"}[cfg.Uplinks[i].Name]
	}
	tp.startPrimaryActive(t, cfg)
	tp.waitActiveRouteOf(t, "-6", tp.p, cfg.ActiveMetric, 3*time.Second)
	m := tp.mark()
	ipCmd(t, "-n", tp.gw, "link", "set", tp.p, "down")
	tp.waitEvent(t, m, Failover, "backup", 3*time.Second)
	tp.waitActiveRouteOf(t, "-6", tp.b, cfg.ActiveMetric, 3*time.Second)
	tp.waitActiveRoute(t, tp.b, cfg.ActiveMetric, 3*time.Second)
	m = tp.mark()
	ipCmd(t, "-n", tp.gw, "link", "set", tp.p, "up")
	tp.expectSwitchBack(t, m, cfg, LinkUp)
	tp.waitActiveRouteOf(t, "-6", tp.p, cfg.ActiveMetric, 3*time.Second)
	for _, r := range tp.defaultRoutesOf(t, "-6") {
		if r.Metric == cfg.ActiveMetric && r.Gateway != "fd00:201:1::1" {
			t.Fatalf("active IPv6 route %+v, want via fd00:201:1::1", r)
		}
	}
}

func TestFailoverOnUpstreamUnreachable(t *testing.T) {
	tp := newTopo(t)
	cfg := tp.config(false)
	tp.startPrimaryActive(t, cfg)

	m := tp.mark()
	// The far side loses its address: the link stays up, probes time out.
	ipCmd(t, "-n", tp.inet, "addr", "del", "10.201.1.1/24", "dev", tp.pi)
	tp.waitEvent(t, m, Unreachable, "primary", 3*time.Second)
	_, fe := tp.waitEvent(t, m, Failover, "backup", 3*time.Second)
	if fe.From != "primary" || !strings.Contains(fe.Reason, "unreachable") {
		t.Fatalf("failover: %v", fe)
	}
	tp.waitActiveRoute(t, tp.b, cfg.ActiveMetric, 3*time.Second)
	for _, e := range tp.eventsSince(m) {
		if e.Kind == LinkDown {
			t.Fatalf("link reported down, but only the upstream failed: %v", e)
		}
	}
	// Probes time out (300 ms) slower than the interval (200 ms): rounds
	// are skipped, not stacked.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := tp.getStatus()
		var p UplinkStatus
		for _, u := range st.Uplinks {
			if u.Name == "primary" {
				p = u
			}
		}
		if p.Skipped > 0 && p.Loss > 0.5 && !p.Reachable && p.Up {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("primary status: %+v", p)
		}
		time.Sleep(50 * time.Millisecond)
	}

	m = tp.mark()
	ipCmd(t, "-n", tp.inet, "addr", "add", "10.201.1.1/24", "dev", tp.pi)
	tp.expectSwitchBack(t, m, cfg, Reachable)
}

func TestLatencyWarningWithNetem(t *testing.T) {
	tp := newTopo(t)
	if _, err := exec.LookPath("tc"); err != nil {
		t.Fatal("tc not found: apt-get install iproute2")
	}
	cfg := tp.config(false)
	cfg.Timeout = time.Second
	tp.startPrimaryActive(t, cfg)

	m := tp.mark()
	if out, err := exec.Command("tc", "-n", tp.inet, "qdisc", "add", "dev", tp.pi, "root", "netem", "delay", "150ms").CombinedOutput(); err != nil {
		if strings.Contains(string(out), "qdisc kind is unknown") {
			t.Skipf("this kernel (%s) has no netem qdisc (sch_netem): %s", kernelRelease(), strings.TrimSpace(string(out)))
		}
		t.Fatalf("tc qdisc add netem: %v: %s", err, out)
	}
	_, e := tp.waitEvent(t, m, LatencyHigh, "primary", 10*time.Second)
	if e.Latency <= cfg.LatencyWarning {
		t.Fatalf("latency event: %v", e)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := tp.getStatus()
		var p, b UplinkStatus
		for _, u := range st.Uplinks {
			switch u.Name {
			case "primary":
				p = u
			case "backup":
				b = u
			}
		}
		if p.LatencyAvg >= 140*time.Millisecond && p.LatencyP95 >= 140*time.Millisecond && b.LatencyAvg < 100*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("latency not measured: primary %+v backup %+v", p, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tcCmd(t, "-n", tp.inet, "qdisc", "del", "dev", tp.pi, "root")
	tp.waitEvent(t, m, LatencyNormal, "primary", 10*time.Second)
	for _, e := range tp.eventsSince(m) {
		if e.Kind == Failover {
			t.Fatalf("latency alone must not fail over: %v", e)
		}
	}
}

func execIn(ns string, args ...string) ([]byte, error) {
	return exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
}

// Without CAP_NET_ADMIN the route cannot be written: reported once, and
// monitoring, the choice of the active uplink and the online signal go on.
func TestRouteDeniedKeepsMonitoring(t *testing.T) {
	tp := newTopo(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatal("setpriv not found: apt-get install util-linux")
	}
	// The uplinks' own routes exist already (as netplan would write them).
	ipCmd(t, "-n", tp.gw, "route", "add", "default", "via", "10.201.1.1", "dev", tp.p, "metric", "100")
	ipCmd(t, "-n", tp.gw, "route", "add", "default", "via", "10.201.2.1", "dev", tp.b, "metric", "200")
	cfg := tp.config(false)
	tp.start(t, cfg, "setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin")
	_, e := tp.waitEvent(t, 0, RouteError, "", 10*time.Second)
	if !strings.Contains(e.Reason, "not permitted") {
		t.Fatalf("route error: %v", e)
	}
	tp.waitEvent(t, 0, Failover, "primary", 5*time.Second)
	tp.waitStatus(t, 3*time.Second, func(st Status) bool {
		return st.Routes == "denied" && st.Active == "primary" && st.Online
	})
	m := tp.mark()
	ipCmd(t, "-n", tp.gw, "link", "set", tp.p, "down")
	tp.waitEvent(t, m, Failover, "backup", 3*time.Second)
	n := 0
	for _, e := range tp.eventsSince(0) {
		if e.Kind == RouteError {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d route_error events, want 1", n)
	}
	for _, r := range tp.defaultRoutes(t) {
		if r.Metric == cfg.ActiveMetric {
			t.Fatalf("route written without permission: %+v", r)
		}
	}
}

// ICMP targets use unprivileged ping sockets bound to the interface; the
// namespace allows them (net.ipv4.ping_group_range) for root's group.
func TestICMPProbe(t *testing.T) {
	tp := newTopo(t)
	if out, err := execIn(tp.gw, "sh", "-c", "echo 0 2147483647 > /proc/sys/net/ipv4/ping_group_range"); err != nil {
		t.Fatalf("ping_group_range: %v: %s", err, out)
	}
	cfg := tp.config(false)
	cfg.Uplinks[0].Targets = []string{"icmp:8.8.8.8", "icmp:1.1.1.1"} // backup
	tp.startPrimaryActive(t, cfg)
	tp.waitEvent(t, 0, Reachable, "backup", 5*time.Second)
	tp.waitStatus(t, 3*time.Second, func(st Status) bool {
		for _, u := range st.Uplinks {
			if u.Name == "backup" {
				return u.Reachable && u.Loss == 0 && u.LatencyAvg > 0 && u.Rounds >= 3
			}
		}
		return false
	})
	// Down on the far side: the echo requests through the backup go unanswered.
	m := tp.mark()
	ipCmd(t, "-n", tp.inet, "addr", "del", "10.201.2.1/24", "dev", tp.bi)
	_, e := tp.waitEvent(t, m, Unreachable, "backup", 3*time.Second)
	if !strings.Contains(e.Reason, "icmp:") {
		t.Fatalf("unreachable: %v", e)
	}
}

// Every uplink down → offline (the signal outputs pause on); one back →
// online again on it, route rewritten.
func TestOfflineWhenAllDown(t *testing.T) {
	tp := newTopo(t)
	cfg := tp.config(false)
	tp.startPrimaryActive(t, cfg)
	m := tp.mark()
	ipCmd(t, "-n", tp.gw, "link", "set", tp.p, "down")
	ipCmd(t, "-n", tp.gw, "link", "set", tp.b, "down")
	tp.waitEvent(t, m, Offline, "", 3*time.Second)
	tp.waitStatus(t, 2*time.Second, func(st Status) bool { return !st.Online })
	m = tp.mark()
	ipCmd(t, "-n", tp.gw, "link", "set", tp.b, "up")
	tp.waitEvent(t, m, Online, "backup", 5*time.Second)
	tp.waitActiveRoute(t, tp.b, cfg.ActiveMetric, 3*time.Second)
	tp.waitStatus(t, 2*time.Second, func(st Status) bool { return st.Online && st.Active == "backup" })
}
