package bench

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/config"
)

// TestBordaConfig: the generated file passes borda's own strict loader
// and says what the harness relies on.
func TestBordaConfig(t *testing.T) {
	pubsub, ingest, uplink := scenarioNamed(t, "borda-pubsub-qos0"), scenarioNamed(t, "borda-ingest-qos1"), scenarioNamed(t, "borda-uplink-qos1")
	tests := []struct {
		name        string
		sc          Scenario
		load        Load
		wantPending int
		wantSeries  int
	}{
		{"ingest keeps the default write queue", ingest, Load{Devices: 1000, Duration: 10 * time.Second}, 8192, 100_000},
		{"pub-sub unpaced: the largest write queue", pubsub, Load{Devices: 1000, Duration: 10 * time.Second}, 1 << 21, 100_000},
		{"pub-sub paced: rate x duration + 10%", pubsub, Load{Devices: 10, Rate: 20_000, Duration: 10 * time.Second}, 220_000, 100_000},
		{"pub-sub paced slowly: at least the default", pubsub, Load{Devices: 10, Rate: 10, Duration: time.Second}, 8192, 100_000},
		{"pub-sub paced fast: capped", pubsub, Load{Devices: 10, Rate: 1e6, Duration: time.Hour}, 1 << 21, 100_000},
		{"big fleet: more series allowed", ingest, Load{Devices: 50_000, Duration: time.Second}, 8192, 1_000_000},
		{"uplink: the subscriber is on the cloud, default write queue", uplink, Load{Devices: 1000, Duration: 10 * time.Second}, 8192, 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := t.TempDir() + `/with "quotes" and \ backslash`
			cloud := ""
			if tt.sc.Uplink {
				cloud = "127.0.0.1:21883"
			}
			text, err := bordaConfig(dataDir, 11883, 18888, tt.sc, tt.load, cloud)
			if err != nil {
				t.Fatal(err)
			}
			f, err := config.Parse("bench.yaml", []byte(text))
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			if f.DataDir != dataDir {
				t.Errorf("data_dir %q, want %q", f.DataDir, dataDir)
			}
			ls := f.Broker.Listeners
			if len(ls) != 1 || ls[0].Address != "127.0.0.1" || ls[0].Port != 11883 || ls[0].Protocol != "mqtt" {
				t.Errorf("listeners %+v, want one MQTT listener on 127.0.0.1:11883", ls)
			}
			if f.HTTP.Address != "127.0.0.1" || f.HTTP.Port != 18888 || f.HTTP.Pprof {
				t.Errorf("http %+v", f.HTTP)
			}
			b := f.Broker
			if b.MaxClientWritesPending != tt.wantPending || b.MaxInflightMessages != inflight || !b.Persistence.Enabled {
				t.Errorf("broker: writes pending %d (want %d), inflight %d, persistence %v",
					b.MaxClientWritesPending, tt.wantPending, b.MaxInflightMessages, b.Persistence.Enabled)
			}
			if f.Store.MaxSeries != tt.wantSeries {
				t.Errorf("max_series %d, want %d", f.Store.MaxSeries, tt.wantSeries)
			}
			if up := f.Uplink.MQTT; tt.sc.Uplink != (len(up) == 1) || tt.sc.Uplink && up[0].Address != "tcp://"+cloud {
				t.Errorf("uplink %+v, want one bridge to %s: %v", up, cloud, tt.sc.Uplink)
			}
		})
	}
}

func TestMosquittoConfig(t *testing.T) {
	for _, root := range []bool{false, true} {
		conf := mosquittoConfig(12345, root)
		lines := strings.Split(strings.TrimSpace(conf), "\n")
		for _, want := range []string{"listener 12345 127.0.0.1", "allow_anonymous true", "persistence false",
			"set_tcp_nodelay true", "max_queued_messages 0", "max_inflight_messages 100"} {
			if !slices.Contains(lines, want) {
				t.Errorf("root %v: no line %q in\n%s", root, want, conf)
			}
		}
		if slices.Contains(lines, "user root") != root {
			t.Errorf("root %v: user root line wrong in\n%s", root, conf)
		}
	}
}

func TestCPUModel(t *testing.T) {
	in := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: other\n"
	if got := cpuModel([]byte(in)); got != "AMD EPYC 7B13" {
		t.Errorf("cpuModel = %q", got)
	}
	if got := cpuModel([]byte("processor : 0\n")); got != "" {
		t.Errorf("cpuModel without model name = %q", got)
	}
}

func scenarioNamed(t *testing.T, name string) Scenario {
	t.Helper()
	i := slices.IndexFunc(Scenarios(), func(s Scenario) bool { return s.Name == name })
	if i < 0 {
		t.Fatalf("no scenario %s", name)
	}
	return Scenarios()[i]
}
