package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/borda-edge/borda/internal/simulate"
	"github.com/borda-edge/borda/internal/simulate/simtest"
	"github.com/borda-edge/borda/internal/testkit"
)

func runSimulate(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = cmdSimulate(args, &o, &e)
	return code, o.String(), e.String()
}

// runSimulateJSON runs a simulation with --json that must succeed and
// returns its report.
func runSimulateJSON(t testing.TB, args ...string) simulate.Report {
	t.Helper()
	code, out, errOut := runSimulate(append(args, "--json")...)
	if code != 0 {
		t.Fatalf("code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	var res struct {
		Report simulate.Report `json:"report"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	return res.Report
}

func TestSimulateFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown flag", []string{"--frobnicate"}, "flag provided but not defined: -frobnicate"},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
		{"qos 2", []string{"--qos", "2"}, "--qos: 2 is not supported"},
		{"qos not a number", []string{"--qos", "one"}, `invalid value "one" for flag -qos`},
		{"bad broker scheme", []string{"--broker", "http://localhost:1883"}, "scheme must be tcp, mqtt, ssl, tls or mqtts"},
		{"no limit", []string{"--duration", "0"}, "one of them must be > 0"},
		{"bad profile", []string{"--profile", "farm"}, `profile: "farm" is not one of`},
		{"rate out of range", []string{"--malformed-rate", "2"}, "malformed rate: 2 is not within 0..1"},
		{"conns above devices", []string{"--devices", "2", "--conns", "5"}, "conns: 5 is not within 1..devices (2)"},
		{"cert without key", []string{"--cert", "c.pem"}, "client certificate and key must be given together"},
		{"bad duration", []string{"--duration", "soon"}, `invalid value "soon" for flag -duration`},
		{"alert rate too high", []string{"--alert-rate", "0.7"}, "alert rate: 0.7 is above 0.5"},
		{"bad alert topic", []string{"--alert-topic", "alerts/#/x"}, "alert filter"},
		{"negative alert grace", []string{"--alert-grace", "-1s"}, "alert grace: -1s is not within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runSimulate(tt.args...)
			if code != 2 || out != "" || !strings.Contains(errOut, tt.want) {
				t.Fatalf("code %d (want 2), stdout %q, stderr %q (want %q)", code, out, errOut, tt.want)
			}
		})
	}
	if code, _, errOut := runSimulate("--help"); code != 0 || !strings.Contains(errOut, "Usage: borda simulate") {
		t.Errorf("--help: code %d, %q", code, errOut)
	}
}

// TestSimulateCountDisablesDefaultDuration: --count alone runs until the
// count, --count with --duration keeps both limits.
func TestSimulateCountDisablesDefaultDuration(t *testing.T) {
	f, err := parseSimulateFlags([]string{"--count", "5"}, &bytes.Buffer{})
	if err != nil || f.cfg.Duration != 0 || f.cfg.Count != 5 {
		t.Fatalf("--count 5: %+v, %v", f.cfg, err)
	}
	f, err = parseSimulateFlags([]string{"--count", "5", "--duration", "3s"}, &bytes.Buffer{})
	if err != nil || f.cfg.Duration.String() != "3s" || f.cfg.Count != 5 {
		t.Fatalf("--count 5 --duration 3s: %+v, %v", f.cfg, err)
	}
}

func TestSimulateConnectFailure(t *testing.T) {
	broker := fmt.Sprintf("tcp://127.0.0.1:%d", testkit.FreePort(t)) // nobody listens there
	code, out, errOut := runSimulate("--broker", broker, "--count", "10", "--quiet")
	if code != 1 || out != "" || !strings.Contains(errOut, "connection refused") {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestSimulateAgainstMosquitto(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{})
	code, out, errOut := runSimulate("--broker", "tcp://"+m.Addr, "--devices", "12", "--conns", "3",
		"--count", "2400", "--qos", "1", "--profile", "mixed", "--malformed-rate", "0.05", "--anomaly-rate", "0.1", "--json")
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	var res struct {
		Report simulate.Report        `json:"report"`
		Verify *simulate.VerifyReport `json:"verify"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	r := res.Report
	if r.Sent != 2400 || r.Acked != 2400 || r.Errors != 0 || r.Malformed == 0 || r.Readings+r.Malformed != r.Sent ||
		len(r.Devices) != 12 || r.AckLatency.Count != 2400 || res.Verify != nil {
		t.Fatalf("report %+v", r)
	}
}

// TestSimulateVerifyAgainstBorda drives an in-process gateway and verifies,
// through its query API, that every reading was stored.
func TestSimulateVerifyAgainstBorda(t *testing.T) {
	g := startGateway(t, testConfig(t))
	for _, qos := range []string{"0", "1"} {
		t.Run("qos"+qos, func(t *testing.T) {
			code, out, errOut := runSimulate("--broker", "tcp://"+g.mqttAddr(), "--devices", "20", "--conns", "2",
				"--count", "3000", "--qos", qos, "--profile", "mixed", "--malformed-rate", "0.02",
				"--device-prefix", "v"+qos, "--client-id", "sim"+qos, "--verify", g.httpURL(), "--quiet")
			if code != 0 {
				t.Fatalf("code %d\nstdout %s\nstderr %s", code, out, errOut)
			}
			for _, want := range []string{"sent 3000 messages", "missing 0, extra 0"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(out, fmt.Sprintf("(qos %s, 2 connections, profile mixed)", qos)) {
				t.Errorf("output:\n%s", out)
			}
		})
	}
}

// TestSimulateExpectAlerts: against Mosquitto with simtest.FakeRules
// standing in for borda's seed rules every alert arrives (exit 0); without
// any rules every expected alert is missing (exit 1, with the count).
func TestSimulateExpectAlerts(t *testing.T) {
	m := simtest.StartMosquitto(t, simtest.Options{})
	args := func(prefix string) []string {
		return []string{"--broker", "tcp://" + m.Addr, "--devices", "10", "--conns", "2", "--count", "1500", "--rate", "3000",
			"--profile", "mixed", "--alert-rate", "0.05", "--expect-alerts",
			"--device-prefix", prefix, "--client-id", prefix, "--quiet"}
	}
	t.Run("fake rules", func(t *testing.T) {
		simtest.StartFakeRules(t, m.Addr, simtest.FakeRulesOptions{})
		a := runSimulateJSON(t, args("fr")...).Alerts
		if a == nil || a.Expected == 0 || a.Received != a.Expected || a.Missing != 0 || a.Latency.Count != a.Expected ||
			a.Resolved.Received != a.Resolved.Expected || a.QoS != 2 {
			t.Fatalf("alerts %+v", a)
		}
	})
	t.Run("no rules", func(t *testing.T) {
		code, out, errOut := runSimulate(append(args("nr"), "--alert-grace", "300ms")...)
		if code != 1 || !strings.Contains(errOut, "alerts and") || !strings.Contains(errOut, "never arrived on alerts/#") {
			t.Fatalf("code %d\nstdout %s\nstderr %s", code, out, errOut)
		}
		for _, want := range []string{"alerts on alerts/# (qos 2): expected ", "received 0, missing ", "HIGH_TEMPERATURE: ",
			"missing: firing "} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
}
