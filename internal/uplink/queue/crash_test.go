package queue

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	crashEnv     = "BORDA_QUEUE_CRASH_PATH"
	crashBatch   = 10
	crashRounds  = 100_000 // bound on the child's loop if nobody kills it
	crashKillAt  = 300     // reports read before the parent kills the child
	crashPayload = 200
)

// TestCrashHelper is the child of TestCrash: it appends batches in a loop
// and prints the highest appended sequence after each Append returns.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("child process of TestCrash")
	}
	q, err := Open(path, Config{MaxBytes: 1 << 40, MaxAge: 24 * time.Hour, Fsync: os.Getenv(crashEnv+"_FSYNC") == "1"}, Deps{Name: "crash"})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	if os.Getenv(crashEnv+"_ACK") == "1" {
		go crashConsume(q)
	}
	var n uint64
	for range crashRounds {
		es := make([]Entry, crashBatch)
		for j := range es {
			n++
			es[j] = Entry{Priority: Priority(n % 2), Key: fmt.Sprint("k", n%7), Data: crashData(n)}
		}
		if err := q.Append(context.Background(), es); err != nil {
			fmt.Println("append:", err)
			os.Exit(2)
		}
		fmt.Printf("appended %d\n", n)
	}
	os.Exit(3) // never killed
}

// crashConsume takes every entry and acks those whose number is a
// multiple of 3; the others stay in flight (never acked).
func crashConsume(q *Queue) {
	for {
		items, err := q.Next(context.Background(), 100)
		if err != nil {
			fmt.Println("next:", err)
			os.Exit(2)
		}
		var acks []uint64
		for _, it := range items {
			if binary.BigEndian.Uint64(it.Data)%3 == 0 {
				acks = append(acks, it.Seq)
			}
		}
		if err := q.Ack(acks...); err != nil {
			fmt.Println("ack:", err)
			os.Exit(2)
		}
	}
}

// crashData is 200 bytes starting with the entry's number.
func crashData(n uint64) []byte {
	d := make([]byte, crashPayload)
	binary.BigEndian.PutUint64(d, n)
	return d
}

// TestCrash kills a child process appending in a loop with SIGKILL: every
// entry it was told is appended is there after Open. With a consumer
// acking every third entry and keeping the others in flight, no entry it
// did not ack is missing (acked ones may come back: at most those acked
// since the last checkpoint).
func TestCrash(t *testing.T) {
	for _, ack := range []bool{false, true} {
		for _, fsync := range []bool{false, true} {
			t.Run(fmt.Sprintf("fsync=%v/ack=%v", fsync, ack), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "q.db")
				last := runAndKill(t, path, fsync, ack)
				seen := drainAll(t, path)
				back := 0
				for n := uint64(1); n <= last; n++ {
					switch {
					case ack && n%3 == 0:
						if seen[n] {
							back++
						}
					case !seen[n]:
						t.Fatalf("entry %d was reported appended (last %d) but is missing after kill -9", n, last)
					}
				}
				t.Logf("killed after %d reported appends; %d entries on disk, all reported unacked ones present; %d acked ones delivered again",
					last, len(seen), back)
			})
		}
	}
}

// runAndKill starts the helper, reads its reports, kills it with SIGKILL
// mid-way and returns the highest sequence it reported as appended.
func runAndKill(t *testing.T, path string, fsync, ack bool) uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	flag := map[bool]string{true: "1"}
	cmd.Env = append(os.Environ(), crashEnv+"="+path, crashEnv+"_FSYNC="+flag[fsync], crashEnv+"_ACK="+flag[ack])
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	var last uint64
	sc := bufio.NewScanner(out)
	reports := 0
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "appended "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatalf("helper said %q", line)
			}
			last = n
			if reports++; reports == crashKillAt {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatalf("kill helper: %v", err)
				}
			}
		} else if !strings.HasPrefix(line, "=== RUN") {
			t.Logf("helper: %s", line)
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper did not die of SIGKILL: %v (reports %d)", err, reports)
	}
	if reports < crashKillAt {
		t.Fatalf("helper reported %d appends, want ≥ %d", reports, crashKillAt)
	}
	return last
}

// drainAll reopens the queue and returns the numbers of all stored entries.
func drainAll(t *testing.T, path string) map[uint64]bool {
	t.Helper()
	q, err := Open(path, Config{MaxBytes: 1 << 40, MaxAge: 24 * time.Hour}, Deps{Name: "crash"})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer q.Close()
	checkCounters(t, q)
	seen := map[uint64]bool{}
	total := q.Stats().Entries
	for len(seen) < total {
		items, err := q.Next(context.Background(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			n := binary.BigEndian.Uint64(it.Data)
			if it.Seq != n || len(it.Data) != crashPayload {
				t.Fatalf("seq %d holds entry %d (%d bytes)", it.Seq, n, len(it.Data))
			}
			seen[n] = true
		}
	}
	return seen
}
