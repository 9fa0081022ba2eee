package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI("version")
	if code != 0 || !strings.HasPrefix(out, "borda ") || !strings.Contains(out, runtime.Version()) || !strings.Contains(out, "commit") {
		t.Fatalf("version: code %d, output %q", code, out)
	}
}

func TestCheck(t *testing.T) {
	valid := writeFile(t, "ok.yaml", "broker:\n  max_connections: 10\n")
	invalid := writeFile(t, "bad.yaml", "broker:\n  listeners:\n    - {name: a, protocol: mqtt, port: 1883}\n    - {name: b, protocol: mqtt, port: 70000}\n  max_conections: 5\n")
	badPasswd := writeFile(t, "bad.yaml", "auth:\n  password_file: "+writeFile(t, "passwd", "dev1:plaintext\n")+"\n")
	tests := []struct {
		name       string
		args       []string
		env        string
		wantCode   int
		wantOut    string
		wantErrors []string
	}{
		{"valid file", []string{"check", "-c", valid}, "", 0, "configuration is valid", nil},
		{"every problem with file and field path", []string{"check", "-c", invalid}, "", 1, "", []string{
			invalid + ": broker.listeners[1].port: 70000 is not a valid port",
			invalid + ": broker.max_conections: unknown field (line 5)",
		}},
		{"BORDA_CONFIG", []string{"check"}, invalid, 1, "", []string{"70000 is not a valid port"}},
		{"password file content", []string{"check", "-c", badPasswd}, "", 1, "", []string{"auth.password_file:", "line 1"}},
		{"no file", []string{"check"}, "", 2, "", []string{"no configuration file given"}},
		{"missing file", []string{"check", "-c", "/nonexistent/borda.yaml"}, "", 1, "", []string{"/nonexistent/borda.yaml"}},
		{"unknown command", []string{"frobnicate"}, "", 2, "", []string{`unknown command "frobnicate"`}},
		{"bad log level flag", []string{"check", "-c", valid, "--log-level", "loud"}, "", 1, "", []string{`--log-level: "loud" is not one of`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BORDA_CONFIG", tt.env)
			code, out, errOut := runCLI(tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Fatalf("code %d (want %d), stdout %q, stderr %q", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.wantErrors {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not contain %q", errOut, w)
				}
			}
		})
	}
}

// TestRunRefusesBadConfig: nothing starts (not even the data directory)
// when the configuration is invalid.
func TestRunRefusesBadConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	bad := writeFile(t, "bad.yaml", fmt.Sprintf("data_dir: %s\nbroker:\n  max_connections: -1\n", dir))
	code, _, errOut := runCLI("run", "-c", bad)
	if code != 1 || !strings.Contains(errOut, "broker.max_connections: -1 is out of range") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("data directory was created for an invalid config: %v", err)
	}
}

// TestPortInUse: a busy port stops start-up with an error naming the
// listener and the port, and nothing is left running.
func TestPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port

	for _, which := range []string{"websocket", "http"} {
		t.Run(which, func(t *testing.T) {
			cfg := testConfig(t)
			want := fmt.Sprintf(`listener "websocket" cannot listen on 127.0.0.1:%d (port %d)`, port, port)
			if which == "websocket" {
				cfg.Broker.Listeners[1].Port = port
			} else {
				cfg.HTTP.Port = port
				want = fmt.Sprintf("http: cannot listen on 127.0.0.1:%d (port %d)", port, port)
			}
			g, err := newGateway(cfg, &syncBuffer{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = g.Run(ctx)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "address already in use") {
				t.Fatalf("Run error = %v, want it to contain %q", err, want)
			}
			if ctx.Err() != nil {
				t.Fatal("Run waited for the context instead of failing at start-up")
			}
		})
	}
}

