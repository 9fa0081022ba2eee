// Package simtest starts a Mosquitto broker for tests: of the simulator, of
// the benchmarks that drive it, and as the "cloud" of the uplink bridge
// (persistent, stopped and restarted on the same port).
package simtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
)

// Mosquitto is a mosquitto child process on loopback.
type Mosquitto struct {
	Addr    string // host:port of the plain TCP listener
	TLSAddr string // host:port of the TLS listener ("" unless WithTLS)
	CAFile  string // PEM of the certificate the TLS listener presents
	Proc    *testkit.Process

	opt  Options
	conf string
}

// Options change the broker's configuration.
type Options struct {
	TLS bool // add a TLS listener with a self-signed certificate for 127.0.0.1
	// Persistent turns persistence on (saved on SIGTERM), so that sessions
	// survive Stop and Start, as a cloud broker's would.
	Persistent bool
	// Users (name → password) turns anonymous access off; the password
	// file is made with Debian's mosquitto_passwd.
	Users map[string]string
}

// StartMosquitto runs /usr/sbin/mosquitto (Debian package mosquitto) with
// a generated configuration on free loopback ports, without persistence
// (unless opt.Persistent) and with unlimited queues, so that a fast
// publisher and a subscriber lose nothing. The process is stopped by PID
// when the test ends.
func StartMosquitto(t testing.TB, opt Options) *Mosquitto {
	t.Helper()
	m := NewMosquitto(t, opt)
	m.Start(t)
	return m
}

// NewMosquitto writes the configuration and picks the ports without
// starting the broker (a test can start it later, e.g. to begin with the
// broker unreachable).
func NewMosquitto(t testing.TB, opt Options) *Mosquitto {
	t.Helper()
	testkit.RequireCommand(t, "mosquitto", "mosquitto")
	dir := t.TempDir()
	m := &Mosquitto{Addr: fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)), opt: opt,
		conf: filepath.Join(dir, "mosquitto.conf")}
	conf := []string{
		"per_listener_settings false",
		fmt.Sprintf("allow_anonymous %v", len(opt.Users) == 0),
		"max_queued_messages 0",
		"max_inflight_messages 0",
		"set_tcp_nodelay true",
		"log_dest stderr",
		"log_type error",
		"log_type warning",
		"listener " + strings.TrimPrefix(m.Addr, "127.0.0.1:") + " 127.0.0.1",
	}
	if opt.Persistent {
		conf = append(conf, "persistence true", "persistence_location "+dir+"/")
	} else {
		conf = append(conf, "persistence false")
	}
	if os.Geteuid() == 0 {
		// mosquitto started as root drops to user mosquitto, which could
		// not read the test's 0600 files in its 0700 temp directory.
		conf = append(conf, "user root")
	}
	if len(opt.Users) > 0 {
		conf = append(conf, "password_file "+passwordFile(t, dir, opt.Users))
	}
	if opt.TLS {
		cert, key, _ := testkit.SelfSignedCert(t, dir)
		m.TLSAddr, m.CAFile = fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)), cert
		conf = append(conf, "listener "+strings.TrimPrefix(m.TLSAddr, "127.0.0.1:")+" 127.0.0.1",
			"certfile "+cert, "keyfile "+key)
	}
	if err := os.WriteFile(m.conf, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return m
}

// Start starts the broker (again, after Stop) on its ports and waits until
// it accepts connections.
func (m *Mosquitto) Start(t testing.TB) {
	t.Helper()
	bin := testkit.RequireCommand(t, "mosquitto", "mosquitto")
	p := testkit.Start(t, bin, "-c", m.conf)
	m.Proc = p
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mosquitto output:\n%s", p.Output())
		}
	})
	testkit.WaitTCP(t, m.Addr, 10*time.Second)
	if m.opt.TLS {
		testkit.WaitTCP(t, m.TLSAddr, 10*time.Second)
	}
}

// Stop ends the broker by PID with SIGTERM (it saves its persistence file)
// and waits for it to exit.
func (m *Mosquitto) Stop(t testing.TB) {
	t.Helper()
	if err := syscall.Kill(m.Proc.Cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	m.Proc.WaitExit(t, 10*time.Second)
}

// passwordFile writes a Mosquitto password file with mosquitto_passwd.
func passwordFile(t testing.TB, dir string, users map[string]string) string {
	t.Helper()
	bin := testkit.RequireCommand(t, "mosquitto_passwd", "mosquitto")
	path := filepath.Join(dir, "passwd")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for user, pass := range users {
		if out, err := exec.Command(bin, "-b", path, user, pass).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd %s: %v\n%s", user, err, out)
		}
	}
	return path
}
