package simulate

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/simulate/simtest"
)

// TestRunAgainstMosquitto drives a real Mosquitto with the lean client
// and checks that a Counter subscriber receives every message.
func TestRunAgainstMosquitto(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{TLS: true})
	tests := []struct {
		name string
		cfg  Config
	}{
		{"qos0 unpaced", Config{Broker: "tcp://" + m.Addr, Devices: 20, Conns: 3, Count: 3000, QoS: 0}},
		{"qos1 unpaced small window", Config{Broker: "tcp://" + m.Addr, Devices: 20, Conns: 2, Count: 3000, QoS: 1, MaxInflight: 7}},
		{"qos1 paced with faults", Config{Broker: "mqtt://" + m.Addr, Devices: 30, Conns: 4, Count: 400, Rate: 2000, QoS: 1,
			Profile: ProfileMixed, AnomalyRate: 0.1, MalformedRate: 0.05, SilentRate: 0.2}},
		{"qos0 tls", Config{Broker: "ssl://" + m.TLSAddr, CAFile: m.CAFile, Devices: 10, Conns: 2, Count: 1000, Profile: ProfileCity}},
		{"qos1 mqtts time limit", Config{Broker: "mqtts://" + m.TLSAddr, CAFile: m.CAFile, Devices: 5, Conns: 1, Duration: 300 * time.Millisecond,
			Rate: 500, QoS: 1, Profile: ProfileVehicles}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			tt.cfg.ClientIDPrefix = "run" + string(rune('a'+i))
			tt.cfg.DevicePrefix = "dev" + string(rune('a'+i))
			sub, err := Subscribe(ctx, Config{Broker: "tcp://" + m.Addr, QoS: tt.cfg.QoS, ClientIDPrefix: tt.cfg.ClientIDPrefix},
				"+/+/+")
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			var progress bytes.Buffer
			rep, err := Run(ctx, tt.cfg, &progress)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkReport(t, tt.cfg, rep)
			if err := sub.Wait(ctx, rep.Sent); err != nil {
				t.Fatalf("subscriber: %v", err)
			}
			if got := sub.Received(); got != rep.Sent {
				t.Fatalf("subscriber received %d, want %d", got, rep.Sent)
			}
			if lat := sub.Latency(); lat.Count != rep.Readings || lat.Max <= 0 {
				t.Errorf("delivery latency %+v, want %d samples", lat, rep.Readings)
			}
		})
	}
}

func checkReport(t *testing.T, cfg Config, rep Report) {
	t.Helper()
	if rep.Errors != 0 {
		t.Errorf("errors = %d", rep.Errors)
	}
	if cfg.Count > 0 && cfg.SilentRate == 0 && rep.Sent != cfg.Count {
		t.Errorf("sent %d, want %d", rep.Sent, cfg.Count)
	}
	if rep.Sent <= 0 || rep.Readings+rep.Malformed != rep.Sent {
		t.Errorf("sent %d != readings %d + malformed %d", rep.Sent, rep.Readings, rep.Malformed)
	}
	var devSent, devReadings int64
	for id, dc := range rep.Devices {
		if !strings.HasPrefix(id, cfg.DevicePrefix+"-") {
			t.Errorf("device id %q", id)
		}
		devSent += dc.Sent
		devReadings += dc.Readings
	}
	if devSent != rep.Sent || devReadings != rep.Readings || len(rep.Devices) != cfg.Devices {
		t.Errorf("device counts: %d devices, sent %d, readings %d; report %+v", len(rep.Devices), devSent, devReadings, rep)
	}
	if cfg.QoS == 1 && (rep.Acked != rep.Sent || rep.AckLatency.Count != rep.Sent) {
		t.Errorf("acked %d, ack latency %+v, want %d", rep.Acked, rep.AckLatency, rep.Sent)
	}
	if cfg.MalformedRate > 0 && rep.Malformed == 0 || cfg.AnomalyRate > 0 && rep.Anomalies == 0 {
		t.Errorf("no faults injected: %+v", rep)
	}
	if cfg.SilentRate > 0 && rep.Silent == 0 {
		t.Errorf("no device went silent")
	}
	if rep.DataEnd.Before(rep.DataStart) || rep.DataStart.IsZero() {
		t.Errorf("data range %v..%v", rep.DataStart, rep.DataEnd)
	}
}
