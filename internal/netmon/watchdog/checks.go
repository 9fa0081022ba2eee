package watchdog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// checker checks one service once; ctx carries the check timeout.
type checker func(ctx context.Context) error

// ParsePID parses a pidfile's content: the first line, surrounding
// whitespace ignored, a decimal pid in 1..4194304 (PID_MAX_LIMIT).
func ParsePID(b []byte) (int, error) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, errors.New("pidfile is empty")
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid < 1 || pid > 1<<22 {
		return 0, fmt.Errorf("pidfile holds %q, not a pid", truncate(s, 32))
	}
	return pid, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func tcpCheck(addr string) checker {
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

// procState returns the state letter of /proc/<pid>/stat (R, S, Z, ...).
func procState(procRoot string, pid int) (byte, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')') // comm may hold spaces and parentheses
	if i < 0 || i+2 >= len(b) {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return b[i+2], nil
}

func pidfileCheck(procRoot, path string) checker {
	return func(ctx context.Context) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		pid, err := ParsePID(b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		st, err := procState(procRoot, pid)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("process %d (from %s) does not exist", pid, path)
		}
		if err != nil {
			return err
		}
		if st == 'Z' || st == 'X' {
			return fmt.Errorf("process %d (from %s) is a zombie", pid, path)
		}
		return nil
	}
}

// processCheck looks for a live process whose comm is name.
func processCheck(procRoot, name string) checker {
	return func(ctx context.Context) error {
		ents, err := os.ReadDir(procRoot)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid < 1 {
				continue
			}
			comm, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "comm"))
			if err != nil || strings.TrimSuffix(string(comm), "\n") != name {
				continue
			}
			if st, err := procState(procRoot, pid); err == nil && st != 'Z' && st != 'X' {
				return nil
			}
		}
		return fmt.Errorf("no running process named %q", name)
	}
}

// Systemd is the part of systemd's D-Bus API the watchdog uses. The
// production implementation is an adapter over
// github.com/coreos/go-systemd/v22/dbus (GetUnitPropertiesContext,
// RestartUnitContext); tests use a fake.
type Systemd interface {
	// UnitState returns the unit's ActiveState and SubState.
	UnitState(ctx context.Context, unit string) (active, sub string, err error)
	// RestartUnit restarts the unit and waits for the job to finish.
	RestartUnit(ctx context.Context, unit string) error
	Close()
}

// ErrNoSystemd is returned by a SystemdDialer when there is no systemd
// D-Bus to talk to.
var ErrNoSystemd = errors.New("systemd D-Bus not available")

func systemdCheck(sd Systemd, unit string) checker {
	return func(ctx context.Context) error {
		active, sub, err := sd.UnitState(ctx, unit)
		if err != nil {
			return err
		}
		if active != "active" {
			return fmt.Errorf("unit %s is %s (%s)", unit, active, sub)
		}
		return nil
	}
}
