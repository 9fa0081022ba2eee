package watchdog

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParsePID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		pid  int
		fail bool
	}{
		{"123", 123, false},
		{"123\n", 123, false},
		{"  42 \n", 42, false},
		{"7\nsecond line", 7, false},
		{"", 0, true},
		{"\n123", 0, true},
		{"abc", 0, true},
		{"0", 0, true},
		{"-5", 0, true},
		{"4194304", 4194304, false},
		{"4194305", 0, true},
		{"99999999999999999999", 0, true},
	} {
		pid, err := ParsePID([]byte(tc.in))
		if (err != nil) != tc.fail || pid != tc.pid {
			t.Errorf("ParsePID(%q) = %d, %v", tc.in, pid, err)
		}
	}
}

func FuzzParsePID(f *testing.F) {
	for _, s := range []string{"1", "123\n", " 42 \r\n", "", "x", "-1", "0", "4194305", "1\n2", "\x00", "+7"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pid, err := ParsePID(b)
		if err != nil {
			if pid != 0 {
				t.Fatalf("pid %d with error", pid)
			}
			if len(err.Error()) > 200 { // 32 bytes of input at most, quoted
				t.Fatalf("error too long: %d", len(err.Error()))
			}
			return
		}
		if pid < 1 || pid > 1<<22 {
			t.Fatalf("pid %d out of range", pid)
		}
		again, err := ParsePID([]byte(strconv.Itoa(pid)))
		if err != nil || again != pid {
			t.Fatalf("round trip %d: %d %v", pid, again, err)
		}
	})
}

// fakeProc writes a /proc-like tree: pid → (comm, state).
func fakeProc(t *testing.T, procs map[int][2]string) string {
	t.Helper()
	root := t.TempDir()
	for pid, p := range procs {
		d := filepath.Join(root, strconv.Itoa(pid))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "comm"), []byte(p[0]+"\n"), 0o644)
		stat := strconv.Itoa(pid) + " (" + p[0] + ") " + p[1] + " 1 1 1"
		os.WriteFile(filepath.Join(d, "stat"), []byte(stat), 0o644)
	}
	os.MkdirAll(filepath.Join(root, "self"), 0o755)
	return root
}

func TestPidfileAndProcessChecks(t *testing.T) {
	root := fakeProc(t, map[int][2]string{
		10: {"mosquitto", "S"},
		11: {"dead) Z (x", "Z"}, // comm with parentheses and a zombie
		12: {"influxd", "Z"},
		13: {"influxd", "R"},
		14: {"dockerd", "X"},
	})
	dir := t.TempDir()
	pf := func(content string) string {
		p := filepath.Join(dir, strconv.Itoa(len(content))+strings.ReplaceAll(content, "\n", "_")+".pid")
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	for _, tc := range []struct {
		name string
		c    checker
		err  string // "" = healthy
	}{
		{"pidfile alive", pidfileCheck(root, pf("10\n")), ""},
		{"pidfile zombie", pidfileCheck(root, pf("11\n")), "zombie"},
		{"pidfile gone", pidfileCheck(root, pf("99\n")), "does not exist"},
		{"pidfile garbage", pidfileCheck(root, pf("hello")), "not a pid"},
		{"pidfile missing", pidfileCheck(root, filepath.Join(dir, "none.pid")), "no such file"},
		{"process alive", processCheck(root, "mosquitto"), ""},
		{"process one zombie one alive", processCheck(root, "influxd"), ""},
		{"process dead", processCheck(root, "dockerd"), "no running process"},
		{"process absent", processCheck(root, "nginx"), "no running process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c(context.Background())
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err %v, want %q", err, tc.err)
			}
		})
	}
}

func TestProcessCheckRealProc(t *testing.T) {
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Skip("no /proc")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := processCheck("/proc", strings.TrimSpace(string(comm)))(ctx); err != nil {
		t.Fatal(err)
	}
	if err := processCheck("/proc", "no-such-proc-x")(ctx); err == nil {
		t.Fatal("found a process that does not exist")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := ServiceConfig{Name: "a", Check: CheckTCP, Address: "127.0.0.1:1883"}
	for _, tc := range []struct {
		name string
		mod  func(*ServiceConfig)
		want string // "" = valid
	}{
		{"ok", func(*ServiceConfig) {}, ""},
		{"no name", func(s *ServiceConfig) { s.Name = "" }, "services[1].name: is required"},
		{"dup name", func(s *ServiceConfig) { s.Name = "a" }, `services[1].name: "a" is used twice`},
		{"no check", func(s *ServiceConfig) { s.Check = "" }, "services[1].check: is required"},
		{"bad check", func(s *ServiceConfig) { s.Check = "http" }, `services[1].check: "http" is not one of`},
		{"bad address", func(s *ServiceConfig) { s.Address = "localhost" }, "services[1].address:"},
		{"pidfile", func(s *ServiceConfig) { s.Check = CheckPidfile }, "services[1].pidfile: is required"},
		{"systemd", func(s *ServiceConfig) { s.Check = CheckSystemd }, "services[1].unit: is required"},
		{"process default name", func(s *ServiceConfig) { s.Check = CheckProcess }, ""},
		{"process too long", func(s *ServiceConfig) { s.Check = CheckProcess; s.Process = "a-very-long-process-name" }, "services[1].process:"},
		{"empty argv0", func(s *ServiceConfig) { s.RestartCommand = []string{""} }, "services[1].restart_command:"},
		{"interval", func(s *ServiceConfig) { s.Interval = time.Millisecond }, "services[1].interval:"},
		{"timeout", func(s *ServiceConfig) { s.Timeout = -1 }, "services[1].timeout:"},
		{"backoff max", func(s *ServiceConfig) { s.Backoff = Backoff{Min: time.Minute, Max: time.Second} }, "services[1].backoff.max:"},
		{"backoff min only", func(s *ServiceConfig) { s.Backoff = Backoff{Min: 10 * time.Minute} }, ""},
		{"max_restarts", func(s *ServiceConfig) { s.MaxRestarts = -1 }, "services[1].max_restarts:"},
		{"window", func(s *ServiceConfig) { s.RestartWindow = -time.Second }, "services[1].restart_window:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ServiceConfig{Name: "b", Check: CheckTCP, Address: "[::1]:8086"}
			tc.mod(&s)
			err := Config{Services: []ServiceConfig{ok, s}}.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	d := ServiceConfig{Name: "x", Check: CheckTCP, Address: "h:1"}.withDefaults()
	if d.Interval != 10*time.Second || d.Timeout != 2*time.Second || d.Backoff.Min != time.Second ||
		d.Backoff.Max != 5*time.Minute || d.MaxRestarts != 5 || d.RestartWindow != 10*time.Minute {
		t.Fatalf("defaults %+v", d)
	}
}
