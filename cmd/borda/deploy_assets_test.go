package main

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/borda-edge/borda/internal/netmon"
	"github.com/borda-edge/borda/internal/testkit"
	"github.com/borda-edge/borda/internal/uplink/mqttbridge"
)

// deployDir is deploy/ at the repository root.
const deployDir = "../../deploy"

// TestPrometheusAssetsValid: promtool accepts the alert rules and the
// scrape configuration, and the rules pass their unit tests.
func TestPrometheusAssetsValid(t *testing.T) {
	promtool := testkit.RequireCommand(t, "promtool", "prometheus")
	for _, args := range [][]string{
		{"check", "rules", filepath.Join(deployDir, "prometheus", "borda-alerts.yml")},
		{"check", "config", filepath.Join(deployDir, "prometheus", "prometheus.yml")},
		{"test", "rules", filepath.Join(deployDir, "prometheus", "borda-alerts.test.yml")},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestDeployMetricsExist: every metric named in the Grafana dashboard
// (panels nested in rows too) and in the Prometheus alert rules is in
// borda's own store after a self-scrape, read through its query API as
// Grafana's data source reads it, with the components that own them
// enabled; and every expression evaluates there.
func TestDeployMetricsExist(t *testing.T) {
	used := map[string][]string{} // metric → files using it
	var exprs []string
	for _, f := range []struct {
		path  string
		exprs func(*testing.T, string) []string
	}{
		{filepath.Join(deployDir, "grafana", "dashboards", "borda.json"), grafanaExprs},
		{filepath.Join(deployDir, "prometheus", "borda-alerts.yml"), ruleExprs},
	} {
		fileExprs := f.exprs(t, f.path)
		if len(fileExprs) < 10 {
			t.Fatalf("%s: only %d expressions found", f.path, len(fileExprs))
		}
		for _, e := range fileExprs {
			e = grafanaVars.Replace(e)
			exprs = append(exprs, e)
			for _, name := range metricNames(t, e) {
				used[name] = append(used[name], filepath.Base(f.path))
			}
		}
	}

	g := metricsGateway(t)
	// Series that appear once something happened: an alert fired, netmon
	// sampled the resources; then a self-scrape stores them.
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "deploy-test", true, nil)
	waitToken(t, "publish", pub.Publish("sensors/s1/temperature", 1, false, `{"value":85}`))
	var missing []string
	testkit.Eventually(t, 15*time.Second, "every metric used in deploy/ in borda's store", func() bool {
		have := storedNames(t, g)
		missing = missing[:0]
		for name := range used {
			if !have[name] {
				missing = append(missing, name)
			}
		}
		return len(missing) == 0
	})
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Errorf("not in borda's store: %v", missing)
	}
	for _, e := range exprs {
		body := httpGet(t, g.httpURL()+"/api/v1/query?query="+url.QueryEscape(e), 200)
		if !strings.Contains(body, `"status":"success"`) {
			t.Errorf("%s: %s", e, body)
		}
	}
	t.Logf("%d metrics in %d expressions checked", len(used), len(exprs))
}

// grafanaVars are the dashboard's template variables as Grafana would
// fill them in.
var grafanaVars = strings.NewReplacer("$__rate_interval", "1m", "$__interval", "15s",
	"$device", ".+", "$measurement", ".+")

// grafanaPanel is a panel with its targets and, for a row, its panels.
type grafanaPanel struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

// grafanaExprs returns the PromQL of every panel target, panels of rows
// (collapsed rows hold theirs) included. Each panel reads borda: the
// "borda" data source or the "metrics" variable, whose default is borda.
func grafanaExprs(t *testing.T, path string) []string {
	t.Helper()
	var dash struct {
		Panels     []grafanaPanel `json:"panels"`
		Templating struct {
			List []struct {
				Name    string `json:"name"`
				Current struct {
					Value string `json:"value"`
				} `json:"current"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(readFile(t, path), &dash); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, v := range dash.Templating.List {
		if v.Name == "metrics" && v.Current.Value != "borda" {
			t.Errorf("variable metrics defaults to %q, want borda", v.Current.Value)
		}
	}
	var out []string
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			if p.Type != "row" && p.Datasource.UID != "borda" && p.Datasource.UID != "${metrics}" {
				t.Errorf("panel %q reads data source %q, not borda", p.Title, p.Datasource.UID)
			}
			for _, tg := range p.Targets {
				out = append(out, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	return out
}

// ruleExprs returns the expression of every alerting or recording rule.
func ruleExprs(t *testing.T, path string) []string {
	t.Helper()
	var file struct {
		Groups []struct {
			Rules []struct {
				Expr string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(readFile(t, path), &file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			out = append(out, r.Expr)
		}
	}
	return out
}

// metricNames are the metric names an expression selects by name (regex
// selectors on __name__, such as Grafana's device panels, name none).
func metricNames(t *testing.T, expr string) []string {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if vs.Name != "" {
			out = append(out, vs.Name)
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				out = append(out, m.Value)
			}
		}
		return nil
	})
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// metricsGateway runs borda with every component that owns metrics
// enabled: an uplink output (to nobody) and netmon on loopback without
// route management, sampling resources of the data directory.
func metricsGateway(t *testing.T) *testGateway {
	t.Helper()
	ln := probeTarget(t)
	cfg := testConfig(t)
	cfg.Netmon.Enabled, cfg.Netmon.ManageRoutes = true, false
	cfg.Netmon.Uplinks = []netmon.UplinkConfig{{Name: "lan", Interface: "lo", Targets: []string{ln.Addr().String()}}}
	cfg.Netmon.Interval, cfg.Netmon.Timeout = 100*time.Millisecond, 100*time.Millisecond
	cfg.Netmon.Resources.Interval, cfg.Netmon.Resources.DiskPath = 100*time.Millisecond, cfg.DataDir
	b := mqttbridge.DefaultConfig()
	b.Name, b.Address = "cloud", "tcp://127.0.0.1:1" // nobody: the bridge only retries
	b.Out = []mqttbridge.Mapping{{Filter: "sensors/#"}}
	cfg.Uplink.MQTT = []mqttbridge.Config{b}
	cfg.Store.SelfScrapeInterval = 200 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return startGateway(t, cfg)
}

// storedNames lists the metric names in borda's store
// (/api/v1/label/__name__/values).
func storedNames(t *testing.T, g *testGateway) map[string]bool {
	t.Helper()
	var body struct {
		Data []string `json:"data"`
	}
	if err := json.Unmarshal([]byte(httpGet(t, g.httpURL()+"/api/v1/label/__name__/values", 200)), &body); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, n := range body.Data {
		names[n] = true
	}
	return names
}
