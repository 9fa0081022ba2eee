package bench

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
)

// clkTck is USER_HZ, the unit of utime and stime in /proc/<pid>/stat. The
// kernel fixes it at 100 on every architecture Go supports on Linux
// (getconf CLK_TCK), whatever the kernel's internal HZ.
const clkTck = 100

// cpuTimes is the CPU a process has used, in clock ticks.
type cpuTimes struct {
	User, System uint64
}

// ticks is user + system CPU in clock ticks.
func (c cpuTimes) ticks() uint64 { return c.User + c.System }

// memStatus is a process's memory use in bytes.
type memStatus struct {
	RSS  int64 // VmRSS: resident now
	Peak int64 // VmHWM: the highest resident size since the process started
}

// parseStat reads utime and stime (fields 14 and 15) from the contents of
// /proc/<pid>/stat. The command name (field 2) is in parentheses and may
// itself contain spaces and ')', so the fields are counted from the last
// ')'.
func parseStat(b []byte) (cpuTimes, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return cpuTimes{}, errors.New("stat: no ')' closing the command name")
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return cpuTimes{}, fmt.Errorf("stat: %d fields after the command name, want at least %d", len(f), stime+1)
	}
	u, err := strconv.ParseUint(string(f[utime]), 10, 64)
	if err != nil {
		return cpuTimes{}, fmt.Errorf("stat: utime: %w", err)
	}
	s, err := strconv.ParseUint(string(f[stime]), 10, 64)
	if err != nil {
		return cpuTimes{}, fmt.Errorf("stat: stime: %w", err)
	}
	if u > math.MaxUint64-s {
		return cpuTimes{}, errors.New("stat: utime + stime overflows")
	}
	return cpuTimes{User: u, System: s}, nil
}

// parseStatus reads VmRSS and VmHWM from the contents of
// /proc/<pid>/status ("VmRSS:\t  12345 kB"). Both must be present (they
// are missing for kernel threads and zombies).
func parseStatus(b []byte) (memStatus, error) {
	var m memStatus
	var seenRSS, seenHWM bool
	for line := range bytes.Lines(b) {
		key, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(key) {
		case "VmRSS":
			dst, seenRSS = &m.RSS, true
		case "VmHWM":
			dst, seenHWM = &m.Peak, true
		default:
			continue
		}
		n, err := parseKB(val)
		if err != nil {
			return memStatus{}, fmt.Errorf("status: %s: %w", key, err)
		}
		*dst = n
	}
	if !seenRSS || !seenHWM {
		return memStatus{}, errors.New("status: VmRSS or VmHWM missing")
	}
	return m, nil
}

// parseKB parses "   12345 kB" into bytes.
func parseKB(val []byte) (int64, error) {
	f := bytes.Fields(val)
	if len(f) != 2 || string(f[1]) != "kB" {
		return 0, fmt.Errorf("%q is not \"<number> kB\"", bytes.TrimSpace(val))
	}
	n, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > math.MaxInt64/1024 {
		return 0, fmt.Errorf("%d kB is out of range", n)
	}
	return n * 1024, nil
}

// readCPU returns the CPU process pid has used so far.
func readCPU(pid int) (cpuTimes, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return cpuTimes{}, err
	}
	c, err := parseStat(b)
	if err != nil {
		return cpuTimes{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	return c, nil
}

// readMem returns the resident and peak resident size of process pid.
func readMem(pid int) (memStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, err
	}
	m, err := parseStatus(b)
	if err != nil {
		return memStatus{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	return m, nil
}
