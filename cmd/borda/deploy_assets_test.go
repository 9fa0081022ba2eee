package main

import (
	"encoding/json"
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

// synthesized are series Prometheus makes itself while scraping.
var synthesized = map[string]bool{"up": true, "scrape_duration_seconds": true, "scrape_samples_scraped": true}

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

// TestDeployMetricsExist: every metric named in the Grafana dashboard and
// in the Prometheus alert rules is exposed by a running borda with the
// components that own them enabled.
func TestDeployMetricsExist(t *testing.T) {
	used := map[string][]string{} // metric → files using it
	for _, f := range []struct {
		path  string
		exprs func(*testing.T, string) []string
	}{
		{filepath.Join(deployDir, "grafana", "dashboards", "borda.json"), grafanaExprs},
		{filepath.Join(deployDir, "prometheus", "borda-alerts.yml"), ruleExprs},
	} {
		exprs := f.exprs(t, f.path)
		if len(exprs) < 10 {
			t.Fatalf("%s: only %d expressions found", f.path, len(exprs))
		}
		for _, e := range exprs {
			for _, name := range metricNames(t, e) {
				used[name] = append(used[name], filepath.Base(f.path))
			}
		}
	}

	g := metricsGateway(t)
	// Series that appear once something happened: an alert fired, netmon
	// sampled the resources.
	pub := v3Client(t, "tcp://"+g.mqttAddr(), "deploy-test", true, nil)
	waitToken(t, "publish", pub.Publish("sensors/s1/temperature", 1, false, `{"value":85}`))
	var missing []string
	testkit.Eventually(t, 10*time.Second, "every metric used in deploy/ on /metrics", func() bool {
		have := exposedNames(t, g)
		missing = missing[:0]
		for name := range used {
			if !have[name] && !synthesized[name] {
				missing = append(missing, name)
			}
		}
		return len(missing) == 0
	})
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Errorf("not on /metrics: %v", missing)
	}
	t.Logf("%d metrics checked", len(used))
}

// grafanaExprs returns the PromQL of every panel target.
func grafanaExprs(t *testing.T, path string) []string {
	t.Helper()
	var dash struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(readFile(t, path), &dash); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
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
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return startGateway(t, cfg)
}

// exposedNames lists the metric names on /metrics, histogram and summary
// series (_bucket, _sum, _count) included.
func exposedNames(t *testing.T, g *testGateway) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, line := range strings.Split(httpGet(t, g.httpURL()+"/metrics", 200), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		names[name] = true
	}
	return names
}
