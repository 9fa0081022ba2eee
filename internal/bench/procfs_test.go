package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "proc", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		file    string // in testdata/proc, or
		text    string // inline
		want    cpuTimes
		wantErr string
	}{
		{name: "busy shell", file: "stat_busy_sh.txt", want: cpuTimes{User: 28}},
		{name: "idle cat", file: "stat_cat.txt", want: cpuTimes{}},
		{name: "kernel thread", file: "stat_kthread.txt", want: cpuTimes{}},
		{name: "command name with spaces and parentheses", file: "stat_paren_comm.txt", want: cpuTimes{}},
		{name: "user and system", text: "42 (borda) S 1 42 42 0 -1 4194560 1 0 0 0 1234 567 0 0 20 0 9 0 100 0 0",
			want: cpuTimes{User: 1234, System: 567}},
		{name: "') ' inside the name", text: "7 (x) 1 2 3 4 5 6 7 8 9 10 11 12 13) R 1 7 7 0 -1 0 0 0 0 0 5 6 0",
			want: cpuTimes{User: 5, System: 6}},
		{name: "empty", text: "", wantErr: "no ')'"},
		{name: "no name", text: "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", wantErr: "no ')'"},
		{name: "truncated", text: "42 (borda) S 1 42 42 0 -1 4194560 1 0 0 0 1234", wantErr: "12 fields"},
		{name: "utime not a number", text: "42 (borda) S 1 42 42 0 -1 4194560 1 0 0 0 x 567 0", wantErr: "utime"},
		{name: "negative stime", text: "42 (borda) S 1 42 42 0 -1 4194560 1 0 0 0 1 -5 0", wantErr: "stime"},
		{name: "overflowing sum", text: "42 (b) S 1 42 42 0 -1 0 1 0 0 0 18446744073709551615 1 0", wantErr: "overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.text)
			if tt.file != "" {
				b = readTestdata(t, tt.file)
			}
			got, err := parseStat(b)
			checkErr(t, err, tt.wantErr)
			if err == nil && got != tt.want {
				t.Errorf("parseStat = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		text    string
		want    memStatus
		wantErr string
	}{
		{name: "cat", file: "status_cat.txt", want: memStatus{RSS: 1776 << 10, Peak: 1776 << 10}},
		{name: "shell", file: "status_busy_sh.txt", want: memStatus{RSS: 1692 << 10, Peak: 1692 << 10}},
		{name: "kernel thread has no memory lines", file: "status_kthread.txt", wantErr: "missing"},
		{name: "peak above current", text: "Name:\tborda\nVmHWM:\t  500000 kB\nVmRSS:\t   30000 kB\n",
			want: memStatus{RSS: 30000 << 10, Peak: 500000 << 10}},
		{name: "no trailing newline", text: "VmRSS: 1 kB\nVmHWM: 2 kB", want: memStatus{RSS: 1024, Peak: 2048}},
		{name: "VmRSS only", text: "VmRSS:\t 1 kB\n", wantErr: "missing"},
		{name: "wrong unit", text: "VmRSS:\t 1 MB\nVmHWM:\t 1 kB\n", wantErr: "VmRSS"},
		{name: "no unit", text: "VmRSS:\t 1\nVmHWM:\t 1 kB\n", wantErr: "VmRSS"},
		{name: "negative", text: "VmRSS:\t -1 kB\nVmHWM:\t 1 kB\n", wantErr: "out of range"},
		{name: "overflow", text: "VmRSS:\t 9223372036854775807 kB\nVmHWM:\t 1 kB\n", wantErr: "out of range"},
		{name: "empty", text: "", wantErr: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.text)
			if tt.file != "" {
				b = readTestdata(t, tt.file)
			}
			got, err := parseStatus(b)
			checkErr(t, err, tt.wantErr)
			if err == nil && got != tt.want {
				t.Errorf("parseStatus = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestReadProcSelf reads this test process's own /proc files.
func TestReadProcSelf(t *testing.T) {
	if _, err := readCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	m, err := readMem(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.Peak < m.RSS {
		t.Errorf("readMem = %+v: want 0 < RSS <= peak", m)
	}
	if _, err := readCPU(-1); err == nil {
		t.Error("readCPU(-1): no error")
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

// FuzzParseStat checks that any input is parsed or refused without a
// panic, and that the CPU fields of a well-formed line come back whatever
// the command name is. Seeds: testdata/fuzz/FuzzParseStat.
func FuzzParseStat(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseStat(b)
		line := fmt.Sprintf("1 (%s) S 1 1 1 0 -1 0 0 0 0 0 %d %d 0 0 20 0 1 0 5 0 0\n", b, len(b), 2*len(b))
		got, err := parseStat([]byte(line))
		if err != nil {
			t.Fatalf("well-formed line %q: %v", line, err)
		}
		if got.User != uint64(len(b)) || got.System != uint64(2*len(b)) {
			t.Fatalf("line %q: got %+v", line, got)
		}
	})
}

// FuzzParseStatus checks that any input is parsed or refused without a
// panic and that accepted sizes are whole kB. Seeds:
// testdata/fuzz/FuzzParseStatus.
func FuzzParseStatus(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseStatus(b)
		if err != nil {
			return
		}
		if m.RSS < 0 || m.Peak < 0 || m.RSS%1024 != 0 || m.Peak%1024 != 0 {
			t.Fatalf("parseStatus(%q) = %+v", b, m)
		}
	})
}
