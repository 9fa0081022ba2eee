package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestProcStartMeasureStop(t *testing.T) {
	p, err := startProc("sleep", "/bin/sleep", t.TempDir(), "60")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.cpu(); err != nil {
		t.Error(err)
	}
	if m, err := p.mem(); err != nil || m.RSS <= 0 {
		t.Errorf("mem = %+v, %v", m, err)
	}
	if err := p.stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !p.exited() {
		t.Error("still running after stop")
	}
}

func TestProcStopKillsWhatIgnoresSIGTERM(t *testing.T) {
	p, err := startProc("stubborn", "/bin/sh", t.TempDir(), "-c", `trap "" TERM; echo ready; exec sleep 60`)
	if err != nil {
		t.Fatal(err)
	}
	waitOutput(t, p, "ready") // the trap is set
	err = p.stop(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "was killed") {
		t.Fatalf("stop = %v, want it to report the SIGKILL", err)
	}
	if !p.exited() {
		t.Error("still running after SIGKILL")
	}
}

func TestProcStopReportsACrash(t *testing.T) {
	p, err := startProc("crasher", "/bin/sh", t.TempDir(), "-c", "echo bye; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	<-p.done
	err = p.stop(time.Second)
	if err == nil || !strings.Contains(err.Error(), "had exited by itself") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("stop = %v", err)
	}
	if p.output() != "bye\n" {
		t.Errorf("output %q", p.output())
	}
}

func TestStartProcMissingBinary(t *testing.T) {
	if _, err := startProc("nothing", filepath.Join(t.TempDir(), "missing"), t.TempDir()); err == nil {
		t.Fatal("no error")
	}
}

func waitOutput(t *testing.T, p *proc, s string) {
	t.Helper()
	for i := 0; !strings.Contains(p.output(), s); i++ {
		if i == 500 {
			t.Fatalf("no %q in the output within 5 s: %q", s, p.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 8}
	for _, w := range []string{"abc", "defgh", "ijklmnopqrstu", "v"} {
		if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", w, n, err)
		}
	}
	if got := b.String(); got != "opqrstuv" {
		t.Errorf("tail %q, want the last 8 bytes", got)
	}
}

// fakeCPU replays CPU tick counts; after the last it repeats it.
type fakeCPU struct {
	ticks []uint64
	n     int
	err   error
}

func (f *fakeCPU) cpu() (cpuTimes, error) {
	if f.err != nil {
		return cpuTimes{}, f.err
	}
	i := min(f.n, len(f.ticks)-1)
	f.n++
	return cpuTimes{User: f.ticks[i]}, nil
}

func TestIdleDetector(t *testing.T) {
	tests := []struct {
		name   string
		ticks  []uint64
		wantAt int // index of the poll the idle window begins with; -1: never idle
	}{
		{"idle from the start", []uint64{7, 7, 7, 8, 8, 9, 9}, 0},
		{"busy, then idle", []uint64{0, 5, 10, 15, 20, 21, 21, 22, 22, 22, 22}, 4},
		{"background ticks within the bound", []uint64{0, 1, 1, 1, 2, 2}, 0},
		{"one tick too many", []uint64{0, 1, 1, 1, 2, 3}, -1},
		{"busy throughout", []uint64{0, 10, 20, 30, 40, 50, 60, 70}, -1},
		{"too few polls", []uint64{0, 0, 0, 0, 0}, -1},
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d idleDetector
			got := -1
			for i, ticks := range tt.ticks {
				if since, idle := d.add(t0.Add(time.Duration(i)*settlePoll), ticks); idle {
					got = int(since.Sub(t0) / settlePoll)
					break
				}
			}
			if got != tt.wantAt {
				t.Errorf("idle from poll %d, want %d", got, tt.wantAt)
			}
		})
	}
}

func TestSettle(t *testing.T) {
	always := make([]uint64, 100)
	for i := range always {
		always[i] = uint64(10 * i)
	}
	tests := []struct {
		name    string
		cpu     *fakeCPU
		limit   time.Duration
		wantErr string
	}{
		{"idle", &fakeCPU{ticks: []uint64{7}}, time.Minute, ""},
		{"never idle", &fakeCPU{ticks: always}, 100 * time.Millisecond, "still used CPU"},
		{"process gone", &fakeCPU{err: os.ErrNotExist}, time.Minute, "not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := settle(tt.cpu, tt.limit)
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestCleanupsRunLastFirstAndJoinErrors(t *testing.T) {
	var order []int
	var c cleanups
	for i := range 3 {
		c.push(func() error {
			order = append(order, i)
			if i == 1 {
				return fmt.Errorf("undo %d failed", i)
			}
			return nil
		})
	}
	err := c.run()
	if !slices.Equal(order, []int{2, 1, 0}) {
		t.Errorf("order %v", order)
	}
	if err == nil || err.Error() != "undo 1 failed" {
		t.Errorf("err = %v", err)
	}
	if err := c.run(); err != nil || len(order) != 3 {
		t.Error("a second run repeated the steps")
	}
}

func TestDirBytes(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "wal"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "wal", "00000000"), make([]byte, 1000), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "lock"), make([]byte, 24), 0o644))
	must(t, os.Symlink("lock", filepath.Join(dir, "link")))
	n, err := dirBytes(dir)
	if err != nil || n != 1024 {
		t.Errorf("dirBytes = %d, %v; want 1024", n, err)
	}
	if _, err := dirBytes(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dir: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
