// Package simtest starts a Mosquitto broker for tests of the simulator and
// of the benchmarks that drive it.
package simtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
}

// Options change the broker's configuration.
type Options struct {
	TLS bool // add a TLS listener with a self-signed certificate for 127.0.0.1
}

// StartMosquitto runs /usr/sbin/mosquitto (Debian package mosquitto) with
// a generated configuration on free loopback ports, without persistence
// and with unlimited queues, so that a fast publisher and a subscriber lose
// nothing. The process is stopped by PID when the test ends.
func StartMosquitto(t testing.TB, opt Options) *Mosquitto {
	t.Helper()
	bin := testkit.RequireCommand(t, "mosquitto", "mosquitto")
	dir := t.TempDir()
	m := &Mosquitto{Addr: fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))}
	conf := []string{
		"per_listener_settings false",
		"allow_anonymous true",
		"persistence false",
		"max_queued_messages 0",
		"max_inflight_messages 0",
		"set_tcp_nodelay true",
		"log_dest stderr",
		"log_type error",
		"log_type warning",
		"listener " + strings.TrimPrefix(m.Addr, "127.0.0.1:") + " 127.0.0.1",
	}
	if os.Geteuid() == 0 {
		// mosquitto started as root drops to user mosquitto, which could
		// not read the test's 0600 files in its 0700 temp directory.
		conf = append(conf, "user root")
	}
	if opt.TLS {
		cert, key, _ := testkit.SelfSignedCert(t, dir)
		m.TLSAddr, m.CAFile = fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)), cert
		conf = append(conf, "listener "+strings.TrimPrefix(m.TLSAddr, "127.0.0.1:")+" 127.0.0.1",
			"certfile "+cert, "keyfile "+key)
	}
	path := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(path, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.Proc = testkit.Start(t, bin, "-c", path)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mosquitto output:\n%s", m.Proc.Output())
		}
	})
	testkit.WaitTCP(t, m.Addr, 10*time.Second)
	if opt.TLS {
		testkit.WaitTCP(t, m.TLSAddr, 10*time.Second)
	}
	return m
}
