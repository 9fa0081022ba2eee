package watchdog

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// helperArg as os.Args[1] turns the test binary into a helper process:
//
//	watchdog-helper serve ADDR PIDFILE   listen on ADDR, write PIDFILE, serve until killed (60 s at most)
//	watchdog-helper spawn ADDR PIDFILE   start "serve" detached (own session, no stdio) and exit 0
//	watchdog-helper fail                 print to stdout and stderr and exit 3
const helperArg = "watchdog-helper"

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == helperArg {
		os.Exit(helper(os.Args[2:]))
	}
	goleak.VerifyTestMain(m)
}

func helper(args []string) int {
	switch args[0] {
	case "serve":
		ln, err := net.Listen("tcp", args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		tmp := args[2] + ".tmp"
		if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return 1
		}
		if err := os.Rename(tmp, args[2]); err != nil {
			return 1
		}
		go func() { time.Sleep(60 * time.Second); os.Exit(0) }() // never outlive a broken test
		for {
			c, err := ln.Accept()
			if err != nil {
				return 1
			}
			c.Close()
		}
	case "spawn":
		cmd := serveCmd(args[1], args[2])
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("spawned", cmd.Process.Pid)
		cmd.Process.Release()
		return 0
	case "fail":
		fmt.Println("starting service")
		fmt.Fprintln(os.Stderr, "boom: cannot start")
		return 3
	}
	return 2
}

// serveCmd starts a detached "serve" helper.
func serveCmd(addr, pidfile string) *exec.Cmd {
	exe, _ := os.Executable()
	cmd := exec.Command(exe, helperArg, "serve", addr, pidfile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// killPidfile kills whatever process the pidfile names (best effort).
func killPidfile(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if pid, err := ParsePID(b); err == nil {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func testExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}
