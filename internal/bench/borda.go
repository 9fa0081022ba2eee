package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// borda is the gateway under test, started by re-executing the borda
// binary as `borda run -c <generated yaml>`.
type borda struct {
	bin      string
	dataDir  string
	addr     string // MQTT host:port
	httpAddr string
	p        *proc
	cloud    *mosquitto // the uplink's cloud broker (Uplink scenarios)
	cloudBin string     // mosquitto executable for it
}

// Bounds of borda's per-client write queue (max_client_writes_pending) in
// the publish -> subscribe scenario.
const (
	minWritesPending = 8192    // borda's default
	maxWritesPending = 1 << 21 // a channel slot is 8 bytes per client
)

// bordaConfig is borda's configuration for scenario sc: its defaults,
// except for loopback-only listeners (no WebSocket), warn-level logs, a
// series limit that fits the fleet and, when a subscriber takes part, a
// per-client write queue sized to the load (Mosquitto's is unlimited).
// The broker's persistence stays on, as deployed.
func bordaConfig(dataDir string, mqttPort, httpPort int, sc Scenario, l Load, cloud string) (string, error) {
	dir, err := json.Marshal(dataDir) // a JSON string is a YAML double-quoted scalar
	if err != nil {
		return "", err
	}
	pending := minWritesPending
	if sc.Subscribe && !sc.Uplink { // the subscriber is on borda, not on the cloud broker
		pending = maxWritesPending
		if l.Rate > 0 {
			pending = int(min(max(l.Rate*l.Duration.Seconds()*1.1, minWritesPending), maxWritesPending))
		}
	}
	return fmt.Sprintf(`data_dir: %s
log:
  format: text
  level: warn
broker:
  listeners:
    - name: mqtt
      protocol: mqtt
      address: 127.0.0.1
      port: %d
  max_inflight_messages: %d
  max_client_writes_pending: %d
  persistence:
    enabled: true
    fsync: false
store:
  max_series: %d
http:
  address: 127.0.0.1
  port: %d
  pprof: false
`, dir, mqttPort, inflight, pending, max(100_000, 20*l.Devices), httpPort) + uplinkConfig(cloud), nil
}

// uplinkConfig forwards every reading of the simulator's fleet (topics
// sensors/, vehicles/, devices/, cameras/; not borda's own alerts and
// status) to the cloud broker at addr, with the bridge's defaults (durable
// queue, window 100); "" adds nothing.
func uplinkConfig(addr string) string {
	if addr == "" {
		return ""
	}
	return fmt.Sprintf(`uplink:
  mqtt:
    - name: cloud
      address: tcp://%s
      out:
        - {filter: "sensors/#", qos: 1}
        - {filter: "vehicles/#", qos: 1}
        - {filter: "devices/#", qos: 1}
        - {filter: "cameras/#", qos: 1}
`, addr)
}

// uplinkTarget is the address the scenario's uplink sends to: "" without
// an uplink, a port nobody listens on when the cloud is down, else a
// Mosquitto started in dir/cloud.
func (b *borda) uplinkTarget(dir string, sc Scenario, l Load) (string, error) {
	switch {
	case !sc.Uplink:
		return "", nil
	case sc.CloudDown:
		ports, err := freePorts(1) // free a moment ago, and nothing starts there
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("127.0.0.1:%d", ports[0]), nil
	}
	if err := b.startCloud(dir, sc, l); err != nil {
		return "", err
	}
	return b.cloudAddr(), nil
}

// startCloud starts the uplink's cloud broker in dir/cloud.
func (b *borda) startCloud(dir string, sc Scenario, l Load) error {
	cdir := filepath.Join(dir, "cloud")
	if err := os.MkdirAll(cdir, 0o700); err != nil {
		return fmt.Errorf("cloud broker: %w", err)
	}
	b.cloud = &mosquitto{bin: b.cloudBin}
	if err := b.cloud.start(cdir, sc, l); err != nil {
		return fmt.Errorf("cloud broker: %w", err)
	}
	return nil
}

// cloudProc is the cloud broker's process (nil without an uplink).
func (b *borda) cloudProc() *proc {
	if b.cloud == nil {
		return nil
	}
	return b.cloud.p
}

// cloudAddr is the cloud broker's MQTT address ("" without an uplink).
func (b *borda) cloudAddr() string {
	if b.cloud == nil {
		return ""
	}
	return b.cloud.addr
}

func (b *borda) start(dir string, sc Scenario, l Load) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	b.dataDir = filepath.Join(dir, "data")
	b.addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
	b.httpAddr = fmt.Sprintf("127.0.0.1:%d", ports[1])
	cloud, err := b.uplinkTarget(dir, sc, l)
	if err != nil {
		return err
	}
	conf, err := bordaConfig(b.dataDir, ports[0], ports[1], sc, l, cloud)
	if err != nil {
		return fmt.Errorf("borda: config: %w", err)
	}
	path := filepath.Join(dir, "borda.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("borda: write config: %w", err)
	}
	if b.p, err = startProc("borda", b.bin, dir, "run", "-c", path); err != nil {
		return err
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	return waitReady(b.p, "/readyz on "+b.httpAddr, func() bool {
		resp, err := client.Get(b.queryURL() + "/readyz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK && tcpAccepts(b.addr)
	})
}

func (b *borda) mqttAddr() string { return b.addr }
func (b *borda) proc() *proc      { return b.p }
func (b *borda) queryURL() string { return "http://" + b.httpAddr }
func (b *borda) tsdbDir() string  { return filepath.Join(b.dataDir, "tsdb") }

// dirBytes is the sum of the sizes of the regular files under dir.
func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path != dir && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) { // removed while we walk (a WAL checkpoint)
			return nil
		}
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", dir, err)
	}
	return n, nil
}
