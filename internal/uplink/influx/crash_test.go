package influx

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/borda-edge/borda/internal/testkit"
)

const (
	crashEnv    = "BORDA_INFLUX_CRASH" // "<data dir> <server URL>"
	crashPer    = 10                   // points per Append
	crashRounds = 100_000              // bound on the child's loop if nobody kills it
	crashKillAt = 100                  // reports read before the parent kills the child
)

// crashBase is the readings' time: fixed, so both processes agree.
func crashBase() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// TestCrashHelper is the child of TestCrash: it runs an output (fsync on,
// the default) and appends readings in a loop, printing the number of
// points acknowledged after each Append returns.
func TestCrashHelper(t *testing.T) {
	env := os.Getenv(crashEnv)
	if env == "" {
		t.Skip("child process of TestCrash")
	}
	dir, url, _ := strings.Cut(env, " ")
	cfg := testConfig(url)
	cfg.Queue.Fsync = true
	o, err := New(cfg, Deps{DataDir: dir})
	if err != nil {
		fmt.Println("new:", err)
		os.Exit(2)
	}
	go func() { _ = o.Run(context.Background()) }()
	<-o.Ready()
	for i := range crashRounds {
		if err := o.Append(context.Background(), readings("crash", i*crashPer, crashPer, crashBase())); err != nil {
			fmt.Println("append:", err)
			os.Exit(2)
		}
		fmt.Printf("acked %d\n", (i+1)*crashPer)
	}
	os.Exit(3) // never killed
}

// TestCrash: borda (a child process running the output) is killed with
// SIGKILL while it appends and sends; a new output on the same data dir
// delivers every point the child had acknowledged: 0 missing. With the
// server down the whole stream is a backlog on disk; with the server up
// some points were delivered, some in flight, some queued.
func TestCrash(t *testing.T) {
	for _, up := range []bool{false, true} {
		t.Run(fmt.Sprintf("server_up=%v", up), func(t *testing.T) {
			s := testkit.NewInfluxd(t)
			if up {
				s.Start(t)
				s.CreateDatabase(t, "borda")
			}
			dir := t.TempDir()
			acked := runAndKill(t, dir, s.URL)
			if !up {
				s.Start(t)
				s.CreateDatabase(t, "borda")
			}
			start(t, testConfig(s.URL), dir)
			var got map[int]int
			testkit.Eventually(t, waitLong, fmt.Sprintf("the %d acknowledged points", acked), func() bool {
				got = values(t, s, "borda", "crash")
				return len(got) >= acked
			})
			for v := range acked {
				if got[v] != 1 {
					t.Fatalf("value %d acknowledged before kill -9 but stored %d times", v, got[v])
				}
			}
			t.Logf("killed after %d acknowledged points; %d stored", acked, len(got))
		})
	}
}

// runAndKill starts the helper, reads its reports, kills it with SIGKILL
// and returns the number of points it reported acknowledged.
func runAndKill(t *testing.T, dir, url string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir+" "+url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	// Bounded: a child that hangs is killed after waitLong and the test fails.
	hang := time.AfterFunc(waitLong, func() { _ = cmd.Process.Kill() })
	defer hang.Stop()
	acked, reports := 0, 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		v, ok := strings.CutPrefix(line, "acked ")
		if !ok {
			if !strings.HasPrefix(line, "=== RUN") {
				t.Logf("helper: %s", line)
			}
			continue
		}
		if acked, err = strconv.Atoi(v); err != nil {
			t.Fatalf("helper said %q", line)
		}
		if reports++; reports == crashKillAt {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill helper: %v", err)
			}
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper did not die of SIGKILL: %v (reports %d)", err, reports)
	}
	if reports < crashKillAt {
		t.Fatalf("helper reported %d appends in %v, want %d", reports, waitLong, crashKillAt)
	}
	return acked
}
