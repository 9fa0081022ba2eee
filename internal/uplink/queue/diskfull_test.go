package queue

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

const diskFullEnv = "BORDA_QUEUE_DISKFULL_PATH"

// TestDiskFullHelper is the child of TestDiskFull: with a 2 MiB file size
// limit (RLIMIT_FSIZE, so writes fail with EFBIG like on a full disk) it
// appends until Append fails, then checks the queue still works, also
// once there is room again, and that a reopen finds exactly what was
// appended (the failed write left nothing behind).
func TestDiskFullHelper(t *testing.T) {
	path := os.Getenv(diskFullEnv)
	if path == "" {
		t.Skip("child process of TestDiskFull")
	}
	signal.Ignore(syscall.SIGXFSZ)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		fmt.Println("getrlimit:", err)
		os.Exit(2)
	}
	lim := syscall.Rlimit{Cur: 2 << 20, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		fmt.Println("setrlimit:", err)
		os.Exit(2)
	}
	fmt.Println(diskFullRun(t, path, func() error { return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) }))
	os.Exit(0)
}

func diskFullRun(t *testing.T, path string, room func() error) string {
	q, err := Open(path, Config{MaxBytes: 1 << 40, MaxAge: time.Hour}, Deps{Name: "full"})
	if err != nil {
		return "open: " + err.Error()
	}
	defer q.Close()
	ctx := context.Background()
	var appendErr error
	appended := 0
	for range 10_000 {
		if appendErr = q.Append(ctx, benchBatch(10)); appendErr != nil {
			break
		}
		appended += 10
	}
	if appendErr == nil {
		return "no append error"
	}
	if n := testutil.ToFloat64(q.met.appendErrors); n != 1 {
		return fmt.Sprintf("append errors counted %v, want 1", n)
	}
	if got := q.Stats().Entries; got != appended {
		return fmt.Sprintf("stats: %d entries, appended %d", got, appended)
	}
	items, err := q.Next(ctx, 100) // entries appended before the error are intact
	if err != nil || len(items) != 100 {
		return fmt.Sprintf("next after disk full: %d items, %v", len(items), err)
	}
	if err := q.Ack(items[0].Seq); err != nil {
		return "ack: " + err.Error()
	}
	if err := room(); err != nil {
		return "setrlimit: " + err.Error()
	}
	if err := q.Append(ctx, benchBatch(10)); err != nil {
		return "append once there is room: " + err.Error()
	}
	checkCounters(t, q)
	if err := q.Close(); err != nil {
		return "close: " + err.Error()
	}
	q, err = Open(path, Config{MaxBytes: 1 << 40, MaxAge: time.Hour}, Deps{Name: "full"})
	if err != nil {
		return "reopen: " + err.Error()
	}
	if got, want := q.Stats().Entries, appended+10-1; got != want {
		return fmt.Sprintf("after reopen: %d entries, want %d", got, want)
	}
	return fmt.Sprintf("ok appended=%d err=%v", appended, appendErr)
}

func TestDiskFull(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFullHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), diskFullEnv+"="+filepath.Join(t.TempDir(), "q.db"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok appended=") || !strings.Contains(string(out), "file too large") {
		t.Fatalf("helper output:\n%s", out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
}
