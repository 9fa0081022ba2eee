package modem

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/borda-edge/borda/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A real ModemManager on a private D-Bus drives a virtual AT modem (a unix
// socket answering from testdata/at-modem.txt; there is no modem hardware
// here). The reader reports ModemManager's absence quietly, then the
// modem's signal, registration and operator as ModemManager decodes them,
// then the absence again when ModemManager is killed.
func TestReaderFollowsModemManager(t *testing.T) {
	dbusDaemon := testkit.RequireCommand(t, "dbus-daemon", "dbus-daemon")
	mm := testkit.RequireCommand(t, "ModemManager", "modemmanager")
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	bus := "unix:path=" + sock
	testkit.Start(t, dbusDaemon, "--session", "--nofork", "--address="+bus)
	testkit.Eventually(t, 5*time.Second, "D-Bus socket", func() bool { _, err := os.Stat(sock); return err == nil })

	reg := prometheus.NewRegistry()
	r, err := New(Config{Enabled: true, Interval: 100 * time.Millisecond, Bus: bus}, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	note := func() string { _, n := r.Modems(); return n }
	testkit.Eventually(t, 5*time.Second, "ModemManager reported absent", func() bool { return strings.Contains(note(), "not running") })
	if v := testkit.MetricValue(t, reg, "borda_netmon_modem_manager_up"); v != 0 {
		t.Fatalf("manager_up %v without ModemManager", v)
	}

	mmProc := testkit.Start(t, "env", "DBUS_SESSION_BUS_ADDRESS="+bus, mm,
		"--test-session", "--test-no-udev", "--test-enable", "--log-level=INFO")
	testkit.Eventually(t, 15*time.Second, "ModemManager answering", func() bool { return note() == "" })

	at := startATModem(t, filepath.Join(dir, "modem.sock"), "testdata/at-modem.txt")
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	root := conn.Object(service, rootPath)
	if err := root.Call("org.freedesktop.ModemManager1.Test.SetProfile", 0, "borda-test", "generic", []string{at}).Err; err != nil {
		t.Fatalf("SetProfile: %v", err)
	}
	var path string
	testkit.Eventually(t, 30*time.Second, "modem exported", func() bool {
		mods, _ := r.Modems()
		if len(mods) == 1 && mods[0].State == "disabled" {
			path = mods[0].Path
			return true
		}
		return false
	})
	// NetworkManager enables the modem in the field; here the test does.
	if err := conn.Object(service, dbus.ObjectPath(path)).Call(ifaceModem+".Enable", 0, true).Err; err != nil {
		t.Fatalf("Enable: %v\n%s", err, mmProc.Output())
	}
	var got Status
	testkit.Eventually(t, 30*time.Second, "modem registered with signal", func() bool {
		mods, _ := r.Modems()
		if len(mods) == 1 {
			got = mods[0]
		}
		return got.State == "registered" && got.SignalPercent > 0 && got.Operator != ""
	})
	want := Status{Path: path, Name: at, Manufacturer: "Borda Test Modems", Model: "TM-5G", State: "registered",
		SignalPercent: 64, SignalRecent: true, Registration: "home", Operator: "BordaNet"} // CSQ 20 of 31
	got.AccessTech = ""
	if got != want {
		t.Fatalf("status\n got %+v\nwant %+v", got, want)
	}
	for name, v := range map[string]float64{"borda_netmon_modem_signal_ratio": 0.64, "borda_netmon_modem_registered": 1,
		"borda_netmon_modem_connected": 0} {
		testkit.Eventually(t, 5*time.Second, name, func() bool { return testkit.MetricValue(t, reg, name, "modem", at) == v })
	}

	_ = mmProc.Cmd.Process.Kill()
	testkit.Eventually(t, 10*time.Second, "absence after ModemManager died", func() bool {
		mods, n := r.Modems()
		return len(mods) == 0 && strings.Contains(n, "not running")
	})
	if v := testkit.MetricValue(t, reg, "borda_netmon_modem_manager_up"); v != 0 {
		t.Fatalf("manager_up %v after ModemManager died", v)
	}
}

// Without any D-Bus the reader keeps running and says why once.
func TestReaderWithoutBus(t *testing.T) {
	var logs testkit.SyncBuffer
	r, err := New(Config{Enabled: true, Interval: 100 * time.Millisecond, Bus: "unix:path=" + filepath.Join(t.TempDir(), "none")},
		newTestLogger(&logs), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if _, n := r.Modems(); !strings.Contains(n, "no D-Bus") {
		t.Fatalf("note %q", n)
	}
	if c := strings.Count(logs.String(), "cannot read ModemManager"); c != 1 {
		t.Fatalf("logged %d times:\n%s", c, logs.String())
	}
}

// startATModem answers AT commands on a unix socket from a table file;
// every other command gets OK. It returns the socket path.
func startATModem(t *testing.T, path, table string) string {
	t.Helper()
	b, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if cmd, resp, ok := strings.Cut(line, "\t"); ok && !strings.HasPrefix(line, "#") {
			answers[cmd] = resp
		}
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			context.AfterFunc(t.Context(), func() { c.Close() })
			wg.Go(func() { serveAT(c, answers) })
		}
	})
	return path
}

func serveAT(c net.Conn, answers map[string]string) {
	defer c.Close()
	sc := bufio.NewScanner(c)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, '\r'); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		cmd := strings.ToUpper(strings.TrimSpace(sc.Text()))
		if cmd == "" {
			continue
		}
		reply := "\r\nOK\r\n"
		if a, ok := answers[cmd]; ok {
			reply = "\r\n" + a + "\r\n" + reply
		}
		if _, err := c.Write([]byte(reply)); err != nil {
			return
		}
	}
}
