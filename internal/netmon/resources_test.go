package netmon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResourceWarnings(t *testing.T) {
	proc, sys := t.TempDir(), t.TempDir()
	//                   user nice system idle iowait irq softirq steal
	writeFile(t, filepath.Join(proc, "stat"), "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n")
	writeFile(t, filepath.Join(proc, "meminfo"), "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 500 kB\n")
	writeFile(t, filepath.Join(sys, "class/thermal/thermal_zone0/temp"), "45000\n")
	writeFile(t, filepath.Join(sys, "class/thermal/thermal_zone0/type"), "cpu-thermal\n")

	var events []Event
	cfg := DefaultConfig()
	cfg.Resources.DiskWarning = 0 // the test machine's disk decides nothing here
	m, err := New(cfg, Deps{OnEvent: func(e Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	r := &resourceReader{proc: proc, sys: sys, disk: t.TempDir()}
	first := r.read()
	if first.cpu != -1 || first.mem != 50 || first.temps["thermal_zone0:cpu-thermal"] != 45 || first.disk < 0 {
		t.Fatalf("first sample: %+v", first)
	}
	m.handleSample(first)
	if len(events) != 0 {
		t.Fatalf("events below thresholds: %v", events)
	}

	// 900 of 1000 more jiffies busy, 90 % of memory used, 85 °C.
	writeFile(t, filepath.Join(proc, "stat"), "cpu  600 0 500 750 150 0 0 0 0 0\n")
	writeFile(t, filepath.Join(proc, "meminfo"), "MemTotal: 1000 kB\nMemAvailable: 100 kB\n")
	writeFile(t, filepath.Join(sys, "class/thermal/thermal_zone0/temp"), "85000\n")
	s := r.read()
	if s.cpu != 90 || s.mem != 90 {
		t.Fatalf("second sample: %+v", s)
	}
	m.handleSample(s)
	m.handleSample(s) // no repeated events
	var got []string
	for _, e := range events {
		got = append(got, string(e.Kind)+":"+e.Resource+e.Uplink)
	}
	want := "resource_high:cpu resource_high:memory resource_high:temperaturethermal_zone0:cpu-thermal"
	if strings.Join(got, " ") != want {
		t.Fatalf("events %v, want %s", got, want)
	}
	if st := m.Status().Resources; st.CPUPercent != 90 || st.MemoryPercent != 90 {
		t.Fatalf("status: %+v", st)
	}

	writeFile(t, filepath.Join(proc, "stat"), "cpu  610 0 510 1730 150 0 0 0 0 0\n")
	writeFile(t, filepath.Join(proc, "meminfo"), "MemTotal: 1000 kB\nMemAvailable: 900 kB\n")
	writeFile(t, filepath.Join(sys, "class/thermal/thermal_zone0/temp"), "50000\n")
	events = nil
	m.handleSample(r.read())
	if len(events) != 3 || events[0].Kind != ResourceNormal {
		t.Fatalf("back to normal: %v", events)
	}
}

// The reader understands this machine's /proc and /sys.
func TestResourceReaderHost(t *testing.T) {
	r := &resourceReader{proc: "/proc", sys: "/sys", disk: "/"}
	r.read()
	burn := 0
	for i := 0; i < 20_000_000; i++ { // let some jiffies pass
		burn += i
	}
	_ = burn
	s := r.read()
	if s.mem <= 0 || s.mem >= 100 || s.disk < 0 || s.disk > 100 || s.cpu > 100 {
		t.Fatalf("host sample: %+v", s)
	}
	t.Logf("host: cpu %.1f%% (-1: no jiffies passed) memory %.1f%% disk %.1f%% zones %v", s.cpu, s.mem, s.disk, s.temps)
}

func TestResourceConfigValidate(t *testing.T) {
	c := DefaultConfig()
	c.Resources.CPUWarning = 120
	c.Resources.Interval = 1
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "resources.cpu_warning") || !strings.Contains(err.Error(), "resources.interval") {
		t.Fatalf("%v", err)
	}
}

// A value hovering around the threshold produces one high event and one
// normal event only after it falls below threshold - hysteresis.
func TestResourceHysteresis(t *testing.T) {
	var events []string
	m, err := New(DefaultConfig(), Deps{OnEvent: func(e Event) { events = append(events, string(e.Kind)) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, cpu := range []float64{79, 85, 78, 81, 76, 74.9, 79, 80.5} { // threshold 80, hysteresis 5
		m.handleSample(sample{cpu: cpu, mem: -1, disk: -1})
	}
	if got := strings.Join(events, " "); got != "resource_high resource_normal resource_high" {
		t.Fatalf("events %q", got)
	}
}
