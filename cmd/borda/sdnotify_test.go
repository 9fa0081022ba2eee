package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// notifySocket plays systemd's notify socket: NOTIFY_SOCKET points at it
// and the returned channel gets every datagram borda sends.
func notifySocket(t *testing.T, watchdog time.Duration) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "")
	if watchdog > 0 {
		t.Setenv("WATCHDOG_USEC", strconv.FormatInt(watchdog.Microseconds(), 10))
	}
	ch := make(chan string, 100)
	go func() {
		defer close(ch)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			select {
			case ch <- string(buf[:n]):
			default:
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return ch
}

func nextNotify(t *testing.T, ch <-chan string, timeout time.Duration) string {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(timeout):
		t.Fatalf("no notification in %s", timeout)
		return ""
	}
}

// Under systemd (Type=notify, WatchdogSec=) borda says READY=1 once every
// component is ready, feeds the watchdog while its HTTP server answers and
// says STOPPING=1 when it shuts down.
func TestSystemdNotify(t *testing.T) {
	ch := notifySocket(t, 200*time.Millisecond)
	g := startGateway(t, testConfig(t))
	if m := nextNotify(t, ch, 10*time.Second); m != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", m)
	}
	for range 3 {
		if m := nextNotify(t, ch, time.Second); m != "WATCHDOG=1" {
			t.Fatalf("got %q, want WATCHDOG=1", m)
		}
	}
	g.stop(t)
	for {
		if m := nextNotify(t, ch, 5*time.Second); m == "STOPPING=1" {
			return
		}
	}
}

// A failing liveness check stops the WATCHDOG=1 stream (so systemd kills
// and restarts a hung borda); it resumes when the check passes again.
func TestSystemdWatchdogFollowsLiveness(t *testing.T) {
	ch := notifySocket(t, 100*time.Millisecond)
	var sick atomic.Bool
	alive := func(context.Context) error {
		if sick.Load() {
			return errors.New("hung")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runSystemdNotify(ctx, slog.New(slog.DiscardHandler), alive) }()
	defer func() { cancel(); <-done }()
	if m := nextNotify(t, ch, 2*time.Second); m != "READY=1" {
		t.Fatalf("got %q", m)
	}
	nextNotify(t, ch, time.Second) // WATCHDOG=1
	sick.Store(true)
	drain := time.After(100 * time.Millisecond) // one tick may have been on its way
	for quiet := false; !quiet; {
		select {
		case <-ch:
		case <-drain:
			quiet = true
		}
	}
	select {
	case m := <-ch:
		t.Fatalf("notified %q while the liveness check fails", m)
	case <-time.After(300 * time.Millisecond):
	}
	sick.Store(false)
	if m := nextNotify(t, ch, time.Second); m != "WATCHDOG=1" {
		t.Fatalf("got %q after recovery", m)
	}
}

// Not under systemd: nothing is sent and Run just waits.
func TestSystemdNotifyAbsent(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := runSystemdNotify(ctx, slog.New(slog.DiscardHandler), nil); err != nil {
		t.Fatal(err)
	}
}
