package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// mosquitto is the Mosquitto broker (Debian package mosquitto), the
// baseline: plain publish -> subscribe delivery.
type mosquitto struct {
	bin  string
	addr string
	p    *proc
}

// inflight is the QoS 1 window per client of both brokers: borda's
// default max_inflight_messages and the simulator's default window.
const inflight = 100

// mosquittoConfig is the configuration of a benchmark broker on
// 127.0.0.1:port: anonymous, no persistence, TCP_NODELAY, unlimited
// queues (max_queued_messages 0, so that a subscriber that falls behind
// loses nothing, like borda's blocking ingest), the same in-flight window
// as borda. As root it stays root: it would otherwise drop to the
// mosquitto user.
func mosquittoConfig(port int, asRoot bool) string {
	conf := []string{
		"per_listener_settings false",
		"allow_anonymous true",
		"persistence false",
		"max_queued_messages 0",
		fmt.Sprintf("max_inflight_messages %d", inflight),
		"set_tcp_nodelay true",
		"log_dest stderr",
		"log_type error",
		"log_type warning",
		fmt.Sprintf("listener %d 127.0.0.1", port),
	}
	if asRoot {
		conf = append(conf, "user root")
	}
	return strings.Join(conf, "\n") + "\n"
}

func (m *mosquitto) start(dir string, _ Scenario, _ Load) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	m.addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
	path := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(path, []byte(mosquittoConfig(ports[0], os.Geteuid() == 0)), 0o600); err != nil {
		return fmt.Errorf("mosquitto: write config: %w", err)
	}
	if m.p, err = startProc("mosquitto", m.bin, dir, "-c", path); err != nil {
		return err
	}
	return waitReady(m.p, "MQTT listener "+m.addr, func() bool { return tcpAccepts(m.addr) })
}

func (m *mosquitto) mqttAddr() string { return m.addr }
func (m *mosquitto) proc() *proc      { return m.p }

// mosquittoVersion is the version `mosquitto -h` prints ("2.0.11"), or ""
// when it cannot be run.
func mosquittoVersion(ctx context.Context, bin string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, "-h").CombinedOutput() // -h exits with status 3
	line, _, _ := bytes.Cut(out, []byte("\n"))
	v, ok := strings.CutPrefix(string(bytes.TrimSpace(line)), "mosquitto version ")
	if !ok {
		return ""
	}
	return v
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "".
func cpuModel(cpuinfo []byte) string {
	for line := range bytes.Lines(cpuinfo) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && string(bytes.TrimSpace(k)) == "model name" {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}
