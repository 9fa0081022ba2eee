package testkit

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// StartRedis runs redis-server (Debian package redis-server) on
// 127.0.0.1:port without persistence and waits until it accepts
// connections. It is stopped by PID when the test ends.
func StartRedis(t testing.TB, port int) *Process {
	t.Helper()
	bin := RequireCommand(t, "redis-server", "redis-server")
	p := Start(t, bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	return p
}
