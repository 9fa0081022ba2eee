package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
)

// TestUplinkDiskFull: the uplink's queue file lives on a 1 MiB tmpfs
// (mounted in a mount namespace of borda's own, reached through a symlink
// in the data directory) while the cloud is unreachable, so the queue
// fills the disk. Publishing goes on: every reading is acknowledged and
// stored locally, the misses are counted as queue_error, and borda stays
// up and ready.
func TestUplinkDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a private tmpfs mount")
	}
	unshare := testkit.RequireCommand(t, "unshare", "util-linux")
	bin := buildBorda(t)
	dataDir, small := t.TempDir(), t.TempDir()
	if err := os.Symlink(filepath.Join(small, "queue.db"), filepath.Join(dataDir, "uplink-cloud.db")); err != nil {
		t.Fatal(err)
	}
	mqttPort, httpPort, deadPort := testkit.FreePort(t), testkit.FreePort(t), testkit.FreePort(t)
	cfgFile := writeFile(t, "borda.yaml", fmt.Sprintf(`data_dir: %s
broker:
  listeners: [{name: mqtt, protocol: mqtt, address: 127.0.0.1, port: %d}]
http: {address: 127.0.0.1, port: %d}
uplink:
  mqtt:
    - {name: cloud, address: "tcp://127.0.0.1:%d", out: [{filter: "sensors/#", qos: 1}]}
`, dataDir, mqttPort, httpPort, deadPort))
	script := fmt.Sprintf("mount -t tmpfs -o size=1m borda-test %s && exec %s run -c %s", small, bin, cfgFile)
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	testkit.Start(t, unshare, "--mount", "--propagation", "private", "sh", "-c", script)
	mqttAddr := fmt.Sprintf("127.0.0.1:%d", mqttPort)
	baseURL := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	testkit.WaitTCP(t, mqttAddr, 20*time.Second)

	c := v3Client(t, "tcp://"+mqttAddr, "diskfull-pub", true, nil)
	// ~100 bytes each: about twice what 1 MiB holds, spread over 20
	// devices (a series stores at most one reading per millisecond).
	const n, devices = 20_000, 20
	for i := range n {
		topic := fmt.Sprintf("sensors/full-%d/temperature", i%devices)
		waitToken(t, "publish", c.Publish(topic, 1, false, fmt.Sprintf(`{"value":%d}`, i)))
	}
	misses := scrapeMetric(t, baseURL, `borda_uplink_dropped_total{output="cloud",reason="queue_error"}`)
	if misses <= 0 {
		t.Fatalf("queue_error = %v: the 1 MiB disk never filled up", misses)
	}
	queued := scrapeMetric(t, baseURL, `borda_uplink_queue_entries{output="cloud",priority="low"}`)
	t.Logf("%d readings published and acknowledged: %v queued before the disk was full, %v not queued (counted)", n, queued, misses)
	api := promClient(t, baseURL)
	stored := storedValues(t, api, `sensors_temperature{device_id=~"full-.*"}[1h]`)
	if len(stored) != n {
		body := httpGet(t, baseURL+"/metrics", 200)
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "borda_store") || strings.HasPrefix(l, "borda_ingest") {
				t.Log(l)
			}
		}
		t.Fatalf("%d of %d readings stored locally", len(stored), n)
	}
	httpGet(t, baseURL+"/readyz", 200)
}
