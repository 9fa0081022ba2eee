package bench

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Bounds of starting and stopping a server.
const (
	readyTimeout = 20 * time.Second // start to ready
	stopGrace    = 10 * time.Second // SIGTERM to exit, then SIGKILL
	pollEvery    = 50 * time.Millisecond
)

// server is a program under test: an MQTT broker run as a child process.
type server interface {
	// start writes the server's configuration into dir (its own fresh
	// directory), starts it on free loopback ports and waits, bounded,
	// until it serves.
	start(dir string, sc Scenario, l Load) error
	mqttAddr() string // host:port of its MQTT listener
	proc() *proc      // nil before start
}

// store is what a server that stores readings offers beyond MQTT.
type store interface {
	queryURL() string // base URL of the Prometheus query API
	tsdbDir() string  // where the time series are on disk
}

// uplinked is a server that forwards to a cloud broker of its own.
type uplinked interface {
	cloudAddr() string // "" when the scenario has no uplink
	cloudProc() *proc
}

// newServer returns the server a scenario runs.
func newServer(sc Scenario, opts Options) (server, error) {
	switch sc.Server {
	case ServerBorda:
		return &borda{bin: opts.BordaBin, cloudBin: opts.MosquittoBin}, nil
	case ServerMosquitto:
		return &mosquitto{bin: opts.MosquittoBin}, nil
	}
	return nil, fmt.Errorf("scenario %s: unknown server %q", sc.Name, sc.Server)
}

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago (all listened on at once, then released).
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitReady polls ready until it reports true, the process exits or
// readyTimeout passes.
func waitReady(p *proc, what string, ready func() bool) error {
	deadline := time.Now().Add(readyTimeout)
	for !ready() {
		if p.exited() {
			return fmt.Errorf("%s exited while starting: %v\n%s", p.name, p.cmd.ProcessState, indent(p.output()))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s not ready within %s\n%s", p.name, what, readyTimeout, indent(p.output()))
		}
		time.Sleep(pollEvery)
	}
	return nil
}

// tcpAccepts reports whether something accepts connections on addr.
func tcpAccepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// indent prefixes each line of s (a child's output) for error messages.
func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (no output)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// cleanups is a stack of undo steps, run last-in first-out. Every
// resource a scenario acquires is pushed as soon as it exists, so error
// paths release it too.
type cleanups []func() error

func (c *cleanups) push(f func() error) { *c = append(*c, f) }

// run runs and clears the stack, joining the errors.
func (c *cleanups) run() error {
	var errs []error
	for i := len(*c) - 1; i >= 0; i-- {
		errs = append(errs, (*c)[i]())
	}
	*c = nil
	return errors.Join(errs...)
}