// TestBinaryGracefulShutdown builds the real binary, runs it with a
// config file, and checks SIGTERM and SIGINT stop it with exit status 0.
func TestBinaryGracefulShutdown(t *testing.T) {
	bin := buildBorda(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			mqttPort, wsPort, httpPort := testkit.FreePort(t), testkit.FreePort(t), testkit.FreePort(t)
			cfg := writeFile(t, "borda.yaml", fmt.Sprintf(`data_dir: %s
log: {format: json}
broker:
  listeners:
    - {name: mqtt, protocol: mqtt, address: 127.0.0.1, port: %d}
    - {name: websocket, protocol: websocket, address: 127.0.0.1, port: %d}
http: {address: 127.0.0.1, port: %d}
`, t.TempDir(), mqttPort, wsPort, httpPort))
			p := testkit.Start(t, bin, "run", "-c", cfg)
			testkit.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", httpPort), 10*time.Second)
			testkit.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", mqttPort), 10*time.Second)
			if err := p.Cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := p.WaitExit(t, 10*time.Second); code != 0 {
				t.Fatalf("exit status %d after %s; output:\n%s", code, sig, p.Output())
			}
			if !strings.Contains(p.Output(), `"msg":"stopped"`) {
				t.Fatalf("no json 'stopped' log line:\n%s", p.Output())
			}
		})
	}
}

// buildBorda builds the real binary into a temporary directory.
func buildBorda(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "borda")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBinaryReloadsRulesOnSIGHUP: the real binary re-reads its rules file
// on SIGHUP; a broken file is refused and the process keeps running.
func TestBinaryReloadsRulesOnSIGHUP(t *testing.T) {
	bin := buildBorda(t)
	mqttPort, httpPort := testkit.FreePort(t), testkit.FreePort(t)
	rulesFile := writeFile(t, "rules.yaml", "rules: []\n")
	cfg := writeFile(t, "borda.yaml", fmt.Sprintf(`data_dir: %s
broker:
  listeners: [{name: mqtt, protocol: mqtt, address: 127.0.0.1, port: %d}]
http: {address: 127.0.0.1, port: %d}
rules: {file: %s}
`, t.TempDir(), mqttPort, httpPort, rulesFile))
	p := testkit.Start(t, bin, "run", "-c", cfg)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	testkit.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", httpPort), 10*time.Second)
	reloads := func(result string) string {
		return fmt.Sprintf(`borda_config_reloads_total{result=%q} `, result)
	}
	steps := []struct {
		rules, wantMetric string
	}{
		{"rules:\n  - {name: humid, match: {topic: sensors/+/humidity}, condition: value > 90}\n", reloads("success") + "1"},
		{"rules:\n  - {name: broken, match: {topic: '#'}, condition: 'value >'}\n", reloads("failure") + "1"},
	}
	for _, st := range steps {
		if err := os.WriteFile(rulesFile, []byte(st.rules), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := p.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, 10*time.Second, st.wantMetric, func() bool {
			resp, err := http.Get(base + "/metrics")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return strings.Contains(string(b), st.wantMetric)
		})
	}
	if !strings.Contains(p.Output(), `rule \"broken\"`) && !strings.Contains(p.Output(), `rule "broken"`) {
		t.Errorf("the refused reload is not logged with the rule's name:\n%s", p.Output())
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.WaitExit(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d after reloads:\n%s", code, p.Output())
	}
}

// TestMemoryLimit: the config sets the runtime's soft limit unless
// GOMEMLIMIT is set; 0 leaves it off.
func TestMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	t.Setenv("GOMEMLIMIT", "")
	debug.SetMemoryLimit(math.MaxInt64)
	if got := applyMemoryLimit(0); got != "off" {
		t.Errorf("limit 0: %s, want off", got)
	}
	if got := applyMemoryLimit(100 << 20); got != "100 MiB" || debug.SetMemoryLimit(-1) != 100<<20 {
		t.Errorf("limit 100 MiB: %s", got)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "1GiB") // the environment wins: the config is not applied
	if got := applyMemoryLimit(100 << 20); got != "off" {
		t.Errorf("with GOMEMLIMIT set: %s, want the runtime's own setting (off here)", got)
	}
}
