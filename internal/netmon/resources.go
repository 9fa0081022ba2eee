package netmon

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ResourceConfig sets the host resource warnings (seed: CPU 80 %, memory
// 85 %). A threshold of 0 turns that check off.
type ResourceConfig struct {
	// Interval between samples; 0 turns resource monitoring off.
	Interval time.Duration `yaml:"interval"`
	// CPUWarning in percent of all cores, averaged over the interval.
	CPUWarning float64 `yaml:"cpu_warning"`
	// MemoryWarning in percent of MemTotal not available (MemAvailable).
	MemoryWarning float64 `yaml:"memory_warning"`
	// DiskPath is the file system watched (borda's data directory).
	DiskPath string `yaml:"disk_path"`
	// DiskWarning in percent of the space usable by borda.
	DiskWarning float64 `yaml:"disk_warning"`
	// TemperatureWarning in °C, for every thermal zone.
	TemperatureWarning float64 `yaml:"temperature_warning"`
	// Hysteresis: a resource above its threshold is back to normal only at
	// or below threshold - hysteresis (percent points or °C), so a value
	// hovering at the threshold does not produce an event per sample.
	Hysteresis float64 `yaml:"hysteresis"`
}

// DefaultResourceConfig mirrors the seed's thresholds.
func DefaultResourceConfig() ResourceConfig {
	return ResourceConfig{Interval: 30 * time.Second, CPUWarning: 80, MemoryWarning: 85,
		DiskPath: "./borda-data", DiskWarning: 90, TemperatureWarning: 80, Hysteresis: 5}
}

// Validate reports every problem, each naming its yaml key.
func (c ResourceConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Interval != 0 && c.Interval < 100*time.Millisecond {
		add("interval: %s must be 0 (off) or at least 100ms", c.Interval)
	}
	for _, p := range []struct {
		key string
		v   float64
	}{{"cpu_warning", c.CPUWarning}, {"memory_warning", c.MemoryWarning}, {"disk_warning", c.DiskWarning}} {
		if p.v < 0 || p.v > 100 {
			add("%s: %v is out of range 0..100", p.key, p.v)
		}
	}
	if c.Hysteresis < 0 || c.Hysteresis > 50 {
		add("hysteresis: %v is out of range 0..50", c.Hysteresis)
	}
	if c.TemperatureWarning < 0 || c.TemperatureWarning > 200 {
		add("temperature_warning: %v is out of range 0..200", c.TemperatureWarning)
	}
	return errors.Join(errs...)
}

// Resource names in events.
const (
	ResCPU    = "cpu"
	ResMemory = "memory"
	ResDisk   = "disk"
	ResTemp   = "temperature" // Event.Uplink carries the zone
)

// sample is one reading of the host; NaN-free: missing readings are absent.
type sample struct {
	cpu, mem, disk float64 // percent; <0: unknown
	temps          map[string]float64
}

// resourceReader reads /proc and /sys (roots replaceable in tests).
type resourceReader struct {
	proc, sys string
	disk      string
	lastBusy  uint64
	lastTotal uint64
}

func (r *resourceReader) read() sample {
	s := sample{cpu: -1, mem: -1, disk: -1, temps: map[string]float64{}}
	if busy, total, err := readCPU(filepath.Join(r.proc, "stat")); err == nil {
		if r.lastTotal != 0 && total > r.lastTotal {
			s.cpu = 100 * float64(busy-r.lastBusy) / float64(total-r.lastTotal)
		}
		r.lastBusy, r.lastTotal = busy, total
	}
	if m, err := readMem(filepath.Join(r.proc, "meminfo")); err == nil {
		s.mem = m
	}
	if r.disk != "" {
		var st syscall.Statfs_t
		if err := syscall.Statfs(r.disk, &st); err == nil && st.Blocks > 0 {
			used := float64(st.Blocks - st.Bfree)
			s.disk = 100 * used / (used + float64(st.Bavail))
		}
	}
	zones, _ := filepath.Glob(filepath.Join(r.sys, "class/thermal/thermal_zone*/temp"))
	for _, z := range zones {
		b, err := os.ReadFile(z)
		if err != nil {
			continue
		}
		milli, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		if err != nil {
			continue
		}
		name := filepath.Base(filepath.Dir(z))
		if t, err := os.ReadFile(filepath.Join(filepath.Dir(z), "type")); err == nil && len(bytes.TrimSpace(t)) > 0 {
			name += ":" + string(bytes.TrimSpace(t))
		}
		s.temps[name] = milli / 1000
	}
	return s
}

// readCPU returns busy and total jiffies of all cores (idle and iowait are not busy).
func readCPU(path string) (busy, total uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0, errors.New("empty " + path)
	}
	fs := strings.Fields(sc.Text())
	if len(fs) < 5 || fs[0] != "cpu" {
		return 0, 0, errors.New("unexpected " + path)
	}
	var idle uint64
	for i, v := range fs[1:] {
		if i >= 8 { // guest time is already in user
			break
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		total += n
		if i == 3 || i == 4 {
			idle += n
		}
	}
	return total - idle, total, nil
}

// readMem returns the percent of memory not available.
func readMem(path string) (float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var total, avail float64
	for line := range strings.Lines(string(b)) {
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(fs[1], 64)
		switch fs[0] {
		case "MemTotal:":
			total = v
		case "MemAvailable:":
			avail = v
		}
	}
	if total <= 0 {
		return 0, errors.New("no MemTotal in " + path)
	}
	return 100 * (total - avail) / total, nil
}

// handleSample updates metrics and emits resource_high/normal events on
// threshold crossings. Runs on the monitor's goroutine.
func (m *Monitor) handleSample(s sample) {
	rc := m.cfg.Resources
	check := func(res, zone string, v, limit float64) {
		key := res + "/" + zone
		if limit <= 0 || v < 0 {
			return
		}
		was := m.resHigh[key]
		high := v > limit || was && v > limit-rc.Hysteresis
		if high == was {
			return
		}
		m.resHigh[key] = high
		kind := ResourceNormal
		if high {
			kind = ResourceHigh
			m.log.Warn("netmon: resource above threshold", "resource", res, "zone", zone, "value", v, "threshold", limit)
		} else {
			m.log.Info("netmon: resource back below threshold", "resource", res, "zone", zone, "value", v)
		}
		m.emit(Event{Kind: kind, Resource: res, Uplink: zone, Value: v, Threshold: limit})
	}
	if s.cpu >= 0 {
		m.met.cpu.Set(s.cpu / 100)
	}
	if s.mem >= 0 {
		m.met.mem.Set(s.mem / 100)
	}
	if s.disk >= 0 {
		m.met.disk.WithLabelValues(rc.DiskPath).Set(s.disk / 100)
	}
	check(ResCPU, "", s.cpu, rc.CPUWarning)
	check(ResMemory, "", s.mem, rc.MemoryWarning)
	check(ResDisk, "", s.disk, rc.DiskWarning)
	for z, t := range s.temps {
		m.met.temp.WithLabelValues(z).Set(t)
		check(ResTemp, z, t, rc.TemperatureWarning)
	}
	m.mu.Lock()
	m.status.Resources = ResourceStatus{CPUPercent: s.cpu, MemoryPercent: s.mem, DiskPercent: s.disk, Temperatures: s.temps}
	m.mu.Unlock()
}

// ResourceStatus is the last host sample (-1: unknown).
type ResourceStatus struct {
	CPUPercent    float64            `json:"cpu_percent"`
	MemoryPercent float64            `json:"memory_percent"`
	DiskPercent   float64            `json:"disk_percent"`
	Temperatures  map[string]float64 `json:"temperatures,omitempty"` // °C by zone
}
