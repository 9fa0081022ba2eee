package watchdog

import (
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigYAML(t *testing.T) {
	const doc = `
services:
  - name: mosquitto
    check: tcp
    address: 127.0.0.1:1883
    restart_command: [/usr/sbin/service, mosquitto, restart]
    interval: 5s
    backoff: {min: 2s, max: 1m}
    max_restarts: 3
    restart_window: 30m
  - name: influxdb
    check: systemd
    unit: influxdb.service
`
	var c Config
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	m := c.Services[0].withDefaults()
	if m.Interval != 5*time.Second || m.Timeout != 2*time.Second || m.Backoff != (Backoff{2 * time.Second, time.Minute}) ||
		m.MaxRestarts != 3 || m.RestartWindow != 30*time.Minute || len(m.RestartCommand) != 3 {
		t.Fatalf("%+v", m)
	}
	if i := c.Services[1].withDefaults(); i.Unit != "influxdb.service" || i.Interval != 10*time.Second {
		t.Fatalf("%+v", i)
	}
}
